"""A connection as the database superuser inside a transaction that is always rolled back: handler
and repository tests on the real PostgreSQL that leave nothing behind."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine

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
