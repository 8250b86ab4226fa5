"""Reminder journeys (`app.journeys`): versioned journeys, the bills on them, their
scheduled steps and decisions; renders may force a tone.

Revision ID: 0007
Revises: 0006
Created: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "journeys",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("account", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("latest", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("account", "name"),
    )
    op.create_table(
        "journey_versions",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("journey_id", sa.String(length=40), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("definition", sa.JSON(), nullable=False),
        sa.Column("author", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["journey_id"],
            ["journeys.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("journey_id", "number"),
    )
    op.create_table(
        "bill_journeys",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("account", sa.String(length=40), nullable=False),
        sa.Column("customer_id", sa.String(length=64), nullable=False),
        sa.Column("render_id", sa.String(length=40), nullable=False),
        sa.Column("journey_version_id", sa.String(length=40), nullable=False),
        sa.Column("time_zone", sa.String(length=64), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("stop_reason", sa.String(length=32), nullable=True),
        sa.Column("stopped_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["journey_version_id"],
            ["journey_versions.id"],
        ),
        sa.ForeignKeyConstraint(
            ["render_id"],
            ["renders.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("render_id"),
    )
    with op.batch_alter_table("bill_journeys", schema=None) as batch_op:
        batch_op.create_index("ix_bill_journeys_customer", ["account", "customer_id"], unique=False)

    op.create_table(
        "journey_decisions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("bill_journey_id", sa.String(length=40), nullable=False),
        sa.Column("step_id", sa.String(length=40), nullable=True),
        sa.Column("position", sa.Integer(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decision", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=True),
        sa.Column("render_id", sa.String(length=40), nullable=True),
        sa.Column("until", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["bill_journey_id"],
            ["bill_journeys.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("journey_decisions", schema=None) as batch_op:
        batch_op.create_index("ix_journey_decisions_bill", ["bill_journey_id", "id"], unique=False)

    op.create_table(
        "journey_steps",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("bill_journey_id", sa.String(length=40), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("account", sa.String(length=40), nullable=False),
        sa.Column("customer_id", sa.String(length=64), nullable=False),
        sa.Column("template", sa.String(length=80), nullable=False),
        sa.Column("tone", sa.String(length=16), nullable=False),
        sa.Column("outputs", sa.JSON(), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("window_ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=True),
        sa.Column("render_id", sa.String(length=40), nullable=False),
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("template_version_id", sa.String(length=40), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("webhook_id", sa.String(length=40), nullable=True),
        sa.ForeignKeyConstraint(
            ["bill_journey_id"],
            ["bill_journeys.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("bill_journey_id", "position"),
        sa.UniqueConstraint("render_id"),
    )
    with op.batch_alter_table("journey_steps", schema=None) as batch_op:
        batch_op.create_index(
            "ix_journey_steps_contacts", ["account", "customer_id", "started_at"], unique=False
        )
        batch_op.create_index(
            "ix_journey_steps_due",
            ["due_at"],
            unique=False,
            sqlite_where=sa.text("status = 'scheduled'"),
            postgresql_where=sa.text("status = 'scheduled'"),
        )

    with op.batch_alter_table("renders", schema=None) as batch_op:
        batch_op.add_column(sa.Column("forced_tone", sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("renders", schema=None) as batch_op:
        batch_op.drop_column("forced_tone")

    with op.batch_alter_table("journey_steps", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_journey_steps_due",
            sqlite_where=sa.text("status = 'scheduled'"),
            postgresql_where=sa.text("status = 'scheduled'"),
        )
        batch_op.drop_index("ix_journey_steps_contacts")

    op.drop_table("journey_steps")
    with op.batch_alter_table("journey_decisions", schema=None) as batch_op:
        batch_op.drop_index("ix_journey_decisions_bill")

    op.drop_table("journey_decisions")
    with op.batch_alter_table("bill_journeys", schema=None) as batch_op:
        batch_op.drop_index("ix_bill_journeys_customer")

    op.drop_table("bill_journeys")
    op.drop_table("journey_versions")
    op.drop_table("journeys")
