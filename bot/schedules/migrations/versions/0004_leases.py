"""Leases on ledger rows and edits, so several processes can share one database: a pending row
is sent (an edit made) by the process whose lease on it is current (owner, expiry); an expired
lease is free."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("deliveries") as table:
        table.add_column(sa.Column("lease_owner", sa.String(64)))
        table.add_column(sa.Column("lease_until", sa.DateTime(timezone=True)))
    op.create_index("deliveries_by_state", "deliveries", ["state", "platform"])
    with op.batch_alter_table("edits") as table:
        table.add_column(sa.Column("lease_owner", sa.String(64)))
        table.add_column(sa.Column("lease_until", sa.DateTime(timezone=True)))


def downgrade() -> None:
    with op.batch_alter_table("edits") as table:
        table.drop_column("lease_until")
        table.drop_column("lease_owner")
    op.drop_index("deliveries_by_state", "deliveries")
    with op.batch_alter_table("deliveries") as table:
        table.drop_column("lease_until")
        table.drop_column("lease_owner")
