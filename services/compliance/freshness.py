"""How fresh compliance's view of a borrower is, for dry runs that name no intake sequence.

Every intake event of a borrower is on the one partition of `intake.v1` its key hashes to. When
compliance's consumer group has committed that partition up to its end, every intake event published
so far (for this borrower and the others sharing the partition) is applied. Committed offsets trail
the applied ones by at most one poll, so a short wait covers a quiet stack; a real backlog defers.
"""

from __future__ import annotations

import asyncio
import time

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.partitioner import DefaultPartitioner

INTAKE_TOPIC = "intake.v1"
GROUP = f"compliance.{INTAKE_TOPIC}"  # the consumer group the service frame runs for intake.v1


class IntakeLag:
    """Reads the end offset and compliance's committed offset of a borrower's intake partition."""

    def __init__(
        self, bootstrap: str, *, topic: str = INTAKE_TOPIC, group: str = GROUP, wait_s: float = 1.5
    ) -> None:
        # Joins no group: it only asks the coordinator for the group's committed offsets.
        self._consumer = AIOKafkaConsumer(
            bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False, client_id="compliance-lag"
        )
        self._topic = topic
        self._partitioner = DefaultPartitioner()
        self._wait_s = wait_s

    async def start(self) -> None:
        await self._consumer.start()
        await self._consumer.topics()  # loads the topic metadata the partitioner needs

    async def stop(self) -> None:
        await self._consumer.stop()

    def _partition(self, borrower_id: str) -> TopicPartition:
        partitions = sorted(self._consumer.partitions_for_topic(self._topic) or {0})
        chosen = self._partitioner(borrower_id.encode(), partitions, partitions)
        return TopicPartition(self._topic, chosen)

    async def behind(self, borrower_id: str) -> int:
        """Intake events on the borrower's partition not yet applied by compliance, after waiting
        up to `wait_s` for them to be applied."""
        deadline = time.monotonic() + self._wait_s
        while True:
            tp = self._partition(borrower_id)
            end = (await self._consumer.end_offsets([tp]))[tp]
            committed = await self._consumer.committed(tp) or 0
            lag = max(int(end) - int(committed), 0)
            if lag == 0 or time.monotonic() > deadline:
                return lag
            await asyncio.sleep(0.1)
