"""Human phone work: a strategy step hands a permitted call to an agent, who sees only their own
tasks (with the number), records the outcome and the borrower's promise; a payment keeps it."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import httpx
import pytest

from common.auth import Role
from tests.e2e.reminders.desk import PROBLEM_JSON, Desk, Placed, now_utc
from tests.e2e.reminders.placements import daytime_home, placement
from tests.support.waiting import eventually

pytestmark = pytest.mark.e2e


def call_first(jurisdiction: str) -> dict[str, Any]:
    """A strategy whose first step is a call by an agent."""
    return {"jurisdiction": jurisdiction, "steps": [{"dpd": 0, "channel": "call_task"}]}


async def tasks(desk: Desk, headers: dict[str, str], **params: str) -> list[dict[str, Any]]:
    response = await desk.http.reminders.get("/v1/call-tasks", params=params, headers=headers)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def handed_to_agents(desk: Desk, home: tuple[str, str]) -> Placed:
    """An account whose first step, a call task, was permitted and handed to the agents."""
    placed = await desk.place(placement(*home))
    jobs = await desk.jobs_when(placed.account_id, lambda js: all(j["state"] == "sent" for j in js))
    assert [(j["channel"], j["delivery"]) for j in jobs] == [("call_task", "handed_to_agents")], jobs
    assert jobs[0]["permit_id"], jobs
    return placed


async def outcome(desk: Desk, task_id: str, agent: str, **body: Any) -> httpx.Response:
    body = {"outcome": "conversation", "at": now_utc().isoformat(), **body}
    return await desk.http.reminders.post(
        f"/v1/call-tasks/{task_id}/outcome", json=body, headers=desk.headers(Role.AGENT, sub=agent)
    )


async def promises(desk: Desk, account_id: str) -> list[dict[str, Any]]:
    response = await desk.http.reminders.get(f"/v1/accounts/{account_id}/promises", headers=desk.headers())
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()
    return found


async def test_agents_see_only_their_own_tasks_and_record_a_promise_that_a_payment_keeps(desk: Desk) -> None:
    home = daytime_home()
    # The tenant's own "default" strategy is the one new placements follow.
    saved = await desk.http.reminders.put(
        "/v1/strategies/default", json=call_first(home[0]), headers=desk.headers()
    )
    assert saved.status_code == 200, saved.text
    ann, bob = f"agent-ann-{uuid.uuid4().hex[:6]}", f"agent-bob-{uuid.uuid4().hex[:6]}"
    as_ann, as_bob = desk.headers(Role.AGENT, sub=ann), desk.headers(Role.AGENT, sub=bob)

    first = await handed_to_agents(desk, home)
    (ann_task,) = await tasks(desk, as_ann)
    second = await handed_to_agents(desk, home)
    (bob_task,) = await tasks(desk, as_bob)

    assert (ann_task["account_id"], ann_task["agent_id"]) == (first.account_id, ann)
    assert (bob_task["account_id"], bob_task["agent_id"]) == (second.account_id, bob)
    assert ann_task["phone"] == first.placement.phone
    assert bob_task["phone"] == second.placement.phone
    assert [t["task_id"] for t in await tasks(desk, as_ann)] == [ann_task["task_id"]]
    everyone = {t["task_id"]: t for t in await tasks(desk, desk.headers())}
    assert set(everyone) == {ann_task["task_id"], bob_task["task_id"]}
    for task in everyone.values():
        assert "*" in task["phone"], task
        assert task["phone"] not in (first.placement.phone, second.placement.phone)
    assert [t["task_id"] for t in await tasks(desk, desk.headers(), agent_id=ann)] == [ann_task["task_id"]]
    spying = await desk.http.reminders.get("/v1/call-tasks", params={"agent_id": ann}, headers=as_bob)
    assert spying.status_code == 403, spying.text

    promised = {"amount_minor": 50_000, "due_date": (now_utc().date() + timedelta(days=7)).isoformat()}
    not_bobs = await outcome(desk, ann_task["task_id"], bob, promise=promised)
    recorded = await outcome(desk, ann_task["task_id"], ann, promise=promised)
    again = await outcome(desk, ann_task["task_id"], ann)

    assert not_bobs.status_code == 403, not_bobs.text
    assert recorded.status_code == 201, recorded.text
    assert recorded.json() == {"status": "recorded", "id": f"task:{ann_task['task_id']}"}
    assert again.status_code == 409, again.text
    assert await tasks(desk, as_ann) == []
    (promise,) = await promises(desk, first.account_id)
    assert (promise["amount_minor"], promise["due_date"]) == (50_000, promised["due_date"])
    assert (promise["source"], promise["state"], promise["paid_minor"]) == ("call", "active", 0)

    # The call used the task's permit: compliance counts it, and finds nothing wrong.
    (allow,) = [
        d
        for d in await desk.decisions(first.account_id)
        if d["outcome"] == "allow" and d["request"]["purpose"] == "collection"
    ]
    used = await desk.permit_used(first.account_id, allow["permit_id"])
    assert (used["channel"], used["used_by"]) == ("voice_call", f"task:{ann_task['task_id']}")
    assert await desk.violations_of(first.account_id) == []

    await desk.pay(first, 50_000)

    async def kept() -> bool:
        return bool((await promises(desk, first.account_id))[0]["state"] == "kept")

    await eventually(kept, timeout_s=45)
    (promise,) = await promises(desk, first.account_id)
    assert promise["paid_minor"] == 50_000

    # Paid in full: the call nobody has made yet is called off.
    await desk.pay(second, second.placement.amount_due_minor)

    async def called_off() -> bool:
        return await tasks(desk, as_bob) == []

    await eventually(called_off, timeout_s=45)
    assert await tasks(desk, desk.headers()) == []


async def test_promises_and_plans_validate_their_input(desk: Desk, other: Desk) -> None:
    placed = await desk.place(placement("CN", "Asia/Shanghai"))
    soon = now_utc().date() + timedelta(days=7)
    later = soon + timedelta(days=30)
    agent = desk.headers(Role.AGENT, sub="agent-cat")

    async def post(path: str, body: dict[str, Any], headers: dict[str, str] = agent) -> httpx.Response:
        return await desk.http.reminders.post(path, json=body, headers=headers)

    good_promise = {"account_id": placed.account_id, "amount_minor": 10_000, "due_date": soon.isoformat()}
    bad_promises = {
        "zero amount": {**good_promise, "amount_minor": 0},
        "negative amount": {**good_promise, "amount_minor": -5},
        "no date": {k: v for k, v in good_promise.items() if k != "due_date"},
        "not a date": {**good_promise, "due_date": "next friday"},
        "in the past": {**good_promise, "due_date": (soon - timedelta(days=400)).isoformat()},
        "not an account id": {**good_promise, "account_id": "HB-000123"},
        "unknown source": {**good_promise, "source": "rumour"},
        "extra field": {**good_promise, "interest": 5},
    }
    installments = [
        {"due_date": soon.isoformat(), "amount_minor": 5_000},
        {"due_date": later.isoformat(), "amount_minor": 5_000},
    ]
    good_plan = {"account_id": placed.account_id, "installments": installments}
    bad_plans = {
        "no installments": {**good_plan, "installments": []},
        "out of order": {**good_plan, "installments": installments[::-1]},
        "same date twice": {**good_plan, "installments": [installments[0], installments[0]]},
        "zero installment": {**good_plan, "installments": [{**installments[0], "amount_minor": 0}]},
    }
    for path, cases in (("/v1/promises", bad_promises), ("/v1/plans", bad_plans)):
        for name, body in cases.items():
            response = await post(path, body)
            assert response.status_code == 422, (path, name, response.text)
            assert response.headers["content-type"].startswith(PROBLEM_JSON), (path, name)
            assert response.json()["errors"], (path, name, response.text)

    assert (await post("/v1/promises", good_promise, other.headers(Role.AGENT))).status_code == 404
    assert (await post("/v1/plans", good_plan, other.headers(Role.AGENT))).status_code == 404
    assert (await post("/v1/promises", good_promise, desk.headers(Role.LENDER))).status_code == 403
    promise = await post("/v1/promises", good_promise)
    plan = await post("/v1/plans", good_plan)

    assert promise.status_code == 201, promise.text
    assert (promise.json()["state"], promise.json()["source"]) == ("active", "ops")
    assert plan.status_code == 201, plan.text
    assert plan.json()["state"] == "active"
    listed = await desk.http.reminders.get(f"/v1/accounts/{placed.account_id}/plans", headers=agent)
    assert [p["plan_id"] for p in listed.json()] == [plan.json()["plan_id"]]
    assert [p["promise_id"] for p in await promises(desk, placed.account_id)] == [
        promise.json()["promise_id"]
    ]
