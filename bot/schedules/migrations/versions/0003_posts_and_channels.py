"""The release after flags (still ``create_all``): every message of a post, edits (corrections of
posted messages), live digests' snapshots, the publish budget's uses and holds, digest threads.

A database of that release is stamped ``0003``; one made between releases may have some of these
tables already, so each is created only when missing.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

TABLES = (
    "delivery_messages",
    "edits",
    "digest_snapshots",
    "publish_uses",
    "publish_holds",
    "digest_threads",
)


def _post_key() -> list[sa.Column[str]]:
    return [
        sa.Column("platform", sa.String(16), primary_key=True),
        sa.Column("channel", sa.String(255), primary_key=True),
        sa.Column("digest_id", sa.String(80), primary_key=True),
        sa.Column("slot", sa.String(32), primary_key=True),
    ]


def upgrade() -> None:
    have = set(sa.inspect(op.get_bind()).get_table_names())
    if "delivery_messages" not in have:
        op.create_table(
            "delivery_messages",
            *_post_key(),
            sa.Column("part", sa.Integer, primary_key=True),
            sa.Column("message_id", sa.String(255), nullable=False),
        )
    if "edits" not in have:
        op.create_table(
            "edits",
            *_post_key(),
            sa.Column("version", sa.String(32), primary_key=True),
            sa.Column("state", sa.String(16), nullable=False),
            sa.Column("attempts", sa.Integer, nullable=False),
            sa.Column("error", sa.Text),
            sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        )
    if "digest_snapshots" not in have:
        op.create_table(
            "digest_snapshots",
            sa.Column("digest_id", sa.String(80), primary_key=True),
            sa.Column("data", sa.Text, nullable=False),
            sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        )
    if "publish_uses" not in have:
        op.create_table(
            "publish_uses",
            sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
            sa.Column("channel", sa.String(255), nullable=False),
            sa.Column("at", sa.Float, nullable=False),
        )
        op.create_index("ix_publish_uses_channel", "publish_uses", ["channel"])
    if "publish_holds" not in have:
        op.create_table(
            "publish_holds",
            sa.Column("channel", sa.String(255), primary_key=True),
            sa.Column("until", sa.Float, nullable=False),
        )
    if "digest_threads" not in have:
        op.create_table(
            "digest_threads",
            sa.Column("platform", sa.String(16), primary_key=True),
            sa.Column("channel", sa.String(255), primary_key=True),
            sa.Column("digest_id", sa.String(80), primary_key=True),
            sa.Column("thread", sa.String(255), nullable=False),
        )


def downgrade() -> None:
    for name in reversed(TABLES):
        op.drop_table(name)
