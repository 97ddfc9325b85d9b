"""Read and re-queue rows of the delivery ledger for the desk (the ledger itself is the store's)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update

from bot.schedules.spec import Delivery
from bot.schedules.store import Store, _delivery, deliveries

LIMIT = 500


def rows(store: Store, **filters: str) -> list[Delivery]:
    """Newest first; ``filters`` are exact matches on platform, state, digest_id, schedule_id."""
    query = select(deliveries)
    for name, value in filters.items():
        if value:
            query = query.where(getattr(deliveries.c, name) == value)
    with store.engine.begin() as conn:
        found = conn.execute(query.order_by(deliveries.c.updated_at.desc()).limit(LIMIT))
        return [_delivery(row._mapping) for row in found]


def requeue(store: Store, key: tuple[str, str, str, str]) -> Delivery | None:
    """A failed row back to pending and free to lease (a retry: whichever process leases it
    first sends it); None unless it was failed."""
    platform, channel, digest_id, slot = key
    where: list[Any] = [
        deliveries.c.platform == platform,
        deliveries.c.channel == channel,
        deliveries.c.digest_id == digest_id,
        deliveries.c.slot == slot,
        deliveries.c.state == "failed",
    ]
    with store.engine.begin() as conn:
        done = conn.execute(
            update(deliveries)
            .where(*where)
            .values(state="pending", error=None, lease_owner=None, lease_until=None)
        )
    return store.get(key) if done.rowcount else None
