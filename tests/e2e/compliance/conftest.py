"""Fixtures for the compliance end-to-end tests: HTTP clients, one Kafka producer and one reader of
compliance.v1 for the session, and a fresh tenant per test."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import asyncpg
import httpx
import pytest

from common.messaging.producer import make_producer
from common.testing.stack import Stack
from tests.e2e.compliance.desk import ComplianceFeed, Desk, ReminderSide


def new_tenant() -> str:
    """A tenant id no other test, and no earlier run, has used."""
    return f"e2e-compliance-{uuid.uuid4().hex[:10]}"


@pytest.fixture(scope="session")
async def intake_http(stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=stack.service_urls["intake"], timeout=20) as client:
        yield client


@pytest.fixture(scope="session")
async def compliance_http(stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=stack.service_urls["compliance"], timeout=30) as client:
        yield client


@pytest.fixture(scope="session")
async def pg(stack: Stack) -> AsyncIterator[asyncpg.Pool]:
    """The database superuser, to look behind the API (inbox, stored decisions, the audit rows)."""
    pool = await asyncpg.create_pool(stack.superuser_dsn, min_size=1, max_size=4)
    try:
        yield pool
    finally:
        await pool.close()


@pytest.fixture(scope="session")
async def feed(stack: Stack) -> AsyncIterator[ComplianceFeed]:
    reader = ComplianceFeed(stack.kafka_bootstrap)
    await reader.start()
    try:
        yield reader
    finally:
        await reader.stop()


@pytest.fixture(scope="session")
async def reminders(stack: Stack) -> AsyncIterator[ReminderSide]:
    producer = make_producer(stack.kafka_bootstrap, client_id="e2e-compliance-reminders")
    await producer.start()
    try:
        yield ReminderSide(producer)
    finally:
        await producer.stop()


@pytest.fixture
def desk(
    stack: Stack,
    intake_http: httpx.AsyncClient,
    compliance_http: httpx.AsyncClient,
    feed: ComplianceFeed,
    reminders: ReminderSide,
) -> Desk:
    """A tenant no other test (or earlier run) has used."""
    return Desk(
        stack=stack,
        intake=intake_http,
        compliance=compliance_http,
        feed=feed,
        reminders=reminders,
        tenant=new_tenant(),
    )


@pytest.fixture
def other(desk: Desk) -> Desk:
    """A second tenant beside `desk`'s, on the same clients."""
    return Desk(
        stack=desk.stack,
        intake=desk.intake,
        compliance=desk.compliance,
        feed=desk.feed,
        reminders=desk.reminders,
        tenant=new_tenant(),
    )
