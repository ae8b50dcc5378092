"""Kafka helpers for tests: private topics, reading a topic whole, waiting for a consumer group."""

from __future__ import annotations

import contextlib
import uuid

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from common.messaging.admin import partitions_of


async def create_topic(bootstrap: str, prefix: str, *, partitions: int) -> str:
    """A fresh topic and its `.dlq`, so a test never reads another test's messages."""
    name = f"{prefix}.{uuid.uuid4().hex[:8]}.v1"
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        with contextlib.suppress(TopicAlreadyExistsError):
            await admin.create_topics([NewTopic(name, partitions, 1), NewTopic(f"{name}.dlq", partitions, 1)])
    finally:
        await admin.close()
    return name


async def read_all(bootstrap: str, topic: str) -> list[ConsumerRecord[bytes, bytes]]:
    """Every record of `topic` up to its current end offsets."""
    tps = [TopicPartition(topic, p) for p in await partitions_of(bootstrap, topic)]
    assert tps, f"topic {topic} does not exist"
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, group_id=None)
    await consumer.start()
    try:
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        ends = await consumer.end_offsets(tps)
        records: list[ConsumerRecord[bytes, bytes]] = []
        for tp in tps:
            while await consumer.position(tp) < ends[tp]:
                batch = await consumer.getmany(tp, timeout_ms=1000)
                records.extend(batch.get(tp, []))
        return records
    finally:
        await consumer.stop()


async def group_caught_up(bootstrap: str, group: str, topic: str) -> bool:
    """True when `group` has committed offsets up to the end of every partition of `topic`."""
    tps = [TopicPartition(topic, p) for p in await partitions_of(bootstrap, topic)]
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, group_id=None)
    await admin.start()
    await consumer.start()
    try:
        committed = await admin.list_consumer_group_offsets(group)
        ends = await consumer.end_offsets(tps)
        return all(ends[tp] == 0 or (tp in committed and committed[tp].offset >= ends[tp]) for tp in tps)
    finally:
        await consumer.stop()
        await admin.close()


async def group_state(bootstrap: str, group: str) -> tuple[str, int]:
    """The consumer group's state ("Stable", "PreparingRebalance", ...) and how many members it has."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        (described,) = await admin.describe_consumer_groups([group])
        # (error_code, group_id, state, protocol_type, protocol, members, ...)
        found = described.groups[0]
        return str(found[2]), len(found[5])
    finally:
        await admin.close()
