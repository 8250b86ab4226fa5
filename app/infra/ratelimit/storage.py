"""A `limits` storage on the service's database, for fixed windows, shared by every process.

One row per counter: its key, its count and when its window ends. An increment is one
upsert (`INSERT ... ON CONFLICT DO UPDATE ... RETURNING`, on SQLite and PostgreSQL alike), so
two processes counting the same client never lose a hit; a row whose window has ended
starts again at the increment. Rows of ended windows are removed now and then.
"""

from __future__ import annotations

import random
import time
from typing import Any

from limits.storage import Storage
from sqlalchemy import case, delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError

from app.infra.database import Database, RateLimitCounter

SCHEME = "billreel+db"
PRUNE_CHANCE = 0.01  # of an increment also deleting the counters of ended windows


def storage_uri(redis_url: str | None) -> str:
    """Where Flask-Limiter keeps its counters: Redis when set, else this database storage."""
    return redis_url or f"{SCHEME}://"


class DatabaseStorage(Storage):
    STORAGE_SCHEME = [SCHEME]  # noqa: RUF012 - the limits library's registry reads a list

    def __init__(
        self, uri: str | None = None, wrap_exceptions: bool = False, **options: Any
    ) -> None:
        database = options.pop("database", None)
        if not isinstance(database, Database):
            raise TypeError("DatabaseStorage needs storage_options={'database': Database}")
        super().__init__(uri, wrap_exceptions=wrap_exceptions)
        self.db = database

    @property
    def base_exceptions(self) -> type[Exception]:
        return SQLAlchemyError

    def incr(self, key: str, expiry: float, amount: int = 1) -> int:
        now = time.time()
        table = RateLimitCounter.__table__
        insert = (postgresql if self._postgres else sqlite).insert(table)
        ended = table.c.expires_at <= now
        statement = insert.values(key=key, count=amount, expires_at=now + expiry)
        statement = statement.on_conflict_do_update(
            index_elements=[table.c.key],
            set_={
                "count": case((ended, amount), else_=table.c.count + amount),
                "expires_at": case((ended, now + expiry), else_=table.c.expires_at),
            },
        ).returning(table.c.count)
        with self.db.session() as session:
            count = int(session.execute(statement).scalar_one())
            if random.random() < PRUNE_CHANCE:  # noqa: S311 - housekeeping, not security
                session.execute(delete(RateLimitCounter).where(RateLimitCounter.expires_at <= now))
        return count

    def get(self, key: str) -> int:
        row = self._read(key)
        return int(row[0]) if row is not None and row[1] > time.time() else 0

    def get_expiry(self, key: str) -> float:
        row = self._read(key)
        return float(row[1]) if row is not None else time.time()

    def _read(self, key: str) -> tuple[int, float] | None:
        """One plain SELECT, no ORM unit of work: every customer-link request checks once."""
        table = RateLimitCounter.__table__
        query = select(table.c.count, table.c.expires_at).where(table.c.key == key)
        with self.db.engine.connect() as connection:
            row = connection.execute(query).first()
        return (row[0], row[1]) if row is not None else None

    def check(self) -> bool:
        try:
            with self.db.session() as session:
                session.execute(select(1))
        except SQLAlchemyError:
            return False
        return True

    def reset(self) -> int | None:
        with self.db.session() as session:
            return int(session.execute(delete(RateLimitCounter)).rowcount or 0)  # type: ignore[attr-defined]

    def clear(self, key: str) -> None:
        with self.db.session() as session:
            session.execute(delete(RateLimitCounter).where(RateLimitCounter.key == key))

    @property
    def _postgres(self) -> bool:
        return self.db.engine.dialect.name == "postgresql"
