"""No tenant reaches another's data: every route that names a resource, tried by every role of a
second tenant with the first tenant's real ids (in the path and in the body), reads nothing of it
and changes nothing of it, checked in the database before and after.

Tenant A has an account, a strategy, an agent, a crew and a visit case; tenant B's callers then use
A's ids everywhere. A read answers 403 or 404 (never A's data); a write is refused, or lands in B's
own tenant (a PUT of an agent id B does not have creates B's agent): A's rows are the same after.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import pytest

from common.auth import Role
from common.testing.stack import Stack
from tests.e2e.compliance.desk import unreachable_by_reminders
from tests.e2e.intake import builders as b
from tests.e2e.intake.lender import Lender
from tests.security.catalog import ENDPOINTS, Endpoint
from tests.support.waiting import eventually

pytestmark = [pytest.mark.e2e, pytest.mark.security]

SCHEMAS = ("intake", "reminders", "visits", "compliance")
# Logs that grow by themselves (each request or event adds to them) are left out of the snapshot;
# what a write of B could change in A's state is in the other tables.
GROWING = {"outbox", "inbox", "audit_log", "audit_checkpoints", "ledger", "intake_seqs", "dead_letters"}


async def tenant_tables(pg: asyncpg.Pool) -> list[str]:
    rows = await pg.fetch(
        "SELECT table_schema || '.' || table_name AS t FROM information_schema.columns"
        " WHERE column_name = 'tenant' AND table_schema = ANY($1::text[])"
        " AND table_name NOT IN (SELECT table_name FROM information_schema.views) ORDER BY 1",
        list(SCHEMAS),
    )
    return [r["t"] for r in rows if r["t"].split(".")[1] not in GROWING]


async def snapshot(pg: asyncpg.Pool, tables: list[str], tenant: str) -> dict[str, str]:
    """Per table, a digest of every row of `tenant` (order-independent)."""
    found = {}
    for table in tables:
        found[table] = await pg.fetchval(
            f"SELECT count(*) || ':' || coalesce(md5(string_agg(md5(t::text), '' ORDER BY md5(t::text))), '')"
            f" FROM {table} t WHERE tenant = $1",
            tenant,
        )
    return found


async def settled(pg: asyncpg.Pool, tables: list[str], tenant: str) -> dict[str, str]:
    """A's snapshot once it stops changing (its placement and visit case have gone through)."""
    last: dict[str, str] = {}

    async def still() -> bool:
        nonlocal last
        now = await snapshot(pg, tables, tenant)
        same = now == last
        last = now
        return same

    await eventually(still, timeout_s=60, interval_s=2)
    return last


def bodies(a: dict[str, str]) -> dict[tuple[str, str], Any]:
    """A valid body for each write, naming tenant A's resources."""
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).date().isoformat()
    now = datetime.now(UTC).isoformat()
    agent = {
        "name": "x",
        "region": "广东",
        "home": {"lat": 22.55, "lon": 114.06},
        "shift": {"start": "09:00", "end": "18:00", "timezone": "Asia/Shanghai"},
        "max_visits_per_day": 1,
    }
    account = {"account_id": a["account_id"]}
    return {
        ("intake", "/v1/events"): b.lender_event(
            "payment.received",
            a["external_account_id"],
            payment={"amount_minor": 100, "paid_at": b.now_iso(), "reference": "x"},
        ),
        ("reminders", "/v1/contacts"): {
            **account,
            "channel": "letter",
            "direction": "outbound",
            "outcome": "delivered",
            "at": now,
        },
        ("reminders", "/v1/promises"): {**account, "amount_minor": 100, "due_date": tomorrow},
        ("reminders", "/v1/plans"): {
            **account,
            "installments": [{"due_date": tomorrow, "amount_minor": 100}],
        },
        ("reminders", "/v1/call-tasks/{task_id}/outcome"): {"outcome": "no_answer", "at": now},
        ("reminders", "/v1/strategies/{name}"): a["strategy"],
        ("visits", "/v1/agents/{agent_id}"): agent,
        ("visits", "/v1/crews/{crew_id}"): {"agent_ids": [a["agent_id"]]},
        ("visits", "/v1/visits"): {**account, "reason": "cross-tenant"},
        ("visits", "/v1/visits/{visit_id}/check-in"): {
            "crew_id": a["crew_id"],
            "at": now,
            "lat": 22.5,
            "lon": 114.0,
        },
        ("visits", "/v1/visits/{visit_id}/outcome"): {"outcome": "not_home"},
        ("visits", "/v1/plans:build"): {"date": tomorrow},
        ("compliance", "/v1/permits:evaluate"): {**account, "channel": "sms"},
        ("compliance", "/v1/templates:lint"): {
            "jurisdiction": "CN",
            "channel": "sms",
            "language": "zh-CN",
            "body": "x",
        },
    }


async def test_another_tenant_reads_and_changes_nothing_of_ours(
    stack: Stack, pg: asyncpg.Pool, figures: list[str]
) -> None:
    a_tenant, b_tenant = f"xt-a-{uuid.uuid4().hex[:8]}", f"xt-b-{uuid.uuid4().hex[:8]}"
    ops_a = stack.headers(tenant=a_tenant, role=Role.OPS)
    urls = stack.service_urls
    async with httpx.AsyncClient(timeout=30) as http:
        lender = Lender(stack=stack, http=http, tenant=a_tenant)
        lender.http = httpx.AsyncClient(base_url=urls["intake"], timeout=30)
        placement = unreachable_by_reminders(b.account_placed())
        placement["account"]["due_date"] = b.past_due_date(10)
        account_id = await lender.accept(placement)
        await lender.http.aclose()
        builtin = (await http.get(f"{urls['reminders']}/v1/strategies/builtin-CN", headers=ops_a)).json()
        strategy = builtin["document"]
        assert (
            await http.put(f"{urls['reminders']}/v1/strategies/xt", json=strategy, headers=ops_a)
        ).status_code in (
            200,
            201,
        )
        a_ids = {
            "account_id": account_id,
            "external_account_id": placement["account"]["external_account_id"],
            "agent_id": "xt-agent",
            "crew_id": "xt-crew",
            "name": "xt",
            "strategy": strategy,
        }
        body = bodies(a_ids)
        assert (
            await http.put(
                f"{urls['visits']}/v1/agents/xt-agent",
                json=body[("visits", "/v1/agents/{agent_id}")],
                headers=ops_a,
            )
        ).status_code == 200
        assert (
            await http.put(
                f"{urls['visits']}/v1/crews/xt-crew", json={"agent_ids": ["xt-agent"]}, headers=ops_a
            )
        ).status_code == 200

        async def visit_case() -> bool:
            # accepted once visits has the account (it reads intake.v1)
            response = await http.post(
                f"{urls['visits']}/v1/visits", json={"account_id": account_id, "reason": "ops"}, headers=ops_a
            )
            if response.status_code in (200, 201):
                a_ids["visit_id"] = str(response.json()["visit_id"])
            return "visit_id" in a_ids

        await eventually(visit_case, timeout_s=60, interval_s=0.5)
        secrets = {account_id, a_ids["visit_id"], a_ids["external_account_id"]}

        tables = await tenant_tables(pg)
        before = await settled(pg, tables, a_tenant)

        tried, leaks = 0, []
        for endpoint in ENDPOINTS:
            if endpoint.needs is None or not _names_ours(endpoint, body):
                continue
            for role in Role:
                if role is Role.ADMIN:  # admin sees every tenant by design
                    continue
                response = await http.request(
                    endpoint.method,
                    f"{urls[endpoint.service]}{endpoint.url(a_ids)}",
                    headers=stack.headers(tenant=b_tenant, role=role, sub="xt-intruder"),
                    json=body.get((endpoint.service, endpoint.path)) if endpoint.method != "GET" else None,
                )
                tried += 1
                shown = [s for s in secrets if s in response.text]
                if response.status_code >= 500 or (response.status_code < 300 and shown):
                    leaks.append(
                        f"{role.value} {endpoint.method} {endpoint.path}: {response.status_code} {shown}"
                    )
        after = await snapshot(pg, tables, a_tenant)

    figures.append(
        f"cross-tenant: {tried} requests of tenant B with tenant A's ids over {len(tables)} tables"
    )
    assert leaks == []
    assert {t: (before[t], after[t]) for t in tables if before[t] != after[t]} == {}
    assert tried > 50


def _names_ours(endpoint: Endpoint, body: dict[tuple[str, str], Any]) -> bool:
    """The route names a resource of A: in its path, or in the body we send."""
    ours = {"account_id", "visit_id", "agent_id", "crew_id", "name"}
    return bool(ours & set(endpoint.params)) or (endpoint.service, endpoint.path) in body
