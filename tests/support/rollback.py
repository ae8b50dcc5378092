"""A connection as the database superuser inside a transaction that is always rolled back: handler
and repository tests on the real PostgreSQL that leave nothing behind."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import orjson
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession, create_async_engine

from common.messaging.outbox import pending
from common.testing.stack import Stack


@asynccontextmanager
async def rolled_back(stack: Stack) -> AsyncIterator[AsyncConnection]:
    engine = create_async_engine(stack.superuser_dsn.replace("postgresql://", "postgresql+asyncpg://", 1))
    try:
        async with engine.connect() as conn:
            transaction = await conn.begin()
            try:
                yield conn
            finally:
                await transaction.rollback()
    finally:
        await engine.dispose()


def published(session: AsyncSession, ce_type: str) -> list[dict[str, Any]]:
    """The payloads of `ce_type` the transaction would publish (the outbox is written at commit)."""
    return [
        orjson.loads(row["payload"])  # type: ignore[arg-type]
        for row in pending(session)
        if row["headers"]["ce_type"] == ce_type  # type: ignore[index]
    ]
