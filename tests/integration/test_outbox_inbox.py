"""The messaging kit against the real PostgreSQL and Kafka, with relay and consumer in their own processes."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg
import orjson
import pytest
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import create_async_engine

from common.db import make_session_factory, unit_of_work
from common.messaging.outbox import OutgoingEvent, enqueue
from common.testing.stack import Stack
from tests.integration.conftest import Peers
from tests.support import roundtrip
from tests.support.kafka import create_topic, group_caught_up, read_all
from tests.support.waiting import eventually

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("roundtrip_schemas")]


async def _place_pings(stack: Stack, topic: str, seqs: range) -> list[uuid.UUID]:
    """Each ping's state row and its outbox row in one transaction, as a service's handler writes them."""
    engine = create_async_engine(stack.layout.role_url(roundtrip.SOURCE))
    ids: list[uuid.UUID] = []
    try:
        async with unit_of_work(make_session_factory(engine)) as session:
            for seq in seqs:
                await session.execute(insert(roundtrip.pings).values(seq=seq))
                ids += await enqueue(
                    session,
                    roundtrip.source_outbox,
                    [
                        OutgoingEvent(
                            topic=topic,
                            key=f"B-{seq % 5}",
                            data=roundtrip.Ping(seq=seq, borrower_id=f"B-{seq % 5}"),
                            tenant="t-roundtrip",
                            subject=f"A-{seq}",
                        )
                    ],
                    source="rt_source",
                )
    finally:
        await engine.dispose()
    return ids


async def _effects(stack: Stack, ids: list[uuid.UUID]) -> dict[uuid.UUID, int]:
    conn = await asyncpg.connect(stack.role_dsn(roundtrip.SINK))
    try:
        rows = await conn.fetch(
            "SELECT event_id, count(*) AS n FROM effects WHERE event_id = ANY($1::uuid[]) GROUP BY event_id",
            ids,
        )
        return {r["event_id"]: r["n"] for r in rows}
    finally:
        await conn.close()


async def _unpublished(stack: Stack, ids: list[uuid.UUID]) -> int:
    conn = await asyncpg.connect(stack.role_dsn(roundtrip.SOURCE))
    try:
        return int(
            await conn.fetchval(
                "SELECT count(*) FROM outbox WHERE event_id = ANY($1::uuid[]) AND published_at IS NULL", ids
            )
        )
    finally:
        await conn.close()


async def test_outbox_round_trip_is_applied_once_and_recorded_in_the_inbox(
    stack: Stack, peers: Peers
) -> None:
    topic = await create_topic(stack.kafka_bootstrap, "test.roundtrip", partitions=3)
    group = f"rt-sink-{uuid.uuid4().hex[:6]}"
    ids = await _place_pings(stack, topic, range(1, 6))
    peers.start("consume", schema=roundtrip.SINK, topic=topic, group=group)
    peers.start("relay", schema=roundtrip.SOURCE)

    await eventually(lambda: _all_applied(stack, ids), timeout_s=60)
    assert await _effects(stack, ids) == {i: 1 for i in ids}
    assert await _unpublished(stack, ids) == 0

    records = await read_all(stack.kafka_bootstrap, topic)
    assert len(records) == len(ids)
    by_id = {dict(r.headers)["ce_id"].decode(): r for r in records}
    first = by_id[str(ids[0])]
    headers = {k: v.decode() for k, v in first.headers}
    assert headers["ce_specversion"] == "1.0"
    assert headers["ce_type"] == "test.ping"
    assert headers["ce_source"] == "rt_source"
    assert headers["ce_tenant"] == "t-roundtrip"
    assert headers["ce_subject"] == "A-1"
    assert headers["content-type"] == "application/json"
    assert first.key == b"B-1"

    conn = await asyncpg.connect(stack.role_dsn(roundtrip.SINK))
    try:
        inbox = await conn.fetch(
            "SELECT consumer, event_id, topic FROM inbox WHERE event_id = ANY($1::uuid[])", ids
        )
    finally:
        await conn.close()
    assert sorted(r["event_id"] for r in inbox) == sorted(ids)
    assert {r["consumer"] for r in inbox} == {group}
    assert {r["topic"] for r in inbox} == {topic}


async def _all_applied(stack: Stack, ids: list[uuid.UUID]) -> bool:
    return len(await _effects(stack, ids)) == len(ids)


async def test_relay_killed_between_publish_and_mark_publishes_again_but_applies_once(
    stack: Stack, peers: Peers
) -> None:
    topic = await create_topic(stack.kafka_bootstrap, "test.crash", partitions=3)
    group = f"rt-sink-{uuid.uuid4().hex[:6]}"
    ids = await _place_pings(stack, topic, range(100, 120))

    crashing = peers.start("relay", schema=roundtrip.SOURCE, faults="outbox.after_publish")
    assert await asyncio.to_thread(crashing.wait, 60) == 137
    # Published, then died before marking: every row is still pending.
    assert len(await read_all(stack.kafka_bootstrap, topic)) == len(ids)
    assert await _unpublished(stack, ids) == len(ids)

    peers.start("consume", schema=roundtrip.SINK, topic=topic, group=group)
    peers.start("relay", schema=roundtrip.SOURCE)
    await eventually(lambda: _unpublished_is_zero(stack, ids), timeout_s=60)
    # Each event is on the topic twice; wait until the consumer has read past both copies.
    assert len(await read_all(stack.kafka_bootstrap, topic)) == 2 * len(ids)
    await eventually(lambda: group_caught_up(stack.kafka_bootstrap, group, topic), timeout_s=60)

    assert await _effects(stack, ids) == {i: 1 for i in ids}


async def _unpublished_is_zero(stack: Stack, ids: list[uuid.UUID]) -> bool:
    return await _unpublished(stack, ids) == 0


async def test_consumer_killed_after_applying_before_committing_offsets_applies_once(
    stack: Stack, peers: Peers
) -> None:
    topic = await create_topic(stack.kafka_bootstrap, "test.consumercrash", partitions=1)
    group = f"rt-sink-{uuid.uuid4().hex[:6]}"
    ids = await _place_pings(stack, topic, range(200, 205))
    peers.start("relay", schema=roundtrip.SOURCE)

    crashing = peers.start(
        "consume", schema=roundtrip.SINK, topic=topic, group=group, faults="consumer.after_apply"
    )
    assert await asyncio.to_thread(crashing.wait, 60) == 137
    # The first run of events was applied and committed in Postgres, but its offsets never reached Kafka.
    assert len(await _effects(stack, ids)) >= 1

    peers.start("consume", schema=roundtrip.SINK, topic=topic, group=group)
    await eventually(lambda: _all_applied(stack, ids), timeout_s=60)
    await eventually(lambda: group_caught_up(stack.kafka_bootstrap, group, topic), timeout_s=60)
    assert await _effects(stack, ids) == {i: 1 for i in ids}


async def test_published_rows_past_retention_are_pruned_and_nothing_else(stack: Stack) -> None:
    from datetime import timedelta

    from common.messaging.producer import make_producer
    from common.messaging.relay import OutboxRelay

    ids = await _place_pings(stack, "test.prune.v1", range(300, 304))
    old, recent, unpublished = ids[:2], ids[2:3], ids[3:]
    conn = await asyncpg.connect(stack.role_dsn(roundtrip.SOURCE))
    try:
        await conn.execute(
            "UPDATE outbox SET published_at = now() - interval '3 days' WHERE event_id = ANY($1::uuid[])", old
        )
        await conn.execute("UPDATE outbox SET published_at = now() WHERE event_id = ANY($1::uuid[])", recent)
        engine = create_async_engine(stack.layout.role_url(roundtrip.SOURCE))
        relay = OutboxRelay(
            sessions=make_session_factory(engine),
            outbox=roundtrip.source_outbox,
            producer=make_producer(stack.kafka_bootstrap, client_id="prune-test"),
        )
        try:
            assert await relay.prune_published(older_than=timedelta(days=1)) >= 2
        finally:
            await engine.dispose()
        left = {
            r["event_id"]
            for r in await conn.fetch("SELECT event_id FROM outbox WHERE event_id = ANY($1::uuid[])", ids)
        }
        # The row left pending names a topic that does not exist: no later relay should trip on it.
        await conn.execute("DELETE FROM outbox WHERE event_id = ANY($1::uuid[])", unpublished)
    finally:
        await conn.close()
    assert left == set(recent) | set(unpublished)


async def test_relays_of_one_outbox_take_turns_and_keep_each_keys_order(stack: Stack, peers: Peers) -> None:
    """Replicas of a service each run a relay on the same outbox. Two publishing at once could put one
    borrower's events on the topic out of order, so they take turns: while one holds its turn (here the
    test holds it, as a relay in the middle of a pass would) the others publish nothing."""
    from common.messaging.relay import RELAY_LOCK_CLASS

    topic = await create_topic(stack.kafka_bootstrap, "test.relays", partitions=3)
    holder = await asyncpg.connect(stack.role_dsn(roundtrip.SOURCE))
    try:
        turn = holder.transaction()
        await turn.start()
        await holder.execute(
            "SELECT pg_advisory_xact_lock($1, hashtext($2))", RELAY_LOCK_CLASS, f"{roundtrip.SOURCE}.outbox"
        )
        ids = await _place_pings(stack, topic, range(20_000, 23_000))
        peers.start("relay", schema=roundtrip.SOURCE)
        peers.start("relay", schema=roundtrip.SOURCE)
        await asyncio.sleep(5)
        assert await _unpublished(stack, ids) == len(ids), "a relay published while another had its turn"
        await turn.rollback()
    finally:
        await holder.close()

    await eventually(lambda: _unpublished_is_zero(stack, ids), timeout_s=90)
    records = await read_all(stack.kafka_bootstrap, topic)
    seqs: dict[bytes, list[int]] = {}
    for record in records:
        seqs.setdefault(record.key, []).append(orjson.loads(record.value)["seq"])
    assert sum(len(s) for s in seqs.values()) == len(ids)
    for key, in_topic in seqs.items():
        assert in_topic == sorted(in_topic), f"{key!r} out of order"
