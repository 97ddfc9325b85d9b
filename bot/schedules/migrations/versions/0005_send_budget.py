"""One send budget per token shared by every process: the global timetable (the next free
send time) and each channel's recent send times."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "send_budget",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("next_at", sa.Float, nullable=False),
    )
    op.create_table(
        "send_budget_channels",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("channel", sa.String(255), primary_key=True),
        sa.Column("stamps", sa.Text, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("send_budget_channels")
    op.drop_table("send_budget")
