"""Fixtures for the intake end-to-end tests: one HTTP client, a fresh lender tenant per test."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from common.testing.stack import Stack
from tests.e2e.intake.lender import Lender, new_tenant


@pytest.fixture(scope="module")
async def http(stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=stack.service_urls["intake"], timeout=20) as client:
        yield client


@pytest.fixture
def lender(stack: Stack, http: httpx.AsyncClient) -> Lender:
    """A lender of a tenant no other test (or earlier run) has used."""
    return Lender(stack=stack, http=http, tenant=new_tenant())
