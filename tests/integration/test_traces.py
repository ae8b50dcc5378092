"""Traces through the messaging kit against the real PostgreSQL and Kafka, in process: a request's
server span, its statements, the relay's publish span and the reader's consume span are one trace
(the traceparent travels in the outbox row and then in the record), each with a parent in the trace
or the caller's; in a batch, each event keeps its own trace and what is written about it continues it.
Two tracers stand for two services, each exporting JSON lines to its own file."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from aiokafka import AIOKafkaProducer
from fastapi import FastAPI
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine

from common import tracefiles
from common.db import make_session_factory, unit_of_work
from common.logging import new_traceparent
from common.messaging.consumer import ConsumerRunner, EventRouter
from common.messaging.envelope import Event
from common.messaging.outbox import OutgoingEvent, enqueue, outbox_row
from common.messaging.producer import make_producer
from common.messaging.relay import OutboxRelay
from common.service import _trace_middleware
from common.testing.stack import Stack
from common.traceexport import JsonLinesSpanExporter
from common.tracing import Tracing, make_provider, trace_statements, traceparent_of
from tests.support import roundtrip
from tests.support.kafka import create_topic
from tests.support.waiting import eventually

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("roundtrip_schemas")]


def traced(service: str, directory: Path) -> Tracing:
    exporter = JsonLinesSpanExporter(directory, service)
    return Tracing(service, make_provider(service, exporters=[exporter], export_delay_ms=100))


@dataclass
class Sink:
    """The reader: what its handlers would publish about each event, captured instead of written."""

    topic: str
    continued: dict[int, str | None] = field(default_factory=dict)  # seq -> the outgoing traceparent
    run_sizes: list[int] = field(default_factory=list)

    def written(self, event: Event[roundtrip.Ping]) -> str | None:
        row = outbox_row(
            OutgoingEvent(
                topic=self.topic,
                key=event.data.borrower_id,
                data=roundtrip.Ping(seq=event.data.seq, borrower_id=event.data.borrower_id),
                tenant=event.envelope.tenant,
                subject=event.envelope.subject,
            ),
            source="rt_sink",
        )
        headers: dict[str, str] = row["headers"]  # type: ignore[assignment]
        return headers.get("traceparent")

    def router(self, *, batch: bool) -> EventRouter:
        router = EventRouter()

        async def apply(session: AsyncSession, events: list[Event[roundtrip.Ping]]) -> None:
            self.run_sizes.append(len(events))
            await session.execute(
                insert(roundtrip.effects),
                [{"event_id": e.envelope.id, "seq": e.data.seq, "consumer": "sink"} for e in events],
            )
            for event in events:
                self.continued[event.data.seq] = self.written(event)
                assert traceparent_of(event) == self.continued[event.data.seq]

        if batch:
            router.on_batch("test.ping")(apply)
        else:

            @router.on("test.ping")
            async def one(session: AsyncSession, event: Event[roundtrip.Ping]) -> None:
                await apply(session, [event])

        return router


@pytest.fixture
async def engines(stack: Stack) -> AsyncIterator[tuple[AsyncEngine, AsyncEngine]]:
    source = create_async_engine(stack.layout.role_url(roundtrip.SOURCE))
    sink = create_async_engine(stack.layout.role_url(roundtrip.SINK))
    try:
        yield source, sink
    finally:
        await source.dispose()
        await sink.dispose()


async def consume(
    stack: Stack, sink: Sink, tracing: Tracing, engine: AsyncEngine, seqs: set[int], *, batch: bool
) -> None:
    """Run a reader on the sink's topic until every seq was applied."""
    trace_statements(engine, tracing)
    runner = ConsumerRunner(
        name=f"traces-{uuid.uuid4().hex[:6]}",
        topics=[sink.topic],
        router=sink.router(batch=batch),
        sessions=make_session_factory(engine),
        inbox_table=roundtrip.sink_inbox,
        bootstrap=stack.kafka_bootstrap,
        tracing=tracing,
    )
    stop = asyncio.Event()
    task = asyncio.create_task(runner.run(stop))
    try:
        await eventually(lambda: seqs <= set(sink.continued), timeout_s=60, interval_s=0.2)
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=30)


def by_id(spans: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {s["spanId"]: s for s in spans}


def assert_parents_known(spans: list[dict[str, Any]], caller: str | None) -> None:
    """Every span's parent is a span of the trace, or the caller's (remote) span, or none (the root)."""
    known = by_id(spans)
    for span in spans:
        parent = span["parentSpanId"]
        assert parent is None or parent in known or parent == caller, span


async def test_a_request_its_statements_the_relay_and_the_reader_are_one_trace(
    stack: Stack, tmp_path: Path, engines: tuple[AsyncEngine, AsyncEngine]
) -> None:
    topic = await create_topic(stack.kafka_bootstrap, "test.traces", partitions=1)
    source, reader = traced("rt-source", tmp_path), traced("rt-sink", tmp_path)
    source_engine, sink_engine = engines
    trace_statements(source_engine, source)
    sessions = make_session_factory(source_engine)

    app = FastAPI()
    app.middleware("http")(_trace_middleware)
    app.state.tracing = source

    @app.post("/pings/{seq}", status_code=202)
    async def place(seq: int) -> dict[str, str]:
        async with unit_of_work(sessions) as session:
            await session.execute(insert(roundtrip.pings).values(seq=seq))
            ping = roundtrip.Ping(seq=seq, borrower_id="B-1")
            await enqueue(
                session,
                roundtrip.source_outbox,
                [OutgoingEvent(topic=topic, key="B-1", data=ping, tenant="t-traces", subject=f"A-{seq}")],
                source="rt_source",
            )
        return {"status": "accepted"}

    lender = new_traceparent()
    _, trace_id, lender_span, _ = lender.split("-")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://rt") as client:
        answer = await client.post("/pings/41001", headers={"traceparent": lender})
        untraced = await client.post("/pings/41002")
    assert answer.status_code == untraced.status_code == 202
    assert answer.headers["traceparent"].split("-")[1] == trace_id
    own_trace = untraced.headers["traceparent"].split("-")[1]
    assert own_trace != trace_id

    producer = make_producer(stack.kafka_bootstrap, client_id="traces-test")
    await producer.start()
    try:
        relay = OutboxRelay(
            sessions=sessions, outbox=roundtrip.source_outbox, producer=producer, tracing=source
        )
        while await relay.publish_pending():
            pass
    finally:
        await producer.stop()
    sink = Sink(topic=topic)
    await consume(stack, sink, reader, sink_engine, {41001, 41002}, batch=False)
    assert source.flush() and reader.flush()

    spans = tracefiles.read_trace(tmp_path, trace_id)
    assert_parents_known(spans, lender_span)
    spans_by_id = by_id(spans)
    (server,) = [s for s in spans if s["kind"] == "server"]
    assert (server["name"], server["service"]) == ("POST /pings/{seq}", "rt-source")
    assert (server["parentSpanId"], server["parentIsRemote"]) == (lender_span, True)
    assert server["attributes"]["http.response.status_code"] == 202
    statements = [s for s in spans if s["kind"] == "client" and s["service"] == "rt-source"]
    assert {s["name"] for s in statements} >= {"INSERT", "COPY"}
    assert all(s["parentSpanId"] == server["spanId"] for s in statements)
    (publish,) = [s for s in spans if s["kind"] == "producer"]
    assert (publish["name"], publish["service"], publish["parentSpanId"]) == (
        "publish test.ping",
        "rt-source",
        server["spanId"],
    )
    assert publish["attributes"]["messaging.destination.name"] == topic
    (consumed,) = [s for s in spans if s["kind"] == "consumer"]
    assert (consumed["name"], consumed["service"], consumed["parentSpanId"]) == (
        "consume test.ping",
        "rt-sink",
        publish["spanId"],
    )
    assert consumed["parentIsRemote"] is True
    assert consumed["attributes"]["collections.outcome"] == "applied"
    assert consumed["attributes"]["cloudevents.event_subject"] == "A-41001"
    reads = [s for s in spans if s["service"] == "rt-sink" and s["kind"] == "client"]
    assert reads and all(spans_by_id[s["parentSpanId"]]["kind"] == "consumer" for s in reads)
    # What the reader writes about the event continues from its consume span.
    continued = sink.continued[41001]
    assert continued == f"00-{trace_id}-{consumed['spanId']}-01"

    # The request without a traceparent is a trace of its own, rooted at its server span.
    other = tracefiles.read_trace(tmp_path, own_trace)
    assert [s["kind"] for s in other if s["parentSpanId"] is None] == ["server"]
    assert {s["kind"] for s in other} == {"server", "client", "producer", "consumer"}
    assert_parents_known(other, None)


async def test_each_event_of_a_batch_keeps_its_own_trace(
    stack: Stack, tmp_path: Path, engines: tuple[AsyncEngine, AsyncEngine]
) -> None:
    topic = await create_topic(stack.kafka_bootstrap, "test.traces.batch", partitions=1)
    reader = traced("rt-sink", tmp_path)
    _, sink_engine = engines
    callers = {seq: new_traceparent() for seq in range(42000, 42020)}
    producer = AIOKafkaProducer(bootstrap_servers=stack.kafka_bootstrap, acks="all", linger_ms=50)
    await producer.start()
    try:
        for seq, traceparent in callers.items():
            await producer.send(
                topic,
                value=orjson.dumps({"seq": seq, "borrower_id": "B"}),
                key=b"B",
                headers=ping_headers(traceparent, subject=f"A-{seq}"),
            )
        await producer.flush()
    finally:
        await producer.stop()
    sink = Sink(topic=topic)
    await consume(stack, sink, reader, sink_engine, set(callers), batch=True)
    assert reader.flush()
    assert max(sink.run_sizes) > 1, sink.run_sizes  # applied together, not one by one

    for seq, caller in callers.items():
        _, trace_id, caller_span, _ = caller.split("-")
        spans = tracefiles.read_trace(tmp_path, trace_id)
        (consumed,) = [s for s in spans if s["kind"] == "consumer"]
        assert consumed["parentSpanId"] == caller_span
        assert sink.continued[seq] == f"00-{trace_id}-{consumed['spanId']}-01"
        assert_parents_known(spans, caller_span)
    # The run's statements are under its first event's span; the others link to it.
    linked = [s for s in tracefiles.read_spans(tracefiles.trace_files(tmp_path)) if s["links"]]
    assert linked
    anchors = {link["spanId"] for s in linked for link in s["links"]}
    statements = [s for s in tracefiles.read_spans(tracefiles.trace_files(tmp_path)) if s["kind"] == "client"]
    assert {s["parentSpanId"] for s in statements if s["name"] == "INSERT"} <= anchors | {
        s["spanId"]
        for s in tracefiles.read_spans(tracefiles.trace_files(tmp_path))
        if s["kind"] == "consumer"
    }


def ping_headers(traceparent: str, *, subject: str) -> list[tuple[str, bytes]]:
    values = {
        "ce_specversion": "1.0",
        "ce_id": str(uuid.uuid4()),
        "ce_source": "test",
        "ce_type": "test.ping",
        "ce_time": datetime.now(UTC).isoformat(),
        "ce_tenant": "t-traces",
        "ce_subject": subject,
        "ce_dataschema": "urn:collections:test.ping:1",
        "content-type": "application/json",
        "traceparent": traceparent,
    }
    return [(k, v.encode()) for k, v in values.items()]
