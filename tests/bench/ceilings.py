"""Ceilings measured in the same run as the benchmarks, on the same broker and database: what this
machine does at most, so each figure is a ratio, not an absolute that depends on how busy it is.

- `consume_loop`: the minimal exactly-once consumer: read a run of events from a partition, one
  transaction that records them in an inbox, writes one result row and one outbox row each, commit,
  then commit the offsets. Any service that applies events does at least this. Two ways of writing:
  `insert` (a prepared multi-row INSERT per table, as most services would) and `copy` (COPY, the
  fastest this database takes rows, which our hot paths use too).
"""

from __future__ import annotations

import time
import uuid
from typing import Any

import asyncpg
import orjson
from aiokafka import AIOKafkaConsumer, TopicPartition

from common.devstack.layout import Layout
from common.messaging.producer import make_producer
from tests.support.kafka import create_topic

# About the size of a permit.requested payload.
PAYLOAD = orjson.dumps(
    {
        "request_id": "r" * 40,
        "account_id": "a" * 36,
        "borrower_id": "b" * 36,
        "channel": "sms",
        "note": "x" * 150,
    }
)


async def consume_loop(*, events: int = 20_000, partitions: int = 12, mode: str = "copy") -> dict[str, Any]:
    layout = Layout()
    topic = await create_topic(layout.kafka_bootstrap, "ceiling", partitions=partitions)
    producer = make_producer(layout.kafka_bootstrap, client_id="bench-ceiling")
    await producer.start()
    try:
        for _ in range(events):
            await producer.send(topic, value=PAYLOAD, key=str(uuid.uuid4()).encode())
        await producer.flush()
    finally:
        await producer.stop()
    conn = await asyncpg.connect(layout.superuser_dsn())
    await conn.execute(
        """
        DROP SCHEMA IF EXISTS bench_ceiling CASCADE; CREATE SCHEMA bench_ceiling;
        CREATE TABLE bench_ceiling.inbox (consumer text, event_id text, PRIMARY KEY (consumer, event_id));
        CREATE TABLE bench_ceiling.results (id text PRIMARY KEY, payload jsonb NOT NULL);
        CREATE TABLE bench_ceiling.outbox (id bigserial PRIMARY KEY, payload bytea NOT NULL);
        """
    )
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=layout.kafka_bootstrap,
        group_id=f"ceiling-{uuid.uuid4().hex[:8]}",
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        max_poll_records=500,
    )
    await consumer.start()
    done = 0
    start = time.perf_counter()
    try:
        while done < events:
            batches = await consumer.getmany(timeout_ms=200, max_records=500)
            offsets: dict[TopicPartition, int] = {}
            for tp, records in batches.items():
                ids = [f"{tp.partition}:{r.offset}" for r in records]
                async with conn.transaction():
                    if mode == "insert":
                        await _insert(conn, ids, records)
                        offsets[tp] = records[-1].offset + 1
                        done += len(records)
                        continue
                    await conn.copy_records_to_table(
                        "inbox", schema_name="bench_ceiling", records=[("ceiling", i) for i in ids]
                    )
                    await conn.copy_records_to_table(
                        "results",
                        schema_name="bench_ceiling",
                        records=[(i, r.value.decode()) for i, r in zip(ids, records, strict=True)],
                    )
                    await conn.copy_records_to_table(
                        "outbox",
                        schema_name="bench_ceiling",
                        columns=["payload"],
                        records=[(r.value,) for r in records],
                    )
                offsets[tp] = records[-1].offset + 1
                done += len(records)
            if offsets:
                await consumer.commit(offsets)
        elapsed = time.perf_counter() - start
    finally:
        await consumer.stop()
        await conn.execute("DROP SCHEMA IF EXISTS bench_ceiling CASCADE")
        await conn.close()
    return {"mode": mode, "events": events, "seconds": round(elapsed, 2), "per_s": round(events / elapsed)}


async def _insert(conn: asyncpg.Connection, ids: list[str], records: list[Any]) -> None:
    await conn.executemany("INSERT INTO bench_ceiling.inbox VALUES ('ceiling', $1)", [(i,) for i in ids])
    await conn.executemany(
        "INSERT INTO bench_ceiling.results VALUES ($1, $2)",
        [(i, r.value.decode()) for i, r in zip(ids, records, strict=True)],
    )
    await conn.executemany(
        "INSERT INTO bench_ceiling.outbox (payload) VALUES ($1)", [(r.value,) for r in records]
    )
