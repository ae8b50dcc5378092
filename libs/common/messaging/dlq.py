"""Reading and replaying `<topic>.dlq`: what an operator needs at 3 a.m. after fixing a handler."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition

from common.messaging.admin import partitions_of
from common.messaging.producer import make_producer

DLQ_HEADER_PREFIX = "dlq_"


@dataclass(frozen=True)
class DeadLetter:
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: list[tuple[str, bytes]]

    def header(self, name: str) -> str | None:
        for k, v in self.headers:
            if k == name:
                return v.decode("utf-8", "replace")
        return None

    @property
    def original_headers(self) -> list[tuple[str, bytes]]:
        return [(k, v) for k, v in self.headers if not k.startswith(DLQ_HEADER_PREFIX)]

    def summary(self) -> dict[str, Any]:
        return {
            "dlq_partition": self.partition,
            "dlq_offset": self.offset,
            "ce_id": self.header("ce_id"),
            "ce_type": self.header("ce_type"),
            "ce_tenant": self.header("ce_tenant"),
            "reason": self.header("dlq_reason"),
            "error": self.header("dlq_error"),
            "origin": {
                "topic": self.header("dlq_topic"),
                "partition": self.header("dlq_partition"),
                "offset": self.header("dlq_offset"),
                "consumer": self.header("dlq_consumer"),
            },
            "at": self.header("dlq_at"),
        }


async def read(bootstrap: str, topic: str, *, limit: int = 100) -> list[DeadLetter]:
    """Every dead letter of `topic` from the beginning, without joining a group or committing."""
    dlq_topic = f"{topic}.dlq"
    tps = [TopicPartition(dlq_topic, p) for p in await partitions_of(bootstrap, dlq_topic)]
    if not tps:
        return []
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, group_id=None)
    await consumer.start()
    try:
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        ends = await consumer.end_offsets(tps)
        letters: list[DeadLetter] = []
        for tp in tps:
            while len(letters) < limit and await consumer.position(tp) < ends[tp]:
                batch = await consumer.getmany(tp, timeout_ms=1000, max_records=limit - len(letters))
                for record in batch.get(tp, []):
                    letters.append(
                        DeadLetter(
                            record.partition,
                            record.offset,
                            record.key,
                            record.value,
                            list(record.headers or []),
                        )
                    )
        return letters[:limit]
    finally:
        await consumer.stop()


async def replay(
    bootstrap: str,
    topic: str,
    *,
    ce_ids: set[str],
    limit: int,
    on_sent: Callable[[int, int], None] | None = None,
) -> int:
    """Publish dead letters back to `topic`; the consumers' inboxes keep a replay from applying twice.
    `on_sent(done, total)` hears of each one sent (collectctl's progress bar)."""
    wanted = {str(uuid.UUID(c)) for c in ce_ids}
    letters = [
        letter
        for letter in await read(bootstrap, topic, limit=limit)
        if not wanted or letter.header("ce_id") in wanted
    ]
    producer = make_producer(bootstrap, client_id="collectctl-replay")
    await producer.start()
    try:
        for done, letter in enumerate(letters, start=1):
            await producer.send_and_wait(
                topic, value=letter.value, key=letter.key, headers=letter.original_headers
            )
            if on_sent is not None:
                on_sent(done, len(letters))
    finally:
        await producer.stop()
    return len(letters)
