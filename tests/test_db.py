"""The database: processes starting together on a fresh one all come up."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

from sqlalchemy import inspect

import app.webhooks  # noqa: F401  # its tables join the metadata, as in the service
from app.db import Base, Database

STARTERS = 8


def _start(url: str, barrier: object) -> None:

    barrier.wait()  # type: ignore[attr-defined]  # all at once, to race on the fresh file
    database = Database(url)
    database.create_all()
    database.dispose()


def test_processes_starting_together_on_a_fresh_database_all_come_up(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'billreel.db'}"
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(STARTERS)
    starters = [context.Process(target=_start, args=(url, barrier)) for _ in range(STARTERS)]
    for process in starters:
        process.start()
    for process in starters:
        process.join(timeout=120)
    assert [process.exitcode for process in starters] == [0] * STARTERS
    database = Database(url)
    assert set(inspect(database.engine).get_table_names()) >= set(Base.metadata.tables)
    database.dispose()
