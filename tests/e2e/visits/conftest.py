"""Fixtures of the visits end-to-end tests: one HTTP client per service the story crosses."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from common.testing.stack import Stack


@pytest.fixture
async def http(stack: Stack) -> AsyncIterator[dict[str, httpx.AsyncClient]]:
    async with (
        httpx.AsyncClient(base_url=stack.service_urls["intake"], timeout=20) as intake,
        httpx.AsyncClient(base_url=stack.service_urls["visits"], timeout=60) as visits,
        httpx.AsyncClient(base_url=stack.service_urls["reminders"], timeout=20) as reminders,
    ):
        yield {"intake": intake, "visits": visits, "reminders": reminders}
