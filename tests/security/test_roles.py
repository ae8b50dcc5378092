"""The SPEC's role table, tried on the running services: every route of every service, every role.

What each route asks for is read from the route itself (its `allow(...)` dependency), what each role
may do from `common.access.ROLE_CAPABILITIES`: a role the table refuses gets 403, a role it allows
gets past the check (a 404 for the made-up ids, a 422 for the empty body, never a 401 or 403). No
route is left without a check unless it is on the short public list below. Bodies are empty and ids
made up, so no request changes anything.
"""

from __future__ import annotations

import httpx
import pytest

from common.access import ROLE_CAPABILITIES, Can, may
from common.auth import Role
from common.testing.stack import Stack
from tests.security.catalog import ENDPOINTS, PUBLIC

pytestmark = [pytest.mark.e2e, pytest.mark.security]


def test_every_route_asks_for_a_capability_of_the_table() -> None:
    unguarded = [
        f"{e.service} {e.method} {e.path}" for e in ENDPOINTS if e.needs is None and e.path not in PUBLIC
    ]
    assert unguarded == []
    # Every capability of the table is asked for somewhere, and every role can do something.
    asked = {c for e in ENDPOINTS for c in e.needs or ()}
    assert asked == set(Can)
    assert all(ROLE_CAPABILITIES[role] for role in Role)


async def test_every_role_gets_exactly_what_the_table_gives_it(stack: Stack, figures: list[str]) -> None:
    tried = 0
    wrong = []
    async with httpx.AsyncClient(timeout=30) as client:
        for endpoint in ENDPOINTS:
            if endpoint.needs is None:
                continue
            for role in Role:
                headers = stack.headers(tenant="roles-tenant", role=role, sub="roles-agent")
                url = f"{stack.service_urls[endpoint.service]}{endpoint.url()}"
                body = None if endpoint.method in ("GET", "DELETE") else {}
                response = await client.request(endpoint.method, url, headers=headers, json=body)
                tried += 1
                allowed = may(role, endpoint.needs)
                refused = response.status_code in (401, 403)
                if allowed == refused or response.status_code >= 500:
                    wrong.append(
                        f"{role.value:<10} {endpoint.service} {endpoint.method} {endpoint.path}: {response.status_code}"
                    )
    figures.append(f"role table: {tried} requests over {len(ENDPOINTS)} endpoints and {len(Role)} roles")
    assert wrong == [], "\n".join(wrong)
