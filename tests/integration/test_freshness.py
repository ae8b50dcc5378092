"""Compliance's freshness probe against the real broker: a borrower's intake partition counts as
applied only once compliance's group has committed it to its end."""

from __future__ import annotations

import uuid

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.structs import OffsetAndMetadata

from common.messaging.producer import make_producer
from common.testing.stack import Stack
from compliance.freshness import IntakeLag
from tests.support.kafka import create_topic

pytestmark = pytest.mark.integration


async def test_events_not_committed_by_the_group_are_behind_and_catching_up_clears_it(stack: Stack) -> None:
    topic = await create_topic(stack.kafka_bootstrap, "fresh", partitions=4)
    group = f"fresh-{uuid.uuid4().hex[:8]}"
    borrower = str(uuid.uuid4())
    lag = IntakeLag(stack.kafka_bootstrap, topic=topic, group=group, wait_s=0.3)
    producer = make_producer(stack.kafka_bootstrap, client_id="fresh-test")
    await lag.start()
    await producer.start()
    committer = AIOKafkaConsumer(
        bootstrap_servers=stack.kafka_bootstrap, group_id=group, enable_auto_commit=False
    )
    await committer.start()
    try:
        assert await lag.behind(borrower) == 0
        sent = [await producer.send_and_wait(topic, value=b"{}", key=borrower.encode()) for _ in range(3)]
        assert {m.partition for m in sent} == {sent[0].partition}  # one key, one partition
        assert await lag.behind(borrower) == 3

        tp = TopicPartition(topic, sent[0].partition)
        committer.assign([tp])
        await committer.commit({tp: OffsetAndMetadata(sent[1].offset + 1, "")})
        assert await lag.behind(borrower) == 1
        await committer.commit({tp: OffsetAndMetadata(sent[2].offset + 1, "")})
        assert await lag.behind(borrower) == 0
    finally:
        await committer.stop()
        await producer.stop()
        await lag.stop()
