"""The four services as a user meets them: health, readiness, metrics, OpenAPI and token checks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from common.auth import Role, issue_token
from common.devstack.layout import SERVICES
from common.testing.stack import Stack

pytestmark = pytest.mark.e2e

ALL = list(SERVICES)


@pytest.fixture(scope="module")
async def client() -> httpx.AsyncClient:
    async with httpx.AsyncClient(timeout=10) as c:
        yield c


@pytest.mark.parametrize("service", ALL)
async def test_health_readiness_metrics_and_openapi(
    stack: Stack, client: httpx.AsyncClient, service: str
) -> None:
    base = stack.service_urls[service]
    assert (await client.get(f"{base}/healthz")).json() == {"status": "ok"}
    ready = await client.get(f"{base}/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"database": "ok", "kafka": "ok"}
    metrics = await client.get(f"{base}/metrics")
    assert metrics.status_code == 200
    assert "process_resident_memory_bytes" in metrics.text
    spec = (await client.get(f"{base}/openapi.json")).json()
    assert spec["info"]["title"] == service
    assert "/v1/me" in spec["paths"]
    assert (await client.get(f"{base}/docs")).status_code == 200


@pytest.mark.parametrize("service", ALL)
async def test_missing_malformed_expired_and_forged_tokens_get_401(
    stack: Stack, client: httpx.AsyncClient, service: str
) -> None:
    url = f"{stack.service_urls[service]}/v1/me"
    forger = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    cases = {
        "missing": {},
        "not bearer": {"Authorization": "Basic dXNlcjpwYXNz"},
        "garbage": {"Authorization": "Bearer not-a-jwt"},
        "expired": {"Authorization": f"Bearer {_expired(stack)}"},
        "forged": {"Authorization": f"Bearer {issue_token(forger, sub='x', role=Role.ADMIN, tenant='t1')}"},
        # A genuine token, minted for every service but this one: a token is for the services it names.
        "another service's": {"Authorization": f"Bearer {_for_the_others(stack, service)}"},
    }
    for name, headers in cases.items():
        response = await client.get(url, headers=headers)
        assert response.status_code == 401, name
        assert response.headers["content-type"].startswith("application/problem+json"), name
        assert response.headers["www-authenticate"] == "Bearer", name
        assert response.json()["status"] == 401, name


def _for_the_others(stack: Stack, service: str) -> str:
    others = [s for s in ALL if s != service]
    return issue_token(stack.signing_key, sub="x", role=Role.ADMIN, tenant="t1", audience=others)


def _expired(stack: Stack) -> str:
    an_hour_ago = datetime.now(UTC) - timedelta(hours=1)
    return issue_token(stack.signing_key, sub="x", role=Role.OPS, tenant="t1", ttl_s=60, now=an_hour_ago)


@pytest.mark.parametrize("service", ALL)
async def test_a_valid_token_names_its_caller(stack: Stack, client: httpx.AsyncClient, service: str) -> None:
    response = await client.get(
        f"{stack.service_urls[service]}/v1/me",
        headers=stack.headers(tenant="huabei", role=Role.LENDER, sub="hb-1"),
    )
    assert response.status_code == 200
    assert response.json() == {"sub": "hb-1", "role": "lender", "tenant": "huabei"}


@pytest.mark.parametrize("service", ALL)
@pytest.mark.parametrize(
    ("role", "status"),
    [(Role.LENDER, 403), (Role.AGENT, 403), (Role.COMPLIANCE, 403), (Role.OPS, 403), (Role.ADMIN, 200)],
)
async def test_outbox_state_is_for_the_platforms_operator_only(
    stack: Stack, client: httpx.AsyncClient, service: str, role: Role, status: int
) -> None:
    response = await client.get(
        f"{stack.service_urls[service]}/v1/ops/outbox", headers=stack.headers(tenant="t1", role=role)
    )
    assert response.status_code == status
    if status == 200:
        assert set(response.json()) == {"pending", "oldest_pending_at", "last_published_at"}
    else:
        assert response.headers["content-type"].startswith("application/problem+json")


async def test_unknown_paths_answer_problem_json(stack: Stack, client: httpx.AsyncClient) -> None:
    response = await client.get(f"{stack.service_urls['intake']}/v1/nothing-here")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")


@pytest.mark.parametrize("service", ["reminders", "visits", "compliance"])
async def test_a_body_over_the_services_limit_is_413_not_422(
    stack: Stack, client: httpx.AsyncClient, service: str
) -> None:
    # Once, reminders and compliance read a 16 MiB body whole and answered 422.
    response = await client.put(
        f"{stack.service_urls[service]}/v1/strategies/big",
        content=b"{" + b" " * (2 * 1024 * 1024) + b"}",
        headers={**stack.headers(tenant="t1", role=Role.OPS), "content-type": "application/json"},
    )
    assert response.status_code == 413, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
