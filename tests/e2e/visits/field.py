"""The field force and the waiting the visits tests share."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

HOME = {"lat": 22.5500, "lon": 114.0600}  # the crew's base, 1.5 km from the borrowers (22.5431, 114.0579)
DOOR = {"lat": 22.5432, "lon": 114.0580}


async def until(check: Callable[[], Awaitable[Any]], *, timeout_s: float, interval_s: float = 0.3) -> Any:
    """The first truthy answer of `check`; fails with the last one after `timeout_s`."""
    deadline = asyncio.get_running_loop().time() + timeout_s
    while True:
        found = await check()
        if found:
            return found
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"not within {timeout_s} s: {found!r}")
        await asyncio.sleep(interval_s)


def agent(name: str, region: str = "广东") -> dict[str, Any]:
    return {
        "name": name,
        "region": region,
        "home": HOME,
        "shift": {"start": "09:00", "end": "18:00", "timezone": "Asia/Shanghai"},
        "languages": ["zh-CN"],
        "max_visits_per_day": 8,
    }
