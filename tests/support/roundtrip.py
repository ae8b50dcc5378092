"""A producer schema and a consumer schema owned by their own roles, to drive the messaging kit
across processes against the real PostgreSQL and Kafka without touching the services' schemas."""

from __future__ import annotations

import asyncpg
from sqlalchemy import Column, DateTime, Integer, MetaData, Table, Text, func, insert
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from common.contracts import Contract, contract
from common.db import make_metadata
from common.messaging.consumer import EventRouter
from common.messaging.envelope import Event
from common.messaging.tables import inbox_table, outbox_table

SOURCE = "rt_source"
SINK = "rt_sink"


@contract("test.ping", version=1)
class Ping(Contract):
    seq: int
    borrower_id: str


source_metadata: MetaData = make_metadata(SOURCE)
source_outbox = outbox_table(source_metadata)
pings = Table(
    "pings",
    source_metadata,
    Column("seq", Integer, primary_key=True),
    Column("created_at", DateTime(timezone=True), server_default=func.now()),
)

sink_metadata: MetaData = make_metadata(SINK)
sink_inbox = inbox_table(sink_metadata)
# Deliberately no unique key: a second application of the same event would show as a second row.
effects = Table(
    "effects",
    sink_metadata,
    Column("event_id", UUID(as_uuid=True), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("consumer", Text, nullable=False),
    Column("applied_at", DateTime(timezone=True), server_default=func.now()),
)


class HandlerFailedError(RuntimeError):
    pass


def batch_sink_router(*, failing_seq: int | None = None, seen: list[int] | None = None) -> EventRouter:
    """The sink with a batch handler: one call (and one insert) per run of pings; `seen` collects the
    size of every run it was handed."""
    router = EventRouter()

    @router.on_batch("test.ping")
    async def apply_pings(session: AsyncSession, events: list[Event[Ping]]) -> None:
        if seen is not None:
            seen.append(len(events))
        if any(e.data.seq == failing_seq for e in events):
            raise HandlerFailedError(f"handler refuses seq {failing_seq}")
        await session.execute(
            insert(effects),
            [{"event_id": e.envelope.id, "seq": e.data.seq, "consumer": "sink"} for e in events],
        )

    return router


def sink_router(*, failing_seq: int | None = None) -> EventRouter:
    router = EventRouter()

    @router.on("test.ping")
    async def apply_ping(session: AsyncSession, event: Event[Ping]) -> None:
        if event.data.seq == failing_seq:
            raise HandlerFailedError(f"handler refuses seq {failing_seq}")
        await session.execute(
            insert(effects).values(event_id=event.envelope.id, seq=event.data.seq, consumer="sink")
        )

    return router


async def reset_schemas(superuser_dsn: str, role_url: str) -> None:
    """Drop and recreate both schemas, each owned by its own login role, with the kit's tables."""
    conn = await asyncpg.connect(superuser_dsn)
    try:
        for schema in (SOURCE, SINK):
            await conn.execute(
                f"""
                DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{schema}') THEN
                  CREATE ROLE {schema} LOGIN; END IF; END $$;
                DROP SCHEMA IF EXISTS {schema} CASCADE;
                CREATE SCHEMA {schema} AUTHORIZATION {schema};
                GRANT CONNECT ON DATABASE collections TO {schema};
                """
            )
    finally:
        await conn.close()
    for schema, metadata in ((SOURCE, source_metadata), (SINK, sink_metadata)):
        engine = create_async_engine(role_url.replace("{role}", schema))
        async with engine.begin() as c:
            await c.run_sync(metadata.create_all)
        await engine.dispose()
