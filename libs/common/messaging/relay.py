"""The outbox relay: claims unpublished rows with FOR UPDATE SKIP LOCKED, publishes, then marks them.

A crash after publishing and before marking publishes the rows again on restart; consumers' inboxes
turn that at-least-once delivery into exactly-once effects.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter as Tally
from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog
from aiokafka import AIOKafkaProducer
from aiokafka.partitioner import DefaultPartitioner
from opentelemetry.trace import Span
from prometheus_client import Counter, Gauge
from sqlalchemy import Table, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from common.aio import sleep_unless
from common.faults import NO_CRASHES, CrashPoints
from common.messaging.outbox import backlog
from common.tracing import OFF, Tracing, failed
from common.wakeup import wait_for

log = structlog.get_logger(__name__)

PUBLISHED = Counter("outbox_published_total", "Events published by the outbox relay", ["topic", "type"])
# The first key of the relays' advisory locks ("outb"), so no other lock of the database collides.
RELAY_LOCK_CLASS = 0x6F757462
RELAY_ERRORS = Counter("outbox_relay_errors_total", "Relay passes that failed and will be retried")
# Measured every few seconds by one query, not per row: a growing backlog or age means a stuck relay.
BACKLOG = Gauge("outbox_pending_events", "Outbox rows not yet published", ["outbox"])
OLDEST_AGE = Gauge(
    "outbox_oldest_pending_age_seconds", "Age of the oldest unpublished outbox row (0 when none)", ["outbox"]
)


class OutboxRelay:
    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        outbox: Table,
        producer: AIOKafkaProducer,
        batch_size: int = 500,
        idle_interval_s: float = 0.05,
        crash_points: CrashPoints = NO_CRASHES,
        keep_published: timedelta = timedelta(days=1),
        prune_every_s: float = 60.0,
        measure_every_s: float = 5.0,
        wakeup: asyncio.Event | None = None,
        tracing: Tracing = OFF,
    ) -> None:
        # With a wake-up (set when a transaction adds rows), an idle relay waits for it rather than
        # polling; it still looks every `idle_interval_s`.
        self._wakeup = wakeup
        self._tracing = tracing
        self._keep = keep_published
        self._prune_every = prune_every_s
        self._measure_every = measure_every_s
        self._backlog = BACKLOG.labels(outbox.fullname)
        self._oldest_age = OLDEST_AGE.labels(outbox.fullname)
        self._sessions = sessions
        self._outbox = outbox
        self._producer = producer
        self._batch_size = batch_size
        self._idle = idle_interval_s
        self._crash = crash_points
        # The producer's own choice of partition for a key, so keyed order holds as with send().
        self._partitioner = DefaultPartitioner()
        # Held to the end of a pass's transaction; the key names this outbox table.
        self._turn = select(
            func.pg_try_advisory_xact_lock(RELAY_LOCK_CLASS, func.hashtext(f"{outbox.schema}.{outbox.name}"))
        )

    async def prune_published(self, *, older_than: timedelta | None = None, limit: int = 5_000) -> int:
        """Delete published rows older than the retention; the topic, not the outbox, is the record."""
        t = self._outbox
        cutoff = func.now() - (older_than if older_than is not None else self._keep)
        doomed = (
            select(t.c.id)
            .where(t.c.published_at.is_not(None), t.c.published_at < cutoff)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        async with self._sessions() as session, session.begin():
            # Ids first, then a delete by primary key: as one statement the planner would hash-join
            # the ids against a scan of the whole outbox.
            ids = list((await session.execute(doomed)).scalars())
            if ids:
                await session.execute(delete(t).where(t.c.id.in_(ids)))
            return len(ids)

    async def publish_pending(self) -> int:
        """Publish one batch of pending rows; returns how many were published. One relay of an outbox
        publishes at a time (the others of its replicas wait their turn): two claiming different rows
        at once could put one borrower's events on the topic out of order."""
        t = self._outbox
        async with self._sessions() as session, session.begin():
            if not (await session.execute(self._turn)).scalar():
                return 0
            rows = (
                await session.execute(
                    select(t.c.id, t.c.topic, t.c.key, t.c.headers, t.c.payload)
                    .where(t.c.published_at.is_(None))
                    .order_by(t.c.id)
                    .limit(self._batch_size)
                    .with_for_update(skip_locked=True)
                )
            ).all()
            if not rows:
                return 0
            spans: list[Span] = []
            try:
                await asyncio.gather(*await self._send_batches(rows, spans))
            except BaseException as exc:
                for span in spans:
                    failed(span, exc)
                    span.end()
                raise
            for span in spans:  # acknowledged by the broker
                span.end()
            self._crash.reach("outbox.after_publish")
            await session.execute(
                update(t).where(t.c.id.in_([r.id for r in rows])).values(published_at=func.now())
            )
        published = Tally((r.topic, r.headers.get("ce_type", "unknown")) for r in rows)
        for (topic, ce_type), count in published.items():  # one increment per type, not per row
            PUBLISHED.labels(topic, ce_type).inc(count)
        return len(rows)

    async def measure_backlog(self) -> tuple[int, float]:
        """Count the pending rows and the age of the oldest (seconds), and set the gauges to them."""
        async with self._sessions() as session:
            pending, oldest = await backlog(session, self._outbox)
        age = max(0.0, (datetime.now(UTC) - oldest).total_seconds()) if oldest else 0.0
        self._backlog.set(pending)
        self._oldest_age.set(age)
        return pending, age

    async def _send_batches(self, rows: Sequence[Any], spans: list[Span]) -> list[asyncio.Future[Any]]:
        """Hand the rows to the producer a batch per partition (the batch API costs a fraction of a
        send per message), keeping each partition's order; returns the acknowledgements to await.
        Each row gets a publish span (into `spans`), whose context its record's traceparent carries."""
        by_partition: dict[tuple[str, int], list[Any]] = defaultdict(list)
        for row in rows:
            key = row.key.encode()
            partitions = sorted(await self._producer.partitions_for(row.topic))
            by_partition[(row.topic, self._partitioner(key, partitions, partitions))].append((key, row))
        acks = []
        for (topic, partition), items in by_partition.items():
            batch = self._producer.create_batch()
            for key, row in items:
                span, sent = self._tracing.start_publish(row.headers, topic=topic, partition=partition)
                if span is not None:
                    spans.append(span)
                headers = [(k, v.encode()) for k, v in sent.items()]
                while batch.append(key=key, value=row.payload, timestamp=None, headers=headers) is None:
                    if batch.record_count() == 0:
                        raise ValueError(f"outbox row {row.id} is larger than a producer batch")
                    acks.append(await self._producer.send_batch(batch, topic, partition=partition))
                    batch = self._producer.create_batch()
            acks.append(await self._producer.send_batch(batch, topic, partition=partition))
        return acks

    async def run(self, stop: asyncio.Event) -> None:
        backoff = self._idle
        next_prune = time.monotonic() + self._prune_every
        next_measure = time.monotonic()
        while not stop.is_set():
            if time.monotonic() >= next_measure:
                next_measure = time.monotonic() + self._measure_every
                try:
                    await self.measure_backlog()
                except Exception as exc:  # noqa: BLE001 - the gauges keep their last value; try again later
                    log.warning("outbox backlog measure failed", error=str(exc))
            if time.monotonic() >= next_prune:
                next_prune = time.monotonic() + self._prune_every
                try:
                    await self.prune_published()
                except Exception as exc:  # noqa: BLE001 - pruning is housekeeping; try again later
                    log.warning("outbox prune failed", error=str(exc))
            try:
                published = await self.publish_pending()
                backoff = self._idle
            except Exception as exc:  # noqa: BLE001 - the relay must outlive broker and database outages
                RELAY_ERRORS.inc()
                log.warning("outbox relay pass failed; rows stay pending", error=str(exc))
                published = 0
                backoff = min(backoff * 2, 5.0)
            if published < self._batch_size:
                if self._wakeup is not None and backoff == self._idle:
                    await wait_for(self._wakeup, stop, backoff)
                else:
                    await sleep_unless(stop, backoff)
