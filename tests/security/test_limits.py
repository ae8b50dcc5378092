"""The limits every service enforces (SPEC section 7), on each service's app in process over the real
stack, with small limits: a body over the limit is refused with 413 whether its length is declared or
it comes in chunks, and a tenant over its request rate gets 429 with Retry-After while another tenant
is served as before."""

from __future__ import annotations

import importlib
from collections.abc import AsyncIterator

import httpx
import pytest

from common.auth import Role
from common.testing.stack import Stack

pytestmark = [pytest.mark.integration, pytest.mark.security]

SERVICES = ("intake", "reminders", "visits", "compliance")
MAX_BODY = 2000
BURST = 3


@pytest.fixture(params=SERVICES)
async def limited(
    request: pytest.FixtureRequest, stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[tuple[str, httpx.AsyncClient]]:
    service: str = request.param
    prefix = service.upper()
    env = {
        **stack.layout.service_env(service),
        f"{prefix}_START_WORKERS": "false",
        f"{prefix}_MAX_BODY_BYTES": str(MAX_BODY),
        f"{prefix}_REQUESTS_PER_S": "0.01",
        f"{prefix}_REQUEST_BURST": str(BURST),
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    app = importlib.import_module(f"{service}.app").create_app()
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=f"http://{service}") as client:
            yield service, client


async def _chunks(size: int) -> AsyncIterator[bytes]:
    """A body sent without a declared length, as a chunked upload is."""
    for _ in range(size // 500):
        yield b" " * 500


async def test_a_body_over_the_limit_is_refused_with_413_declared_or_chunked(
    stack: Stack, limited: tuple[str, httpx.AsyncClient]
) -> None:
    service, client = limited
    headers = {**stack.headers(tenant="limits-a", role=Role.ADMIN), "content-type": "application/json"}
    declared = await client.post("/v1/me", content=b" " * (MAX_BODY + 1), headers=headers)
    chunked = await client.post("/v1/me", content=_chunks(MAX_BODY + 500), headers=headers)
    for response in (declared, chunked):
        assert response.status_code == 413, (service, response.text)
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["status"] == 413
    # Under the limit the body goes on to the route as it came (here: a route with no POST).
    small = await client.post("/v1/me", content=_chunks(1000), headers=headers)
    assert small.status_code == 405, (service, small.text)


async def test_a_tenant_over_its_rate_gets_429_and_another_tenant_does_not(
    stack: Stack, limited: tuple[str, httpx.AsyncClient]
) -> None:
    service, client = limited
    flooding = stack.headers(tenant="limits-flood", role=Role.OPS)
    answers = [(await client.get("/v1/me", headers=flooding)).status_code for _ in range(BURST + 2)]
    assert answers == [200] * BURST + [429, 429], service
    refused = await client.get("/v1/me", headers=flooding)
    assert refused.headers["content-type"] == "application/problem+json"
    assert int(refused.headers["retry-after"]) >= 1
    # Another tenant is served as before; health is not metered.
    assert (
        await client.get("/v1/me", headers=stack.headers(tenant="limits-calm", role=Role.OPS))
    ).status_code == 200
    assert (await client.get("/healthz")).status_code == 200
