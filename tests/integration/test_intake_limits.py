"""Body size and per-tenant rate limits of intake (413, 429), on an in-process app over the real stack."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import httpx
import orjson
import pytest

from common.auth import Role
from common.testing.stack import Stack
from intake.app import create_app
from intake.settings import IntakeSettings

pytestmark = pytest.mark.integration


@pytest.fixture
async def limited(stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    layout = stack.layout
    settings = IntakeSettings(
        environment="dev",
        database_url=layout.role_url("intake"),
        kafka_bootstrap=stack.kafka_bootstrap,
        jwt_public_key_file=layout.jwt_public_key,
        field_keys_file=layout.field_keys,
        rate_limit_events_per_s=1,
        rate_limit_burst=5,
        start_workers=False,
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://intake") as client:
            yield client


def _recall(ext: str, n: int) -> bytes:
    return orjson.dumps(
        {
            "event_id": f"{ext}-{n}",
            "type": "account.recalled",
            "occurred_at": "2026-11-29T08:00:00+08:00",
            "account": {"external_account_id": ext},
            "reason": "portfolio sold",
        }
    )


async def test_a_tenant_over_its_rate_gets_429_with_retry_after_and_others_do_not(
    stack: Stack, limited: httpx.AsyncClient
) -> None:
    tenant = f"rate-{uuid.uuid4().hex[:6]}"
    headers = {**stack.headers(tenant=tenant, role=Role.LENDER), "content-type": "application/json"}
    statuses = [
        (await limited.post("/v1/events", content=_recall("nope", n), headers=headers)).status_code
        for n in range(5)
    ]
    assert statuses == [422] * 5  # within the burst: judged on content (the account does not exist)
    over = await limited.post("/v1/events", content=_recall("nope", 6), headers=headers)
    assert over.status_code == 429
    assert int(over.headers["retry-after"]) >= 1
    assert over.headers["content-type"].startswith("application/problem+json")
    other = {**stack.headers(tenant=f"{tenant}-b", role=Role.LENDER), "content-type": "application/json"}
    assert (await limited.post("/v1/events", content=_recall("nope", 7), headers=other)).status_code == 422


async def test_a_batch_costing_more_than_the_burst_is_refused_whole(
    stack: Stack, limited: httpx.AsyncClient
) -> None:
    headers = {
        **stack.headers(tenant=f"rate-{uuid.uuid4().hex[:6]}", role=Role.LENDER),
        "content-type": "application/x-ndjson",
    }
    body = b"\n".join(_recall("nope", n) for n in range(6))
    response = await limited.post("/v1/events", content=body, headers=headers)
    assert response.status_code == 413


async def test_a_body_over_16_mib_is_refused_with_413(stack: Stack) -> None:
    headers = {**stack.headers(tenant="big", role=Role.LENDER), "content-type": "application/x-ndjson"}
    body = b"x" * (16 * 1024 * 1024 + 1)
    async with httpx.AsyncClient(timeout=60) as client:
        response = await client.post(
            f"{stack.service_urls['intake']}/v1/events", content=body, headers=headers
        )
    assert response.status_code == 413
    assert response.headers["content-type"].startswith("application/problem+json")
