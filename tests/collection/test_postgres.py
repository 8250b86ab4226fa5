"""The figures' SQL on a real PostgreSQL server: the same book, the same hand count."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from app.collection.dimensions import bill_text
from app.collection.figures import figures
from app.infra.services import Services
from app.infra.settings import Settings
from app.wiring import create_app
from tests.collection.kit import AS_OF, write_book
from tests.collection.test_figures import check_run_b, group
from tests.pg import postgres_server, postgres_url  # noqa: F401 (fixtures)


@pytest.fixture
def pg_services(tmp_path: Path, postgres_url: str) -> Iterator[Services]:  # noqa: F811
    settings = Settings(data_dir=tmp_path / "var", database_url=postgres_url)
    app = create_app(settings, start_queue=False, import_templates=False)
    services: Services = app.extensions["billreel"]
    assert services.db.engine.dialect.name == "postgresql"
    yield services
    services.db.dispose()


def test_every_dimension_and_the_hold_out_on_postgresql(pg_services: Services) -> None:
    book = write_book(pg_services.db)
    with pg_services.db.session() as session:
        # A session at UTC+14, where the 11:00 UTC payments fall on the next day: the days
        # counted are still UTC's.
        session.execute(text("SET TIME ZONE 'Pacific/Kiritimati'"))
        body = figures(session, book.account, by="batch", as_of=AS_OF)
        b = group(body, book.run_b)
        check_run_b(b)
        assert b["dso"]["change"]["change"] == 4.11
        nudge = next(c for c in b["cure"] if c["step"] == "gentle#2")
        assert nudge["before_next"]["cured"] == 1 and nudge["within"]["cured"] == 1
        steps = figures(session, book.account, by="step", batch=book.run_b, as_of=AS_OF)
        assert group(steps, "gentle#2")["bills"] == 3
        for by in ("segment", "tone", "template_version"):
            groups = figures(session, book.account, by=by, batch=book.run_b, as_of=AS_OF)
            assert sum(g["bills"] for g in groups["groups"] if g["currency"] == "EUR") == 5
        held = figures(
            session,
            book.account,
            by="batch",
            batch=book.run_b,
            as_of=AS_OF,
            holdout=bill_text("customer", "segment") == "forgetful",
        )
        assert group(held, book.run_b)["dso"]["change"]["against"] == "holdout"
