"""Transactional outbox: the only way a service publishes. Rows are written with the state change."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Table, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from common.contracts import Contract, type_of
from common.contracts.catalog import carries
from common.db import before_commit, copy_rows, json_text
from common.messaging.envelope import Envelope, encode_payload, new_envelope
from common.tracing import traceparent_for
from common.wakeup import notify


@dataclass(frozen=True)
class OutgoingEvent:
    """What a handler wants published: the payload, who it is about, and on which topic."""

    topic: str
    key: str
    data: Contract
    tenant: str
    subject: str | None = None
    traceparent: str | None = None
    time: datetime | None = None
    event_id: uuid.UUID | None = None


def outbox_row(event: OutgoingEvent, *, source: str) -> dict[str, object]:
    ce_type, version = type_of(type(event.data))
    if not carries(event.topic, ce_type):
        raise ValueError(f"{event.topic} does not carry {ce_type} (common.contracts.catalog)")
    envelope: Envelope = new_envelope(
        ce_type=ce_type,
        version=version,
        source=source,
        tenant=event.tenant,
        subject=event.subject,
        # the current span's (request, consumed event: in a batch, the one about this subject),
        # unless the handler names another
        traceparent=event.traceparent or traceparent_for(event.subject),
        time=event.time,
        event_id=event.event_id,
    )
    return {
        "event_id": envelope.id,
        "topic": event.topic,
        "key": event.key,
        "headers": envelope.to_headers(),
        "payload": encode_payload(event.data),
    }


async def enqueue(
    session: AsyncSession, outbox: Table, events: Sequence[OutgoingEvent], *, source: str
) -> list[uuid.UUID]:
    """Add events to the outbox inside the caller's transaction; returns their ce_ids.

    The rows are written together just before the transaction commits (one statement for a whole run
    of events), in the order they were added."""
    if not events:
        return []
    rows = [outbox_row(e, source=source) for e in events]
    pending: dict[str, tuple[Table, list[dict[str, object]]]] = session.info.setdefault(_PENDING, {})
    pending.setdefault(outbox.fullname, (outbox, []))[1].extend(rows)
    before_commit(session, "outbox", _write_pending)
    return [r["event_id"] for r in rows]  # type: ignore[misc]


_PENDING = "outbox_pending"


@asynccontextmanager
async def savepoint(session: AsyncSession) -> AsyncIterator[None]:
    """A nested transaction whose outbox events go with it when it fails: a failed part of a larger
    transaction publishes nothing of what it had added."""
    tables: dict[str, tuple[Table, list[dict[str, object]]]] = session.info.get(_PENDING, {})
    marks = {name: len(rows) for name, (_, rows) in tables.items()}
    try:
        async with session.begin_nested():
            yield
    except BaseException:
        for name, (_, rows) in session.info.get(_PENDING, {}).items():
            del rows[marks.get(name, 0) :]
        raise


def pending(session: AsyncSession) -> list[dict[str, object]]:
    """The outbox rows this transaction will write when it commits, in order (for handler tests
    that roll back)."""
    tables: dict[str, tuple[Table, list[dict[str, object]]]] = session.info.get(_PENDING, {})
    return [row for _, rows in tables.values() for row in rows]


OUTBOX_COLUMNS = ("event_id", "topic", "key", "headers", "payload")


async def backlog(session: AsyncSession, outbox: Table) -> tuple[int, datetime | None]:
    """How many rows wait to be published, and when the oldest of them was written."""
    pending, oldest = (
        await session.execute(
            select(func.count(), func.min(outbox.c.created_at)).where(outbox.c.published_at.is_(None))
        )
    ).one()
    return int(pending), oldest


def outbox_channel(outbox: Table) -> str:
    """The notification channel that wakes the relays of this outbox."""
    return f"outbox:{outbox.fullname}"


async def write_rows(session: AsyncSession, outbox: Table, rows: Sequence[dict[str, object]]) -> None:
    """Outbox rows (from `outbox_row`) in one COPY, and the relays woken when the transaction commits."""
    if not rows:
        return
    records = [(r["event_id"], r["topic"], r["key"], json_text(r["headers"]), r["payload"]) for r in rows]
    await copy_rows(session, outbox, OUTBOX_COLUMNS, records)
    await notify(session, outbox_channel(outbox))


async def _write_pending(session: AsyncSession) -> None:
    pending: dict[str, tuple[Table, list[dict[str, object]]]] = session.info.pop(_PENDING, {})
    for table, rows in pending.values():
        await write_rows(session, table, rows)


@dataclass(frozen=True)
class Publisher:
    """One service's way onto its topic: keyed by borrower, subject the account (SPEC section 2)."""

    outbox: Table
    topic: str
    source: str

    async def publish(
        self,
        session: AsyncSession,
        data: Contract,
        *,
        tenant: str,
        borrower_id: uuid.UUID,
        account_id: uuid.UUID,
        traceparent: str | None = None,
    ) -> None:
        """Add one event to the outbox inside the caller's transaction."""
        event = OutgoingEvent(
            topic=self.topic,
            key=str(borrower_id),
            data=data,
            tenant=tenant,
            subject=str(account_id),
            traceparent=traceparent,
        )
        await enqueue(session, self.outbox, [event], source=self.source)
