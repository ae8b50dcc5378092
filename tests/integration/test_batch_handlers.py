"""Batch handlers: a run of one partition's events of one type is claimed in one statement and handled
in one call, with the guarantees of one-event handlers: a poison event mid-run is retried alone and
dead-lettered, the others apply once, duplicates in a run apply once."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

import asyncpg
import orjson
import pytest
from aiokafka import AIOKafkaProducer
from sqlalchemy.ext.asyncio import create_async_engine

from common.db import make_session_factory
from common.messaging.consumer import ConsumerRunner
from common.testing.stack import Stack
from tests.support import roundtrip
from tests.support.kafka import create_topic, read_all
from tests.support.waiting import eventually

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("roundtrip_schemas")]


def headers(ce_id: uuid.UUID | None = None) -> list[tuple[str, bytes]]:
    values = {
        "ce_specversion": "1.0",
        "ce_id": str(ce_id or uuid.uuid4()),
        "ce_source": "test",
        "ce_type": "test.ping",
        "ce_time": datetime.now(UTC).isoformat(),
        "ce_tenant": "t-batch",
        "ce_dataschema": "urn:collections:test.ping:1",
        "content-type": "application/json",
    }
    return [(k, v.encode()) for k, v in values.items()]


async def applied(stack: Stack, seqs: range) -> list[int]:
    conn = await asyncpg.connect(stack.role_dsn(roundtrip.SINK))
    try:
        rows = await conn.fetch("SELECT seq FROM effects WHERE seq >= $1 AND seq < $2", seqs.start, seqs.stop)
        return sorted(r["seq"] for r in rows)
    finally:
        await conn.close()


async def test_runs_are_handled_together_and_a_poison_event_is_isolated(stack: Stack) -> None:
    topic = await create_topic(stack.kafka_bootstrap, "test.batch", partitions=1)
    clean, mixed = range(8100, 8140), range(8200, 8240)
    poison = 8217
    repeated = uuid.uuid4()
    producer = AIOKafkaProducer(bootstrap_servers=stack.kafka_bootstrap, acks="all", linger_ms=50)
    await producer.start()
    seen: list[int] = []
    task = None
    engine = create_async_engine(stack.layout.role_url(roundtrip.SINK))
    stop = asyncio.Event()
    runner = ConsumerRunner(
        name=f"batch-{uuid.uuid4().hex[:6]}",
        topics=[topic],
        router=roundtrip.batch_sink_router(failing_seq=poison, seen=seen),
        sessions=make_session_factory(engine),
        inbox_table=roundtrip.sink_inbox,
        bootstrap=stack.kafka_bootstrap,
        max_attempts=2,
        retry_backoff_s=0.05,
    )
    try:
        for seq in clean:
            # The same event twice in a row, as a relay that crashed before marking would send it.
            copies = 2 if seq == clean.start + 3 else 1
            for _ in range(copies):
                event_id = repeated if copies == 2 else None
                await producer.send(
                    topic,
                    value=orjson.dumps({"seq": seq, "borrower_id": "B"}),
                    key=b"B",
                    headers=headers(event_id),
                )
        await producer.flush()
        task: asyncio.Task[None] | None = asyncio.create_task(runner.run(stop))
        await eventually(lambda: _count(stack, clean, len(clean)), timeout_s=60)
        assert max(seen) > 1, seen  # the run came in one call (or a few), not event by event
        assert await applied(stack, clean) == list(clean)  # the repeated event applied once

        for seq in mixed:
            await producer.send(
                topic, value=orjson.dumps({"seq": seq, "borrower_id": "B"}), key=b"B", headers=headers()
            )
        await producer.flush()
        await eventually(lambda: _count(stack, mixed, len(mixed) - 1), timeout_s=60)
        await eventually(lambda: _dead(stack, topic, 1), timeout_s=30)
    finally:
        stop.set()
        await producer.stop()
        if task is not None:
            await asyncio.wait_for(task, timeout=30)
        await engine.dispose()

    assert await applied(stack, mixed) == [s for s in mixed if s != poison]
    (letter,) = await read_all(stack.kafka_bootstrap, f"{topic}.dlq")
    assert dict(letter.headers)["dlq_reason"] == b"handler_error"
    assert orjson.loads(letter.value)["seq"] == poison


async def _count(stack: Stack, seqs: range, n: int) -> bool:
    return len(await applied(stack, seqs)) >= n


async def _dead(stack: Stack, topic: str, n: int) -> bool:
    return len(await read_all(stack.kafka_bootstrap, f"{topic}.dlq")) >= n
