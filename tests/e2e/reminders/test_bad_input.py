"""What an agent, an ops lead or an SMS provider gets wrong is a 422 naming the field, and nothing is
kept: a template with a NUL character (PostgreSQL cannot store it), a promise or plan dated in year 1
or far ahead (an active promise pauses the ladder until its date), a contact logged for tomorrow
(the compliance ledger would count it before it happened), a time that overflows in UTC."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import asyncpg
import httpx
import pytest

from common.auth import Role
from tests.e2e.reminders.desk import PROBLEM_JSON, Desk, Placed, now_utc
from tests.e2e.reminders.placements import DAYTIME, daytime_home, placement, steady_zone
from tests.e2e.reminders.test_call_tasks import call_first, handed_to_agents, outcome, promises, tasks
from tests.e2e.reminders.test_strategies import CN_SMS, get, put

pytestmark = pytest.mark.e2e

# A time whose offset takes it before year 1 in UTC.
BEFORE_YEAR_ONE = "0001-01-01T00:00:00+23:59"


def refused(response: httpx.Response) -> set[str]:
    """The fields a 422 problem names."""
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith(PROBLEM_JSON), response.text
    return {e["field"] for e in response.json()["errors"]}


def days_ahead(days: int) -> str:
    return (now_utc().date() + timedelta(days=days)).isoformat()


async def test_a_template_with_a_nul_character_is_refused_naming_it_and_not_saved(desk: Desk) -> None:
    strategy = {
        "jurisdiction": "CN",
        "steps": [{"dpd": 0, "channel": "sms", "templates": {"zh-CN": CN_SMS.replace("您好", "您\u0000好")}}],
    }

    response = await put(desk, "nul", strategy)

    assert refused(response) == {"steps.0.templates.zh-CN"}
    assert "NUL" in response.json()["errors"][0]["message"]
    assert (await get(desk, "nul")).status_code == 404


@pytest.mark.parametrize(
    ("due_date", "why"),
    [
        ("0001-01-01", "before 1900"),
        ("9999-12-31", "after 2199"),
        (days_ahead(400), "more than a year ahead"),
        (days_ahead(-1), "yesterday"),
    ],
)
async def test_a_promise_dated_out_of_range_is_refused_and_none_is_kept(
    desk: Desk, due_date: str, why: str
) -> None:
    placed = await desk.place(placement("CN", "Asia/Shanghai"))
    body = {"account_id": placed.account_id, "amount_minor": 10_000, "due_date": due_date}

    response = await desk.http.reminders.post("/v1/promises", json=body, headers=desk.headers(Role.AGENT))

    assert refused(response) == {"due_date"}, why
    assert await promises(desk, placed.account_id) == []


@pytest.mark.parametrize(
    ("dates", "field"),
    [
        ((days_ahead(7), "9999-12-31"), "installments.1.due_date"),
        ((days_ahead(-30), days_ahead(7)), "installments.0.due_date"),
        ((days_ahead(7), days_ahead(11 * 366)), "installments.1.due_date"),
    ],
    ids=["year 9999", "last month", "eleven years ahead"],
)
async def test_a_plan_with_an_installment_out_of_range_is_refused_and_none_is_kept(
    desk: Desk, dates: tuple[str, str], field: str
) -> None:
    placed = await desk.place(placement("CN", "Asia/Shanghai"))
    body = {
        "account_id": placed.account_id,
        "installments": [{"due_date": day, "amount_minor": 5_000} for day in dates],
    }

    response = await desk.http.reminders.post("/v1/plans", json=body, headers=desk.headers(Role.AGENT))

    assert refused(response) == {field}
    listed = await desk.http.reminders.get(f"/v1/accounts/{placed.account_id}/plans", headers=desk.headers())
    assert listed.json() == []


async def logged_contacts(pg: asyncpg.Pool, placed: Placed) -> int:
    """Contacts logged by hand (not the reminders sent) that reminders published for the account."""
    count: int = await pg.fetchval(
        "SELECT count(*) FROM reminders.outbox WHERE headers->>'ce_subject' = $1"
        " AND convert_from(payload, 'UTF8')::jsonb->>'attempt_id' LIKE 'manual:%'",
        placed.account_id,
    )
    return count


async def test_a_contact_logged_in_the_future_or_out_of_range_is_refused_and_not_counted(
    desk: Desk, pg: asyncpg.Pool
) -> None:
    placed = await desk.place(placement("CN", steady_zone(DAYTIME)))
    good = {
        "account_id": placed.account_id,
        "channel": "voice_call",
        "direction": "outbound",
        "outcome": "connected",
        "at": now_utc().isoformat(),
        "contact_point_id": await desk.point_id(placed),
    }
    agent = desk.headers(Role.AGENT)

    for at in ((now_utc() + timedelta(hours=1)).isoformat(), BEFORE_YEAR_ONE, "9999-12-31T23:59:59Z"):
        response = await desk.http.reminders.post("/v1/contacts", json={**good, "at": at}, headers=agent)
        assert refused(response) == {"at"}, at

    assert (await desk.http.reminders.post("/v1/contacts", json=good, headers=agent)).status_code == 201
    assert await logged_contacts(pg, placed) == 1


async def test_a_call_outcome_in_the_future_or_with_a_far_promise_is_refused_and_the_task_stays_open(
    desk: Desk,
) -> None:
    home = daytime_home()
    saved = await desk.http.reminders.put(
        "/v1/strategies/default", json=call_first(home[0]), headers=desk.headers()
    )
    assert saved.status_code == 200, saved.text
    placed = await handed_to_agents(desk, home)
    agent = desk.headers(Role.AGENT, sub="agent-ann")
    (task,) = await tasks(desk, agent)
    promise = {"amount_minor": 50_000}

    cases: dict[str, tuple[dict[str, Any], str]] = {
        "an hour ahead": ({"at": (now_utc() + timedelta(hours=1)).isoformat()}, "at"),
        "before year 1 in UTC": ({"at": BEFORE_YEAR_ONE}, "at"),
        "a promise in year 9999": ({"promise": {**promise, "due_date": "9999-12-31"}}, "promise.due_date"),
        "a promise two years ahead": (
            {"promise": {**promise, "due_date": days_ahead(730)}},
            "promise.due_date",
        ),
        "a promise due yesterday": ({"promise": {**promise, "due_date": days_ahead(-1)}}, "promise.due_date"),
    }
    for name, (body, field) in cases.items():
        assert refused(await outcome(desk, task["task_id"], "agent-ann", **body)) == {field}, name

    assert [t["task_id"] for t in await tasks(desk, agent)] == [task["task_id"]]
    assert await promises(desk, placed.account_id) == []


async def test_an_sms_reply_with_a_nul_or_a_bad_time_is_refused_and_not_kept(
    desk: Desk, pg: asyncpg.Pool
) -> None:
    placed = await desk.place(placement("CN", "Asia/Shanghai"))
    point = await desk.point_id(placed)
    good = {
        "from": placed.placement.phone,
        "to": "10690000",
        "text": "好的",
        "received_at": now_utc().isoformat(),
    }
    cases = {
        "a NUL in the text": ({**good, "text": "退订\u0000"}, "text"),
        "received before year 1 in UTC": ({**good, "received_at": BEFORE_YEAR_ONE}, "received_at"),
        "received tomorrow": (
            {**good, "received_at": (now_utc() + timedelta(days=1)).isoformat()},
            "received_at",
        ),
    }

    for name, (body, field) in cases.items():
        response = await desk.http.reminders.post("/v1/inbound/sms", json=body, headers=desk.headers())
        assert refused(response) == {field}, name

    kept = await desk.http.reminders.post("/v1/inbound/sms", json=good, headers=desk.headers())
    assert kept.json() == {"status": "received"}, kept.text
    stored = await pg.fetchval(
        "SELECT count(*) FROM reminders.inbound_messages WHERE contact_point_id = $1", point
    )
    assert stored == 1


async def test_a_receipt_time_out_of_range_is_refused(desk: Desk) -> None:
    body = {"provider_message_id": "msg-1", "status": "delivered", "at": BEFORE_YEAR_ONE}

    response = await desk.http.reminders.post("/v1/receipts/sandbox", json=body, headers=desk.headers())

    assert refused(response) == {"at"}
