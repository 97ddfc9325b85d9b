"""Each scheduled channel's kind, recorded by the process that sees its server: the sender, which
caches only its own shards' servers, posts to a plain or announcement channel without asking
Discord for it first."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "channel_kinds",
        sa.Column("platform", sa.String(16), primary_key=True),
        sa.Column("channel", sa.String(255), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("guild", sa.String(32)),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("channel_kinds")
