"""On-demand video (`app.ondemand`): a render's video made when its page is first opened.

Revision ID: 0009
Revises: 0008
Created: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("renders", schema=None) as batch_op:
        batch_op.add_column(sa.Column("video_mode", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("video_state", sa.String(length=16), nullable=True))
        batch_op.add_column(
            sa.Column("video_attempts", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(
            sa.Column("video_updated_at", sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.create_index(
            "ix_renders_video_state",
            ["video_state", "video_updated_at"],
            sqlite_where=sa.text("video_state IN ('queued', 'rendering')"),
            postgresql_where=sa.text("video_state IN ('queued', 'rendering')"),
        )


def downgrade() -> None:
    with op.batch_alter_table("renders", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_renders_video_state",
            sqlite_where=sa.text("video_state IN ('queued', 'rendering')"),
            postgresql_where=sa.text("video_state IN ('queued', 'rendering')"),
        )
        batch_op.drop_column("video_updated_at")
        batch_op.drop_column("video_attempts")
        batch_op.drop_column("video_state")
        batch_op.drop_column("video_mode")
