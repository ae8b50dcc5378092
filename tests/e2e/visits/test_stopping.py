"""Every stop event ends a visit not made yet, with its reason, and an ops request follows the rules
a collections lead expects: one open case per account, nothing for another tenant's account."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from common.auth import Role
from common.testing.stack import Stack
from tests.e2e.intake import builders as b
from tests.e2e.intake.lender import Lender
from tests.e2e.visits.field import agent, until

pytestmark = pytest.mark.e2e

SHANGHAI = ZoneInfo("Asia/Shanghai")

STOPS: dict[str, tuple[str, dict[str, Any], str]] = {
    # name: (lender event type, its fields, the cancelled visit's rule)
    "deceased": ("borrower.flagged", {"flag": "deceased", "set": True}, "visits.deceased"),
    "do_not_visit": ("borrower.flagged", {"flag": "do_not_visit", "set": True}, "visits.do_not_visit"),
    "vulnerable": ("borrower.flagged", {"flag": "vulnerable", "set": True}, "visits.vulnerable"),
    "dispute": (
        "dispute.opened",
        {"dispute": {"received_at": b.now_iso(), "written": True}},
        "visits.dispute",
    ),
    "cease": (
        "borrower.cease_requested",
        {"cease": {"received_at": b.now_iso(), "written": True}},
        "visits.cease_communication",
    ),
    "recall": ("account.recalled", {"reason": "lender recalled the book"}, "visits.recalled"),
}

# What compliance answers instead when the stop is applied there before the visit's permit request.
REFUSED_BY_COMPLIANCE = {
    "deceased": {"CN.deceased"},
    "do_not_visit": {"CN.do_not_visit"},
    "vulnerable": {"CN.visit_safeguards", "CN.unrecognised_hold"},
    "dispute": {"CN.dispute_hold"},
    "cease": {"CN.cease_communication"},
    "recall": {"CN.closed"},
}


async def test_every_stop_event_cancels_the_visit(stack: Stack, http: dict[str, httpx.AsyncClient]) -> None:
    tenant = f"e2e-visits-{uuid.uuid4().hex[:10]}"
    ops = stack.headers(tenant=tenant, role=Role.OPS)
    visits = http["visits"]
    for agent_id in ("a1", "a2"):
        assert (
            await visits.put(f"/v1/agents/{agent_id}", json=agent(agent_id), headers=ops)
        ).status_code == 200
    assert (
        await visits.put("/v1/crews/c1", json={"agent_ids": ["a1", "a2"]}, headers=ops)
    ).status_code == 200
    lender = Lender(stack=stack, http=http["intake"], tenant=tenant)
    placed: dict[str, tuple[dict[str, Any], str]] = {}
    for name in STOPS:
        event = b.account_placed(phone=b.unique_cn_mobile(), email=f"{b.fresh('v')}@example.com")
        event["account"]["due_date"] = (datetime.now(SHANGHAI).date() - timedelta(days=2)).isoformat()
        placed[name] = (event, await lender.accept(event))

    async def requested(account_id: str) -> dict[str, Any] | None:
        response = await visits.post(
            "/v1/visits", json={"account_id": account_id, "reason": "no answer"}, headers=ops
        )
        return response.json() if response.status_code == 201 else None

    cases = {}
    for name, (_, account_id) in placed.items():
        # visits learns of the account from intake.v1 within moments of its placement
        cases[name] = await until(lambda a=account_id: requested(a), timeout_s=30)
    again = await visits.post(
        "/v1/visits", json={"account_id": placed["recall"][1], "reason": "again"}, headers=ops
    )
    assert again.status_code == 200 and again.json()["visit_id"] == cases["recall"]["visit_id"]
    stranger = stack.headers(tenant=f"{tenant}-other", role=Role.OPS)
    foreign = await visits.post(
        "/v1/visits", json={"account_id": placed["recall"][1], "reason": "x"}, headers=stranger
    )
    assert foreign.status_code == 404

    for name, (event_type, fields, _) in STOPS.items():
        external = placed[name][0]["account"]["external_account_id"]
        await lender.accept(b.lender_event(event_type, external, **fields))

    for name, (_, _, rule) in STOPS.items():

        async def ended(visit_id: str = cases[name]["visit_id"]) -> dict[str, Any] | None:
            case = (await visits.get(f"/v1/visits/{visit_id}", headers=ops)).json()
            return case if case["state"] in ("cancelled", "denied") else None

        case = await until(ended, timeout_s=30)
        # Visits cancels it, or, when the stop reached compliance before the visit's permit was
        # decided, compliance refuses the permit for the same reason (seen: a recall, CN.closed).
        expected = {rule} if case["state"] == "cancelled" else REFUSED_BY_COMPLIANCE[name]
        assert case["reasons"][0]["rule"] in expected, (name, case["state"], case["reasons"])
