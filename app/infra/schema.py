"""A database's tables brought to the newest revision of `app/infra/migrations` (Alembic).

- An empty database gets the models' tables at once (`create_all`) and is stamped with the
  newest revision: the same tables the revisions make, as a test checks, in a fraction of
  the time (every test starts on an empty database).
- A database made before there were migrations has the tables and no `alembic_version`: it
  is stamped with the first revision, then upgraded.
- Any other is upgraded to the newest revision; one already there is left as it is.

Processes that start together (an API and its workers) take turns: PostgreSQL through an
advisory lock, a SQLite file through an exclusive lock on a file beside it.
"""

from __future__ import annotations

import contextlib
import fcntl
from collections.abc import Iterator
from functools import cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, inspect, text

from app.infra.database import Base

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
FIRST_REVISION = "0001"
PG_LOCK_KEY = 0x62696C6C72656C  # "billrel": one advisory lock for billreel's migrations


@cache
def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


@cache
def head_revision() -> str:
    head = ScriptDirectory.from_config(_config()).get_current_head()
    assert head is not None, "app/infra/migrations has no revision"
    return head


def current_revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def migrate(engine: Engine) -> None:
    """Bring the database to the newest revision (see the module docstring)."""
    with _exclusive(engine), engine.begin() as connection:
        if current_revision(connection) == head_revision():
            return
        tables = set(inspect(connection).get_table_names())
        if not tables - {"alembic_version"}:
            Base.metadata.create_all(connection)
            _stamp(connection, head_revision())
            return
        if "alembic_version" not in tables:
            _stamp(connection, FIRST_REVISION)
        _config().attributes["connection"] = connection
        try:
            command.upgrade(_config(), "head")
        finally:
            _config().attributes.pop("connection", None)


def _stamp(connection: Connection, revision: str) -> None:
    MigrationContext.configure(connection).stamp(ScriptDirectory.from_config(_config()), revision)


@contextlib.contextmanager
def _exclusive(engine: Engine) -> Iterator[None]:
    url = engine.url
    if url.get_backend_name() == "postgresql":
        with engine.connect() as connection:
            connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": PG_LOCK_KEY})
            try:
                yield
            finally:
                connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": PG_LOCK_KEY})
        return
    database = url.database if url.get_backend_name() == "sqlite" else None
    if not database or database == ":memory:":
        yield  # one process owns an in-memory database
        return
    with open(f"{database}.migrate-lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
