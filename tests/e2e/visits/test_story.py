"""The field-visit story through the real stack: accounts escalate, compliance permits each visit
for its window, the solver plans the crew's day, a payment takes a planned visit out of the plan at
once, and at the door a promise reaches reminders and a receipt closes an account through intake.

The visits are for the borrower's next local day, so the test moves every service's clock to that
morning before the crew checks in (a check-in is refused outside the permit's window)."""

from __future__ import annotations

import hashlib
import uuid
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import httpx
import pytest

from common.auth import Role
from common.testing.stack import Stack
from common.testing.travel import TimeTravel
from tests.e2e.intake import builders as b
from tests.e2e.intake.lender import Lender
from tests.e2e.visits.field import DOOR, agent, until
from tests.support.cli import collectctl

pytestmark = pytest.mark.e2e

SHANGHAI = ZoneInfo("Asia/Shanghai")


async def test_escalation_to_receipt(
    stack: Stack, http: dict[str, httpx.AsyncClient], travel: TimeTravel, tmp_path: Path
) -> None:
    tenant = f"e2e-visits-{uuid.uuid4().hex[:10]}"
    ops = stack.headers(tenant=tenant, role=Role.OPS)
    visits = http["visits"]
    for agent_id in ("a1", "a2", "solo"):
        response = await visits.put(f"/v1/agents/{agent_id}", json=agent(agent_id), headers=ops)
        assert response.status_code == 200, response.text
    assert (
        await visits.put("/v1/crews/c1", json={"agent_ids": ["a1", "a2"]}, headers=ops)
    ).status_code == 200
    # A crew of one: a CN visit never goes to it.
    assert (await visits.put("/v1/crews/solo", json={"agent_ids": ["solo"]}, headers=ops)).status_code == 200

    # Three accounts 45 days overdue: the CN strategy escalates them to a visit at once.
    lender = Lender(stack=stack, http=http["intake"], tenant=tenant)
    placements = []
    for _ in range(3):
        event = b.account_placed(phone=b.unique_cn_mobile(), email=f"{b.fresh('v')}@example.com")
        event["account"]["due_date"] = (datetime.now(SHANGHAI).date() - timedelta(days=45)).isoformat()
        placements.append((event, await lender.accept(event)))
    promised, paying, payer = (account_id for _, account_id in placements)

    async def permitted() -> list[dict[str, Any]] | None:
        response = await visits.get("/v1/visits", params={"state": "permitted"}, headers=ops)
        items: list[dict[str, Any]] = response.json()["items"]
        return items if len(items) == 3 else None

    cases = await until(permitted, timeout_s=90, interval_s=0.5)
    day = cases[0]["date"]
    for case in cases:
        # Compliance's window: the borrower's permitted hours that day (CN: 08:00-22:00 local).
        start = datetime.fromisoformat(case["window"]["start"]).astimezone(SHANGHAI)
        end = datetime.fromisoformat(case["window"]["end"]).astimezone(SHANGHAI)
        assert start.time() >= time(8, 0) and end.time() <= time(22, 0) and end.date() == start.date()
    by_account = {case["account_id"]: case for case in cases}

    built = await visits.post("/v1/plans:build", json={"date": str(day), "region": "广东"}, headers=ops)
    assert built.status_code == 200, built.text
    assert built.json()["dropped"] == []
    plan = (await visits.get("/v1/crews/c1/plan", params={"date": str(day)}, headers=ops)).json()
    assert {s["account_id"] for s in plan["stops"]} == {promised, paying, payer}
    solo = (await visits.get("/v1/crews/solo/plan", params={"date": str(day)}, headers=ops)).json()
    assert solo["stops"] == []
    for stop in plan["stops"]:
        arrive = datetime.fromisoformat(stop["arrive_at"]).astimezone(SHANGHAI)
        assert time(9, 0) <= arrive.time() and datetime.fromisoformat(stop["depart_at"]).astimezone(
            SHANGHAI
        ).time() <= time(18, 0)
    picture = await visits.get("/v1/crews/c1/plan.svg", params={"date": str(day)}, headers=ops)
    assert picture.status_code == 200 and picture.headers["content-type"].startswith("image/svg+xml")
    # The same picture from the command line, as an ops lead would fetch it.
    drawn = tmp_path / "c1.svg"
    await collectctl(
        *("visits", "plan", "--crew", "c1", "--date", str(day), "--tenant", tenant),
        *("--svg", str(drawn), "--url", stack.service_urls["visits"]),
        env={"COLLECTCTL_SIGNING_KEY_FILE": str(stack.layout.jwt_private_key)},
    )
    assert drawn.read_bytes() == picture.content

    # A payment cancels the third account's planned visit within seconds, and it leaves the plan.
    payment = {"amount_minor": 1000, "paid_at": b.now_iso(), "reference": b.fresh("pay")}
    await lender.accept(
        b.lender_event(
            "payment.received", placements[2][0]["account"]["external_account_id"], payment=payment
        )
    )

    async def cancelled() -> dict[str, Any] | None:
        case = (await visits.get(f"/v1/visits/{by_account[payer]['visit_id']}", headers=ops)).json()
        return case if case["state"] == "cancelled" else None

    case = await until(cancelled, timeout_s=10, interval_s=0.2)
    assert case["reasons"][0]["rule"] == "visits.payment"
    plan = (await visits.get("/v1/crews/c1/plan", params={"date": str(day)}, headers=ops)).json()
    assert payer not in {s["account_id"] for s in plan["stops"]}

    # The crew's day: move every clock to the first stop.
    first = datetime.fromisoformat(plan["stops"][0]["arrive_at"])
    await travel.by(first - travel.now() + timedelta(seconds=5))
    crew = stack.headers(tenant=tenant, role=Role.AGENT, sub="a1")

    promised_visit = by_account[promised]["visit_id"]
    early = await visits.post(
        f"/v1/visits/{promised_visit}/check-in",
        json={
            "crew_id": "c1",
            "at": (first - timedelta(hours=10)).isoformat(),
            **DOOR,
            "recording_id": "rec-1",
            "id_shown": True,
        },
        headers=crew,
    )
    assert early.status_code == 422 and "outside the permit's window" in early.text
    no_recording = await visits.post(
        f"/v1/visits/{promised_visit}/check-in",
        json={"crew_id": "c1", "at": travel.now().isoformat(), **DOOR, "id_shown": True},
        headers=crew,
    )
    assert no_recording.status_code == 422 and "recording_id" in no_recording.text

    for account_id in (promised, paying):
        visit_id = by_account[account_id]["visit_id"]
        checked = await visits.post(
            f"/v1/visits/{visit_id}/check-in",
            json={
                "crew_id": "c1",
                "at": travel.now().isoformat(),
                **DOOR,
                "recording_id": f"rec-{visit_id}",
                "id_shown": True,
            },
            headers=crew,
        )
        assert checked.status_code == 200, checked.text
        assert checked.json()["check_in"]["flagged"] is False

    due = (travel.now().astimezone(SHANGHAI).date() + timedelta(days=7)).isoformat()
    done = await visits.post(
        f"/v1/visits/{promised_visit}/outcome",
        json={
            "outcome": "met_promise",
            "entry_consent": False,
            "promise": {"amount_minor": 50_000, "due_date": due},
            "notes": "will pay on Friday",
        },
        headers=crew,
    )
    assert done.status_code == 200, done.text

    async def promise_in_reminders() -> list[dict[str, Any]] | None:
        response = await http["reminders"].get(f"/v1/accounts/{promised}/promises", headers=ops)
        found: list[dict[str, Any]] = response.json() if response.status_code == 200 else []
        return found or None

    (promise,) = await until(promise_in_reminders, timeout_s=30, interval_s=0.3)
    assert promise["amount_minor"] == 50_000 and promise["due_date"] == due

    # Money at the door: the whole balance, recorded once however often the app retries.
    balance = placements[1][0]["account"]["amount_due_minor"]
    receipt = {
        "client_id": f"app-{uuid.uuid4().hex}",
        "amount_minor": balance,
        "method": "cash",
        "number": "R-0001",
    }
    body = {"outcome": "met_paid", "entry_consent": True, "receipt": receipt}
    paid_visit = by_account[paying]["visit_id"]
    for _ in range(2):
        answer = await visits.post(f"/v1/visits/{paid_visit}/outcome", json=body, headers=crew)
        assert answer.status_code == 200, answer.text

    async def closed() -> dict[str, Any] | None:
        view = await lender.account(paying)
        return view if view.get("status") == "closed" else None

    view = await until(closed, timeout_s=30, interval_s=0.3)
    assert view["paid_minor"] == balance

    # Compliance holds both visits: each an attempt in its ledger under its permit (no violation),
    # and the recording's hash in the audit chain, where it cannot be swapped afterwards.
    conn = await asyncpg.connect(stack.superuser_dsn)
    try:

        async def in_ledger() -> list[Any] | None:
            rows = await conn.fetch(
                "select outcome, permit_id from compliance.ledger where tenant = $1 and channel = 'visit'",
                tenant,
            )
            return rows if len(rows) == 2 else None

        rows = await until(in_ledger, timeout_s=30)
        assert {r["outcome"] for r in rows} == {"met_promise", "met_paid"}
        assert all(r["permit_id"] is not None for r in rows)
        assert not await conn.fetchval("select count(*) from compliance.violations where tenant = $1", tenant)
        recording = hashlib.sha256(f"rec-{promised_visit}".encode()).hexdigest()
        chained = await conn.fetchval(
            "select count(*) from compliance.audit_log where tenant = $1 and content like $2",
            tenant,
            f"%{recording}%",
        )
        assert chained >= 1
    finally:
        await conn.close()

    # Another tenant sees none of it.
    stranger = stack.headers(tenant=f"{tenant}-other", role=Role.OPS)
    assert (await visits.get(f"/v1/visits/{promised_visit}", headers=stranger)).status_code == 404
    assert (
        await visits.get("/v1/crews/c1/plan", params={"date": str(day)}, headers=stranger)
    ).status_code == 404
