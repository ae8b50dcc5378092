"""The `travel` fixture: let days pass in the running stack by moving every service's clock.

The dev and test stack runs its services with clock control on (PUT /v1/ops/clock, admin only,
refused in production). A test that needs day 6 moves the clocks six days ahead, reads `travel.now()`
for the stack's time, and the fixture puts every clock back when the test ends.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import asyncpg
import httpx
import pytest

from common.auth import Role
from common.testing.stack import Stack


class TimeTravel:
    """Moves the clocks of all four services together."""

    def __init__(self, stack: Stack) -> None:
        self._stack = stack
        self.offset = timedelta(0)

    def now(self) -> datetime:
        """The services' time."""
        return datetime.now(UTC) + self.offset

    async def by(self, delta: timedelta) -> datetime:
        """Move every clock `delta` further ahead; returns the services' new time."""
        await self.to(self.offset + delta)
        return self.now()

    async def to(self, offset: timedelta) -> None:
        headers = self._stack.headers(tenant="time-travel", role=Role.ADMIN, sub="time-travel")
        async with httpx.AsyncClient(timeout=10) as client:
            for service, url in sorted(self._stack.service_urls.items()):
                response = await client.put(
                    f"{url}/v1/ops/clock", json={"offset_seconds": offset.total_seconds()}, headers=headers
                )
                if response.status_code != 200:
                    raise RuntimeError(
                        f"{service} refused to move its clock: {response.status_code} {response.text}"
                    )
        self.offset = offset

    async def settle(self, timeout_s: float = 120) -> None:
        """Wait until the permits the shift made due are decided: days passing wake the ladders of every
        tenant's open accounts, and the next test should not queue behind them."""
        conn = await asyncpg.connect(self._stack.superuser_dsn)
        try:
            deadline = asyncio.get_running_loop().time() + timeout_s
            while asyncio.get_running_loop().time() < deadline:
                waiting = await conn.fetchval(
                    "SELECT count(*) FROM reminders.jobs WHERE state = 'awaiting_permit'"
                )
                if not waiting:
                    return
                await asyncio.sleep(0.5)
        finally:
            await conn.close()


@pytest.fixture
async def travel(stack: Stack) -> AsyncIterator[TimeTravel]:
    clocks = TimeTravel(stack)
    await clocks.to(timedelta(0))
    try:
        yield clocks
    finally:
        moved = clocks.offset != timedelta(0)
        await clocks.to(timedelta(0))
        if moved:
            await clocks.settle()
