"""Experiments as data (`app.experiments`): experiments and their arms; a render records
the experiment and arm it was put in.

Revision ID: 0008
Revises: 0007
Created: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "experiments",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("account", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("template", sa.String(length=64), nullable=False),
        sa.Column("journey", sa.String(length=64), nullable=False),
        sa.Column("journey_step", sa.Integer(), nullable=False),
        sa.Column("metric", sa.String(length=32), nullable=False),
        sa.Column("overdue_window_days", sa.Integer(), nullable=False),
        sa.Column("control", sa.String(length=40), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("winner", sa.String(length=40), nullable=True),
        sa.Column("author", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("stopped_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("experiments", schema=None) as batch_op:
        batch_op.create_index("ix_experiments_account", ["account", "created_at"], unique=False)
        batch_op.create_index(
            "ux_experiments_running",
            ["account", "template", "journey", "journey_step"],
            unique=True,
            sqlite_where=sa.text("state = 'running'"),
            postgresql_where=sa.text("state = 'running'"),
        )

    op.create_table(
        "experiment_arms",
        sa.Column("experiment_id", sa.String(length=40), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("weight", sa.Float(), nullable=False),
        sa.Column("holdout", sa.Boolean(), nullable=False),
        sa.Column("template_version_id", sa.String(length=40), nullable=True),
        sa.Column("template_version", sa.String(length=80), nullable=True),
        sa.ForeignKeyConstraint(
            ["experiment_id"], ["experiments.id"], name="fk_experiment_arms_experiment_id"
        ),
        sa.ForeignKeyConstraint(
            ["template_version_id"],
            ["template_versions.id"],
            name="fk_experiment_arms_template_version_id",
        ),
        sa.PrimaryKeyConstraint("experiment_id", "position"),
    )
    with op.batch_alter_table("renders", schema=None) as batch_op:
        batch_op.add_column(sa.Column("experiment_id", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("experiment_arm", sa.String(length=40), nullable=True))
        batch_op.create_index(
            "ix_renders_experiment", ["experiment_id", "experiment_arm"], unique=False
        )
        batch_op.create_foreign_key(
            "fk_renders_experiment_id", "experiments", ["experiment_id"], ["id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("renders", schema=None) as batch_op:
        batch_op.drop_constraint("fk_renders_experiment_id", type_="foreignkey")
        batch_op.drop_index("ix_renders_experiment")
        batch_op.drop_column("experiment_arm")
        batch_op.drop_column("experiment_id")

    op.drop_table("experiment_arms")
    with op.batch_alter_table("experiments", schema=None) as batch_op:
        batch_op.drop_index(
            "ux_experiments_running",
            sqlite_where=sa.text("state = 'running'"),
            postgresql_where=sa.text("state = 'running'"),
        )
        batch_op.drop_index("ix_experiments_account")

    op.drop_table("experiments")
