"""The schema of the first release: chat schedules, the delivery ledger, progress marks."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "schedules",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("spec", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "deliveries",
        sa.Column("platform", sa.String(16), primary_key=True),
        sa.Column("channel", sa.String(255), primary_key=True),
        sa.Column("digest_id", sa.String(80), primary_key=True),
        sa.Column("slot", sa.String(32), primary_key=True),
        sa.Column("schedule_id", sa.String(64), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("message_id", sa.String(64)),
        sa.Column("error", sa.Text),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "marks",
        sa.Column("schedule_id", sa.String(64), primary_key=True),
        sa.Column("last_slot", sa.String(32), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("marks")
    op.drop_table("deliveries")
    op.drop_table("schedules")
