"""Fixtures of the security suite (`make test-security`)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest

from common.testing.stack import Stack


@pytest.fixture(scope="session")
async def pg(stack: Stack) -> AsyncIterator[asyncpg.Pool]:
    """The database superuser, to look at what the services stored."""
    pool = await asyncpg.create_pool(stack.superuser_dsn, min_size=1, max_size=4)
    try:
        yield pool
    finally:
        await pool.close()
