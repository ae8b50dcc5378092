"""Waiting for the asynchronous stack without fixed sleeps."""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Callable


async def eventually(
    check: Callable[[], object], *, timeout_s: float = 30.0, interval_s: float = 0.2
) -> None:
    """Poll a sync or async predicate until it is truthy; fail with the last value after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    result: object = None
    while True:
        result = check()
        if inspect.isawaitable(result):
            result = await result
        if result:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout_s}s (last: {result!r})")
        await asyncio.sleep(interval_s)
