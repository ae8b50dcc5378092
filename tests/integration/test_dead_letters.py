"""Poison messages reach `<topic>.dlq` with their error and origin; the partition keeps flowing."""

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
from tests.support.cli import collectctl
from tests.support.kafka import create_topic, read_all
from tests.support.waiting import eventually

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("roundtrip_schemas")]


def _headers(ce_type: str = "test.ping", **override: str | None) -> list[tuple[str, bytes]]:
    base: dict[str, str | None] = {
        "ce_specversion": "1.0",
        "ce_id": str(uuid.uuid4()),
        "ce_source": "test",
        "ce_type": ce_type,
        "ce_time": datetime.now(UTC).isoformat(),
        "ce_tenant": "t-poison",
        "ce_dataschema": f"urn:collections:{ce_type}:1",
        "content-type": "application/json",
    }
    base.update(override)
    return [(k, v.encode()) for k, v in base.items() if v is not None]


def _ping(seq: int) -> bytes:
    return orjson.dumps({"seq": seq, "borrower_id": "B-poison"})


async def test_poison_messages_are_dead_lettered_and_later_messages_still_apply(stack: Stack) -> None:
    topic = await create_topic(stack.kafka_bootstrap, "test.poison", partitions=1)
    failing_seq = 7013
    sent = [
        ("good", _headers(), _ping(7001)),
        ("invalid_payload", _headers(), b"{not json"),
        ("unknown_type", _headers(ce_type="test.nobody_knows"), _ping(7002)),
        ("invalid_payload", _headers(), orjson.dumps({"seq": "seven", "borrower_id": 1})),
        ("envelope", _headers(ce_id=None, ce_time="yesterday"), _ping(7003)),
        ("handler_error", _headers(), _ping(failing_seq)),
        ("good", _headers(), _ping(7004)),
    ]
    producer = AIOKafkaProducer(bootstrap_servers=stack.kafka_bootstrap, acks="all")
    await producer.start()
    try:
        offsets = []
        for _, headers, value in sent:
            meta = await producer.send_and_wait(topic, value=value, key=b"B-poison", headers=headers)
            offsets.append(meta.offset)
    finally:
        await producer.stop()

    engine = create_async_engine(stack.layout.role_url(roundtrip.SINK))
    stop = asyncio.Event()
    runner = ConsumerRunner(
        name=f"poison-{uuid.uuid4().hex[:6]}",
        topics=[topic],
        router=roundtrip.sink_router(failing_seq=failing_seq),
        sessions=make_session_factory(engine),
        inbox_table=roundtrip.sink_inbox,
        bootstrap=stack.kafka_bootstrap,
        max_attempts=3,
        retry_backoff_s=0.05,
    )
    task = asyncio.create_task(runner.run(stop))
    try:
        await eventually(lambda: _seqs_applied(stack, {7001, 7004}), timeout_s=60)
        await eventually(lambda: _dlq_count(stack, topic, 5), timeout_s=30)
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=30)
        await engine.dispose()

    dead = await read_all(stack.kafka_bootstrap, f"{topic}.dlq")
    expected = [(reason, offsets[i]) for i, (reason, _, _) in enumerate(sent) if reason != "good"]
    got = []
    for record in dead:
        h = {k: v.decode() for k, v in record.headers}
        assert h["dlq_topic"] == topic
        assert h["dlq_partition"] == "0"
        assert h["dlq_error"]
        assert h["dlq_consumer"] == runner.name
        assert record.key == b"B-poison"
        got.append((h["dlq_reason"], int(h["dlq_offset"])))
    assert sorted(got, key=lambda g: g[1]) == expected
    handler_letter = next(r for r in dead if dict(r.headers)["dlq_reason"] == b"handler_error")
    assert b"handler refuses seq 7013" in dict(handler_letter.headers)["dlq_error"]
    assert await _applied_seqs(stack) >= {7001, 7004}
    assert failing_seq not in await _applied_seqs(stack)

    # The operator's view of them: a table, one letter whole, and a replay of just that one.
    env = {"COLLECTCTL_KAFKA_BOOTSTRAP": stack.kafka_bootstrap}
    listed = (await collectctl("dlq", "list", topic, env=env)).splitlines()
    assert listed[0].split()[:5] == ["LETTER", "CE_ID", "TYPE", "TENANT", "REASON"]
    assert listed[-1] == "5 dead letter(s)"
    assert sum("handler_error" in line for line in listed) == 1
    ce_id = dict(handler_letter.headers)["ce_id"].decode()
    shown = orjson.loads(await collectctl("dlq", "show", topic, ce_id, env=env))
    assert shown["reason"] == "handler_error" and "handler refuses seq 7013" in shown["error"]
    assert shown["payload"] == {"seq": failing_seq, "borrower_id": "B-poison"}
    assert shown["origin"]["offset"] == str(offsets[5])
    replayed = await collectctl("dlq", "replay", topic, "--ce-id", ce_id, env=env)
    assert replayed.strip() == f"replayed 1 event(s) to {topic}"
    back = (await read_all(stack.kafka_bootstrap, topic))[len(sent) :]
    assert [(dict(r.headers)["ce_id"].decode(), r.value) for r in back] == [(ce_id, _ping(failing_seq))]


async def _applied_seqs(stack: Stack) -> set[int]:
    conn = await asyncpg.connect(stack.role_dsn(roundtrip.SINK))
    try:
        return {r["seq"] for r in await conn.fetch("SELECT seq FROM effects")}
    finally:
        await conn.close()


async def _seqs_applied(stack: Stack, seqs: set[int]) -> bool:
    return seqs <= await _applied_seqs(stack)


async def _dlq_count(stack: Stack, topic: str, n: int) -> bool:
    return len(await read_all(stack.kafka_bootstrap, f"{topic}.dlq")) >= n
