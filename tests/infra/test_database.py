"""The database: processes starting together on a fresh one all come up."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

from sqlalchemy import inspect

from app.infra.database import Base, Database
from app.infra.schema import migrate

STARTERS = 8
# Each round races on a new file; one round lost the race about one time in eight before
# the journal switch waited its turn, so several rounds make a regression show.
ROUNDS = 10


def _start(urls: list[str], barrier: object) -> None:
    try:
        for url in urls:
            barrier.wait(timeout=60)  # type: ignore[attr-defined]  # all at once, to race
            database = Database(url)
            migrate(database.engine)
            database.dispose()
    except BaseException:
        barrier.abort()  # type: ignore[attr-defined]  # the others stop waiting for this one
        raise


def test_processes_starting_together_on_a_fresh_database_all_come_up(tmp_path: Path) -> None:
    urls = [f"sqlite:///{tmp_path / f'billreel-{round}.db'}" for round in range(ROUNDS)]
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(STARTERS)
    starters = [context.Process(target=_start, args=(urls, barrier)) for _ in range(STARTERS)]
    for process in starters:
        process.start()
    for process in starters:
        process.join(timeout=120)
    for process in starters:
        if process.is_alive():
            process.kill()
    assert [process.exitcode for process in starters] == [0] * STARTERS
    for url in urls:
        database = Database(url)
        assert set(inspect(database.engine).get_table_names()) >= set(Base.metadata.tables)
        with database.engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        database.dispose()
