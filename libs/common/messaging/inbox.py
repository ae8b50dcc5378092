"""Inbox de-duplication: an event's effects are applied only by the transaction that records its ce_id."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import Table
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession


async def claim(
    session: AsyncSession,
    inbox: Table,
    *,
    consumer: str,
    event_id: uuid.UUID,
    ce_type: str,
    topic: str,
    partition: int,
    offset: int,
) -> bool:
    """Record the event as applied by `consumer`; False when an earlier transaction already did."""
    stmt = (
        insert(inbox)
        .values(
            consumer=consumer,
            event_id=event_id,
            ce_type=ce_type,
            topic=topic,
            partition=partition,
            offset=offset,
        )
        .on_conflict_do_nothing()
        .returning(inbox.c.event_id)
    )
    return (await session.execute(stmt)).first() is not None


async def claim_many(
    session: AsyncSession,
    inbox: Table,
    *,
    consumer: str,
    events: Sequence[tuple[uuid.UUID, str, str, int, int]],
) -> set[uuid.UUID]:
    """Record a run of (ce_id, type, topic, partition, offset) as applied by `consumer` in one
    statement; returns the ce_ids no earlier transaction had applied."""
    if not events:
        return set()
    # One statement compiled once (executemany with RETURNING), whatever the size of the run.
    stmt = insert(inbox).on_conflict_do_nothing().returning(inbox.c.event_id)
    rows = [
        {"consumer": consumer, "event_id": i, "ce_type": t, "topic": topic, "partition": p, "offset": o}
        for i, t, topic, p, o in events
    ]
    return {row.event_id for row in await session.execute(stmt, rows)}
