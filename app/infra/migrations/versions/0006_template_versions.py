"""Templates as versioned data (`app.templates`); renders pin the version they use.

Revision ID: 0006
Revises: 0005
Created: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "templates",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("published_id", sa.String(length=40), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_table(
        "template_versions",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("template", sa.String(length=64), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("files", sa.JSON(), nullable=False),
        sa.Column("parent", sa.Integer(), nullable=True),
        sa.Column("author", sa.String(length=200), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("updated_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["template"],
            ["templates.name"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("template", "number"),
    )
    with op.batch_alter_table("template_versions", schema=None) as batch_op:
        batch_op.create_index(
            "ux_template_versions_published",
            ["template"],
            unique=True,
            sqlite_where=sa.text("state = 'published'"),
            postgresql_where=sa.text("state = 'published'"),
        )

    with op.batch_alter_table("renders", schema=None) as batch_op:
        batch_op.add_column(sa.Column("template_version_id", sa.String(length=40), nullable=True))
        batch_op.add_column(
            sa.Column("purpose", sa.String(length=16), server_default="bill", nullable=False)
        )
        batch_op.create_foreign_key(
            "fk_renders_template_version_id", "template_versions", ["template_version_id"], ["id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("renders", schema=None) as batch_op:
        batch_op.drop_constraint("fk_renders_template_version_id", type_="foreignkey")
        batch_op.drop_column("purpose")
        batch_op.drop_column("template_version_id")

    with op.batch_alter_table("template_versions", schema=None) as batch_op:
        batch_op.drop_index(
            "ux_template_versions_published",
            sqlite_where=sa.text("state = 'published'"),
            postgresql_where=sa.text("state = 'published'"),
        )

    op.drop_table("template_versions")
    op.drop_table("templates")
