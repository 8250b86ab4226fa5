"""Schema migrations: the revisions make the models' tables, and an old database catches up.

On SQLite and on a real PostgreSQL server.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import Engine

from app.access.keys import authenticate, hash_key, list_keys
from app.infra.database import Base, Database
from app.infra.schema import FIRST_REVISION, MIGRATIONS, current_revision, head_revision, migrate
from tests.pg import postgres_server, postgres_url  # noqa: F401 (fixtures)

OLD_KEY = "brk_" + "k" * 43  # a key made before keys had a scope or an account


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'billreel.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
    made = create_engine(url)
    yield made
    made.dispose()


def _upgrade(engine: Engine, revision: str) -> None:
    """Run the revisions themselves, as a database made before migrations would have."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def test_the_revisions_make_exactly_the_models_tables(engine: Engine) -> None:
    _upgrade(engine, "head")
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert differences == []


def test_an_empty_database_gets_the_tables_and_the_newest_revision(engine: Engine) -> None:
    migrate(engine)
    migrate(engine)  # a second start changes nothing
    assert set(inspect(engine).get_table_names()) == {*Base.metadata.tables, "alembic_version"}
    with engine.connect() as connection:
        assert current_revision(connection) == head_revision()


def test_a_database_from_before_migrations_is_upgraded_and_keeps_its_keys(
    engine: Engine,
) -> None:
    _upgrade(engine, FIRST_REVISION)
    with engine.begin() as connection:
        connection.execute(text("DROP TABLE alembic_version"))  # create_all made no such table
        connection.execute(
            text(
                "INSERT INTO api_keys (id, name, key_hash, prefix, created_at) "
                "VALUES ('key_old', 'billing', :hash, :prefix, CURRENT_TIMESTAMP)"
            ),
            {"hash": hash_key(OLD_KEY), "prefix": OLD_KEY[:10]},
        )
    migrate(engine)
    with engine.connect() as connection:
        assert current_revision(connection) == head_revision()
    database = Database(engine.url.render_as_string(hide_password=False))
    [old] = list_keys(database)
    assert (old.id, old.scope, old.account, old.last_used_at) == (
        "key_old",
        "billing",
        "key_old",
        None,
    )
    key = authenticate(database, OLD_KEY)
    database.dispose()
    assert key is not None and key.id == "key_old"
