"""Alembic's environment: always run on the connection `app.infra.schema` hands in."""

from __future__ import annotations

from alembic import context

from app.infra.database import Base

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters by copying a table
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
