"""Consumers: apply each event in one database transaction with its inbox row, then commit the offset.

Poison messages (unreadable envelope, unknown type, invalid payload) go straight to `<topic>.dlq`;
a handler that keeps failing goes there after bounded retries; database and broker outages are
retried without limit, so an outage stalls the partition instead of dead-lettering good events.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, cast

import structlog
from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.abc import ConsumerRebalanceListener
from aiokafka.errors import CommitFailedError, IllegalStateError, KafkaError
from prometheus_client import Counter, Gauge
from sqlalchemy import Table
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from common.aio import sleep_unless
from common.contracts import Contract, UnknownEventTypeError
from common.db import run_before_commit
from common.faults import NO_CRASHES, CrashPoints
from common.logging import structural
from common.messaging import inbox
from common.messaging.envelope import EnvelopeError, Event, PayloadError, decode
from common.messaging.producer import make_producer
from common.tracing import OFF, Tracing

log = structlog.get_logger(__name__)

Handler = Callable[[AsyncSession, Event[Any]], Awaitable[None]]
# Takes every event of one type that came in a row from a partition, oldest first, already claimed.
BatchHandler = Callable[[AsyncSession, list[Event[Any]]], Awaitable[None]]

CONSUMED = Counter("events_consumed_total", "Events read by consumers", ["consumer", "type", "outcome"])
DEAD_LETTERED = Counter(
    "events_dead_lettered_total",
    "Events a consumer sent to <topic>.dlq, by the topic they came from and why",
    ["consumer", "topic", "reason"],
)
# Set from what the fetches already told the client (highwater minus position), at most once a second.
LAG = Gauge(
    "consumer_lag_records",
    "Records on a partition past this consumer group's position",
    ["group", "topic", "partition"],
)
LAG_EVERY_S = 1.0


class EventRouter:
    """Handlers grouped like HTTP routers: one async function per event type, either for one event
    (`on`) or for the whole run of consecutive events of that type in a partition (`on_batch`)."""

    def __init__(self) -> None:
        self._handlers: dict[str, Handler] = {}
        self._batch: dict[str, BatchHandler] = {}

    def on(self, ce_type: str) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            self._refuse_twice(ce_type)
            self._handlers[ce_type] = handler
            return handler

        return register

    def on_batch(self, ce_type: str) -> Callable[[BatchHandler], BatchHandler]:
        """Register a handler of runs: same guarantees (a failing run is retried event by event, so a
        poison event is isolated and dead-lettered alone), one call for many events."""

        def register(handler: BatchHandler) -> BatchHandler:
            self._refuse_twice(ce_type)
            self._batch[ce_type] = handler
            return handler

        return register

    def _refuse_twice(self, ce_type: str) -> None:
        if ce_type in self._handlers or ce_type in self._batch:
            raise ValueError(f"{ce_type} already has a handler")

    def handler_for(self, ce_type: str) -> Handler | None:
        return self._handlers.get(ce_type)

    def batch_handler_for(self, ce_type: str) -> BatchHandler | None:
        return self._batch.get(ce_type)

    @property
    def types(self) -> frozenset[str]:
        return frozenset(self._handlers) | frozenset(self._batch)


class NotYet(Exception):  # noqa: N818 - reads as what it says: not yet
    """Raised by a priority-lane handler for an event it may not apply ahead of the ordered
    consumer (an earlier event of the same borrower is still on its way there): the lane skips it,
    its transaction rolled back, and the ordered consumer applies it in its turn."""


class _Rebalance(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, runner: ConsumerRunner) -> None:
        self._runner = runner

    async def on_partitions_revoked(self, revoked: Any) -> None:
        await self._runner.commit_processed(set(revoked))
        self._runner.forget_lag(set(revoked))

    async def on_partitions_assigned(self, assigned: Any) -> None:
        log.info("partitions assigned", consumer=self._runner.name, count=len(assigned))


class ConsumerRunner:
    def __init__(
        self,
        *,
        name: str,
        topics: list[str],
        router: EventRouter,
        sessions: async_sessionmaker[AsyncSession],
        inbox_table: Table,
        bootstrap: str,
        max_attempts: int = 3,
        retry_backoff_s: float = 0.2,
        max_records: int = 500,
        tx_batch: int = 100,
        crash_points: CrashPoints = NO_CRASHES,
        group_id: str | None = None,
        only_types: frozenset[str] | None = None,
        dead_letters: bool = True,
        tracing: Tracing = OFF,
    ) -> None:
        self.name = name  # the inbox's consumer name: one per service, whatever its groups
        self.group_id = group_id or name
        self._topics = topics
        self._router = router
        self._sessions = sessions
        self._inbox = inbox_table
        self._bootstrap = bootstrap
        self._max_attempts = max_attempts
        self._backoff = retry_backoff_s
        self._max_records = max_records
        self._tx_batch = max(1, tx_batch)
        self._crash = crash_points
        # A priority lane reads only a few types and passes over the rest without decoding them.
        self._only = only_types
        self._dead_letters = dead_letters
        self._tracing = tracing
        self._processed: dict[TopicPartition, int] = {}
        self._lagging: set[TopicPartition] = set()  # the partitions this runner reports a lag for
        self._consumer: AIOKafkaConsumer | None = None
        self._dlq_producer = make_producer(bootstrap, client_id=f"{name}-dlq")

    def _make_consumer(self) -> AIOKafkaConsumer:
        return AIOKafkaConsumer(
            bootstrap_servers=self._bootstrap,
            group_id=self.group_id,
            client_id=self.group_id,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            max_poll_records=self._max_records,
            isolation_level="read_committed",
        )

    async def run(self, stop: asyncio.Event) -> None:
        """Consume until `stop` is set; reconnects after broker outages."""
        while not stop.is_set():
            try:
                await self._run_session(stop)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - keep consuming through broker outages
                log.warning("consumer session ended; reconnecting", consumer=self.name, error=str(exc))
                await sleep_unless(stop, 1.0)

    async def _run_session(self, stop: asyncio.Event) -> None:
        consumer = self._make_consumer()
        self._consumer = consumer
        self._processed.clear()
        await consumer.start()
        await self._dlq_producer.start()
        try:
            consumer.subscribe(self._topics, listener=_Rebalance(self))
            next_lag = time.monotonic()
            while not stop.is_set():
                batches = await consumer.getmany(timeout_ms=200, max_records=self._max_records)
                for tp, records in batches.items():
                    # A partition revoked mid-batch is replayed by its new owner from the committed offset.
                    for start in range(0, len(records), self._tx_batch):
                        if tp not in consumer.assignment() or stop.is_set():
                            break
                        chunk = records[start : start + self._tx_batch]
                        await self._process_chunk(chunk, stop)
                        self._processed[tp] = chunk[-1].offset + 1
                await self.commit_processed()
                if time.monotonic() >= next_lag:
                    next_lag = time.monotonic() + LAG_EVERY_S
                    await self._measure_lag(consumer)
        finally:
            await self.commit_processed()
            self.forget_lag(set(self._lagging))
            self._consumer = None
            await consumer.stop()
            await self._dlq_producer.stop()

    async def commit_processed(self, only: set[TopicPartition] | None = None) -> None:
        consumer = self._consumer
        if consumer is None or not self._processed:
            return
        offsets = {tp: o for tp, o in self._processed.items() if only is None or tp in only}
        if not offsets:
            return
        try:
            await consumer.commit(offsets)
        except (CommitFailedError, KafkaError) as exc:
            # The inbox makes the replay that follows harmless.
            log.warning("offset commit failed", consumer=self.name, error=str(exc))
        for tp in offsets:
            self._processed.pop(tp, None)

    async def _measure_lag(self, consumer: AIOKafkaConsumer) -> None:
        """Set each assigned partition's lag from the last fetch's highwater: no request to the broker."""
        # Highwaters first: position() returns at once for a partition already fetched from, but any
        # await may see a rebalance, after which highwater() refuses a partition no longer assigned.
        fetched = [(tp, hw) for tp in consumer.assignment() if (hw := consumer.highwater(tp)) is not None]
        for tp, highwater in fetched:
            try:
                position = await consumer.position(tp)
            except IllegalStateError:  # revoked meanwhile
                continue
            LAG.labels(self.group_id, tp.topic, str(tp.partition)).set(max(0, highwater - position))
            self._lagging.add(tp)

    def forget_lag(self, partitions: set[TopicPartition]) -> None:
        """Stop reporting a lag for partitions this runner no longer reads (another member owns them)."""
        for tp in partitions & self._lagging:
            LAG.remove(self.group_id, tp.topic, str(tp.partition))
            self._lagging.discard(tp)

    async def _process_chunk(self, records: list[ConsumerRecord[bytes, bytes]], stop: asyncio.Event) -> None:
        """Apply a run of one partition's records in one transaction (one commit, one fsync); if any
        of them fails, fall back to one transaction per record so only the bad one is dead-lettered."""
        work: list[Work] = []
        for record in records:
            item = await self._prepare(record, stop)
            if item is not None:
                work.append((record, *item))
        if len(work) > 1 and await self._apply_together(work, stop):
            return
        for record, event, handler in work:
            await self._apply(record, event, handler, stop)

    async def _prepare(
        self, record: ConsumerRecord[bytes, bytes], stop: asyncio.Event
    ) -> tuple[Event[Contract], Handler | BatchHandler] | None:
        if self._only is not None and _header(record, "ce_type") not in self._only:
            return None
        try:
            event = decode(record.headers, record.value)
        except (EnvelopeError, UnknownEventTypeError, PayloadError) as exc:
            reason = {EnvelopeError: "envelope", UnknownEventTypeError: "unknown_type"}.get(
                type(exc), "invalid_payload"
            )
            await self._dead_letter(record, reason, exc, stop)
            return None
        ce_type = event.envelope.type
        handler: Handler | BatchHandler | None = self._router.handler_for(ce_type)
        handler = handler or self._router.batch_handler_for(ce_type)
        if handler is None:
            CONSUMED.labels(self.name, ce_type, "ignored").inc()
            return None
        return event, handler

    async def _apply_together(self, work: list[Work], stop: asyncio.Event) -> bool:
        """True when the whole run was applied; False sends the caller to record-by-record."""
        attempt = 0
        while True:
            attempt += 1
            try:
                await self._commit_run(work)
                return True
            except asyncio.CancelledError:
                raise
            except NotYet:
                return False  # the rest of the run may still apply, record by record
            except Exception as exc:  # noqa: BLE001 - any failure sends the run record by record
                if not _is_outage(exc):
                    return False
                await self._wait_out_outage(exc, attempt, stop)

    async def _commit_run(self, work: list[Work]) -> None:
        """Claim and apply every record of the run in one transaction, then count them. Consecutive
        events of a type with a batch handler are claimed in one statement and handled in one call.
        Each event has its own span, in its own trace, for as long as the run's transaction lasts."""
        outcomes: list[tuple[str, bool]] = []
        started = time.perf_counter()
        groups = _runs_of(work, self._router)
        run = self._tracing.consuming(
            [[(record, event) for record, event, _ in group] for group in groups], consumer=self.group_id
        )
        try:
            with run.current():
                async with self._sessions() as session, session.begin():
                    for group in groups:
                        with run.group([event for _, event, _ in group]):
                            batch = self._router.batch_handler_for(group[0][1].envelope.type)
                            if batch is None:
                                outcomes.append(await self._apply_one(session, group[0]))
                            else:
                                outcomes += await self._apply_batch(session, group, batch)
                    await run_before_commit(session)
        except NotYet as exc:
            run.fail(exc, outcome="not_yet")
            raise
        except BaseException as exc:
            run.fail(exc)
            raise
        run.finish(["applied" if fresh else "duplicate" for _, fresh in outcomes])
        self._crash.reach("consumer.after_apply", tenant=work[0][1].envelope.tenant)
        duration_ms = round((time.perf_counter() - started) * 1000, 1)
        for (record, event, _), (ce_type, fresh), (trace_id, span_id) in zip(
            work, outcomes, run.log_ids, strict=True
        ):
            outcome = "applied" if fresh else "duplicate"
            CONSUMED.labels(self.name, ce_type, outcome).inc()
            # One line per event (its transaction's duration is the run's, shared by its events).
            structural(
                __name__,
                "event consumed",
                consumer=self.group_id,
                type=ce_type,
                ce_id=str(event.envelope.id),
                topic=record.topic,
                partition=record.partition,
                offset=record.offset,
                outcome=outcome,
                run=len(work),
                duration_ms=duration_ms,
                trace_id=trace_id,
                span_id=span_id,
            )

    async def _wait_out_outage(self, exc: Exception, attempt: int, stop: asyncio.Event) -> None:
        log.warning("outage; retrying", consumer=self.name, error=str(exc))
        await sleep_unless(stop, min(self._backoff * 2 ** min(attempt, 5), 5.0))
        if stop.is_set():
            raise exc

    async def _apply_one(self, session: AsyncSession, item: Work) -> tuple[str, bool]:
        record, event, handler = item
        fresh = await self._claim(session, record, event)
        if fresh:
            await cast(Handler, handler)(session, event)
        return event.envelope.type, fresh

    async def _apply_batch(
        self, session: AsyncSession, group: list[Work], handler: BatchHandler
    ) -> list[tuple[str, bool]]:
        fresh = await self._claim_run(session, group)
        if fresh:
            await handler(session, [event for _, event, _ in fresh])
        applied = {id(item) for item in fresh}
        return [(item[1].envelope.type, id(item) in applied) for item in group]

    async def _claim_run(self, session: AsyncSession, group: list[Work]) -> list[Work]:
        """Claim a run of events in one statement; returns the items to apply, oldest first. An event
        applied before, or seen twice in the run, is applied once: the later copies are duplicates."""
        first: dict[uuid.UUID, Work] = {}
        for item in group:
            first.setdefault(item[1].envelope.id, item)
        claimed = await inbox.claim_many(
            session,
            self._inbox,
            consumer=self.name,
            events=[
                (e.envelope.id, e.envelope.type, r.topic, r.partition, r.offset) for r, e, _ in first.values()
            ],
        )
        return [item for event_id, item in first.items() if event_id in claimed]

    async def _claim(
        self, session: AsyncSession, record: ConsumerRecord[bytes, bytes], event: Event[Contract]
    ) -> bool:
        return await inbox.claim(
            session,
            self._inbox,
            consumer=self.name,
            event_id=event.envelope.id,
            ce_type=event.envelope.type,
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
        )

    async def _apply(
        self,
        record: ConsumerRecord[bytes, bytes],
        event: Event[Contract],
        handler: Handler | BatchHandler,
        stop: asyncio.Event,
    ) -> None:
        attempt = 0
        while True:
            attempt += 1
            try:
                await self._commit_run([(record, event, handler)])
                return
            except asyncio.CancelledError:
                raise
            except NotYet:
                CONSUMED.labels(self.name, event.envelope.type, "not_yet").inc()
                return
            except Exception as exc:  # noqa: BLE001 - a failing handler must not stop the partition
                if _is_outage(exc):
                    await self._wait_out_outage(exc, attempt, stop)
                    continue
                if attempt >= self._max_attempts:
                    await self._dead_letter(record, "handler_error", exc, stop)
                    return
                await sleep_unless(stop, self._backoff * 2 ** (attempt - 1))

    async def _dead_letter(
        self,
        record: ConsumerRecord[bytes, bytes],
        reason: str,
        exc: BaseException,
        stop: asyncio.Event,
    ) -> None:
        if not self._dead_letters:
            log.info("event left to the ordered consumer", consumer=self.name, reason=reason, error=str(exc))
            return
        headers = [
            *(record.headers or []),
            ("dlq_reason", reason.encode()),
            ("dlq_error", f"{type(exc).__name__}: {exc}"[:2000].encode()),
            ("dlq_topic", record.topic.encode()),
            ("dlq_partition", str(record.partition).encode()),
            ("dlq_offset", str(record.offset).encode()),
            ("dlq_consumer", self.name.encode()),
            ("dlq_at", datetime.now(UTC).isoformat().encode()),
        ]
        while True:
            try:
                await self._dlq_producer.send_and_wait(
                    f"{record.topic}.dlq", value=record.value, key=record.key, headers=headers
                )
                break
            except KafkaError as send_exc:
                log.warning("dead-letter publish failed; retrying", error=str(send_exc))
                await sleep_unless(stop, 1.0)
                if stop.is_set():
                    raise
        CONSUMED.labels(self.name, "unknown", f"dlq_{reason}").inc()
        DEAD_LETTERED.labels(self.name, record.topic, reason).inc()
        log.error(
            "event dead-lettered",
            consumer=self.name,
            reason=reason,
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            error=type(exc).__name__,
        )


Work = tuple[ConsumerRecord[bytes, bytes], Event[Contract], "Handler | BatchHandler"]


def _header(record: ConsumerRecord[bytes, bytes], name: str) -> str | None:
    for key, value in record.headers or ():
        if key == name:
            return bytes(value).decode(errors="replace")
    return None


def _runs_of(work: list[Work], router: EventRouter) -> list[list[Work]]:
    """Split a partition's run into what is applied together: each event with a one-event handler on
    its own, consecutive events of one batch-handled type as one group (order is kept)."""
    groups: list[list[Work]] = []
    for item in work:
        ce_type = item[1].envelope.type
        batched = router.batch_handler_for(ce_type) is not None
        if batched and groups and groups[-1][0][1].envelope.type == ce_type:
            groups[-1].append(item)
        else:
            groups.append([item])
    return groups


def _is_outage(exc: BaseException) -> bool:
    """Database or broker unreachable (e.g. Postgres restarting), as opposed to a bad event."""
    if isinstance(exc, OSError | KafkaError):
        return True
    if isinstance(exc, DBAPIError):
        if exc.connection_invalidated or isinstance(exc.orig, OSError):
            return True
        text = str(exc.orig).lower() if exc.orig is not None else ""
        return any(s in text for s in _OUTAGE_WORDS)
    return False


_OUTAGE_WORDS = ("connection", "terminating", "shutting down", "starting up", "cannot connect")
