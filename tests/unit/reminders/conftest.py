"""The sandbox providers in process: HTTP through ASGI, SMTP on a real socket on a free port."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from sandbox.app import SandboxSettings, create_app


@pytest.fixture
async def sandbox() -> AsyncIterator[FastAPI]:
    app = create_app(SandboxSettings(smtp_host="127.0.0.1", smtp_port=0))
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture
async def sandbox_client(sandbox: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=sandbox)
    async with httpx.AsyncClient(transport=transport, base_url="http://sandbox") as client:
        yield client


@pytest.fixture
def delays() -> list[float]:
    """Every backoff an adapter asked for, in order; the recording sleep does not wait."""
    return []


@pytest.fixture
def sleep(delays: list[float]) -> Any:
    async def record(seconds: float) -> None:
        delays.append(seconds)

    return record
