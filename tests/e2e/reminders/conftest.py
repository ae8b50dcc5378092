"""Fixtures for the reminders end-to-end tests: one HTTP client per service and the sandbox, the
database superuser to look behind an API that is down, and a fresh tenant per test."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import asyncpg
import httpx
import pytest

from common.testing.stack import Stack
from tests.e2e.reminders.desk import Clients, Desk


def new_tenant() -> str:
    """A tenant id no other test, and no earlier run, has used."""
    return f"e2e-reminders-{uuid.uuid4().hex[:10]}"


@pytest.fixture(scope="session")
async def clients(stack: Stack) -> AsyncIterator[Clients]:
    async with (
        httpx.AsyncClient(base_url=stack.service_urls["intake"], timeout=20) as intake,
        httpx.AsyncClient(base_url=stack.service_urls["reminders"], timeout=30) as reminders,
        httpx.AsyncClient(base_url=stack.service_urls["compliance"], timeout=30) as compliance,
        httpx.AsyncClient(base_url=stack.sandbox_url, timeout=20) as sandbox,
    ):
        yield Clients(intake=intake, reminders=reminders, compliance=compliance, sandbox=sandbox)


@pytest.fixture(scope="session")
async def pg(stack: Stack) -> AsyncIterator[asyncpg.Pool]:
    """The database superuser, to read reminders' and compliance's rows while a service is down."""
    pool = await asyncpg.create_pool(stack.superuser_dsn, min_size=1, max_size=2)
    try:
        yield pool
    finally:
        await pool.close()


@pytest.fixture
def desk(stack: Stack, clients: Clients) -> Desk:
    return Desk(stack=stack, http=clients, tenant=new_tenant())


@pytest.fixture
def other(desk: Desk) -> Desk:
    """A second tenant beside `desk`'s, on the same clients."""
    return Desk(stack=desk.stack, http=desk.http, tenant=new_tenant())
