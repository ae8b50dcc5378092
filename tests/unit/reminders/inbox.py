"""Reading and steering the in-process sandbox providers from a test."""

from __future__ import annotations

from typing import Any

import httpx


async def received(client: httpx.AsyncClient, **params: str) -> list[dict[str, Any]]:
    """What the sandbox providers received, oldest first."""
    response = await client.get("/v1/messages", params=params)
    assert response.status_code == 200
    listed: list[dict[str, Any]] = response.json()["messages"]
    return listed


async def arm_fault(
    client: httpx.AsyncClient, *, channel: str, provider: str, fail_next: int, status: int = 503
) -> None:
    response = await client.post(
        "/v1/faults",
        json={"channel": channel, "provider": provider, "fail_next": fail_next, "status": status},
    )
    assert response.status_code == 201
