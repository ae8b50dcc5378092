"""Contacts logged by agents (desk phones, calls outside a task) reach the compliance ledger through
Kafka and count towards the call caps like any other attempt."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from common.auth import Role
from tests.e2e.compliance.desk import next_local
from tests.e2e.reminders.desk import Desk, Placed, now_utc, rules_of, tomorrow_noon
from tests.e2e.reminders.placements import DAYTIME, placement, steady_zone

pytestmark = pytest.mark.e2e

NEW_YORK = "America/New_York"


async def log_call(
    desk: Desk, placed: Placed, outcome: str, at: datetime, *, agent: str, direction: str = "outbound"
) -> httpx.Response:
    body = {
        "account_id": placed.account_id,
        "channel": "voice_call",
        "direction": direction,
        "outcome": outcome,
        "at": at.isoformat(),
        "contact_point_id": await desk.point_id(placed),
    }
    response = await desk.http.reminders.post(
        "/v1/contacts", json=body, headers=desk.headers(Role.AGENT, sub=agent)
    )
    assert response.status_code == 201, response.text
    assert response.json()["id"].startswith("manual:"), response.text
    return response


def is_defer_by(rule: str) -> Callable[[dict[str, Any]], bool]:
    return lambda d: d["outcome"] == "defer" and rule in rules_of(d)


async def test_seven_logged_unanswered_calls_in_seven_days_defer_the_next_call(desk: Desk) -> None:
    placed = await desk.place(placement("US-NY", NEW_YORK))
    # Noon in New York, the next time it comes: inside the calling hours whatever the hour now.
    noon = next_local(NEW_YORK, 12)
    before = await desk.verdict_settles(placed.account_id, lambda d: True, at=noon)
    assert before["outcome"] == "allow", before

    now = now_utc()
    for hours_ago in (70, 60, 50, 40, 30, 20, 10):
        await log_call(desk, placed, "no_answer", now - timedelta(hours=hours_ago), agent="desk-1")

    verdict = await desk.verdict_settles(placed.account_id, is_defer_by("US.calls_7_in_7"), at=noon)
    assert datetime.fromisoformat(verdict["not_before"]) >= now - timedelta(hours=70) + timedelta(days=7)
    assert (await desk.state(placed.account_id))["ledger_counts"]["US.calls_7_in_7"] == 7
    # An e-mail is not a call: the call caps do not hold it back.
    email = await desk.contact_point(placed.account_id, "email")
    later = tomorrow_noon(placed.placement)
    assert (await desk.evaluate(placed.account_id, channel="email", contact_point_id=email, at=later))[
        "outcome"
    ] == "allow"


async def test_a_logged_conversation_blocks_calls_for_seven_days(desk: Desk) -> None:
    placed = await desk.place(placement("US-NY", NEW_YORK))
    noon = next_local(NEW_YORK, 12)
    talked = now_utc() - timedelta(hours=1)

    await log_call(desk, placed, "conversation", talked, agent="desk-2")

    verdict = await desk.verdict_settles(placed.account_id, is_defer_by("US.conversation_cooldown"), at=noon)
    # The conversation day is day 1: calls reopen on day 8, local time.
    day_one = talked.astimezone(ZoneInfo(NEW_YORK)).date()
    reopens = datetime.fromisoformat(verdict["not_before"]).astimezone(ZoneInfo(NEW_YORK))
    assert reopens.date() == day_one + timedelta(days=7), verdict
    assert (await desk.state(placed.account_id))["ledger_counts"]["US.conversation_cooldown"] == 1


async def test_three_connected_calls_in_the_borrowers_day_defer_the_fourth(desk: Desk) -> None:
    # A CN borrower staying where it is midday: the three calls fall in one local day.
    placed = await desk.place(placement("CN", steady_zone(range(11, 15))))
    await desk.verdict_settles(placed.account_id, lambda d: d["outcome"] == "allow")

    now = now_utc()
    for minutes_ago in (30, 20, 10):
        await log_call(desk, placed, "connected", now - timedelta(minutes=minutes_ago), agent="desk-3")

    verdict = await desk.verdict_settles(placed.account_id, is_defer_by("CN.connected_calls_per_day"))
    assert datetime.fromisoformat(verdict["not_before"]) > now
    assert (await desk.state(placed.account_id))["ledger_counts"]["CN.connected_calls_per_day"] == 3
    email = await desk.contact_point(placed.account_id, "email")
    emailed = await desk.evaluate(placed.account_id, channel="email", contact_point_id=email)
    assert not {"CN.connected_calls_per_day", "CN.unanswered_per_method_per_day"} & rules_of(emailed)


async def test_a_contact_log_is_validated_and_tenant_scoped(desk: Desk, other: Desk) -> None:
    placed = await desk.place(placement("CN", steady_zone(DAYTIME)))
    view = await desk.account_view(placed)
    (third_party,) = view["borrower"]["third_parties"]
    good = {
        "account_id": placed.account_id,
        "channel": "voice_call",
        "direction": "inbound",
        "outcome": "conversation",
        "at": now_utc().isoformat(),
        "contact_point_id": view["borrower"]["phones"][0]["id"],
    }
    to_third_party = {
        **good,
        "recipient": "third_party",
        "contact_point_id": None,
        "third_party_id": third_party["id"],
    }
    cases = {
        "unknown channel": {**good, "channel": "carrier_pigeon"},
        "no offset": {**good, "at": "2026-01-01T10:00:00"},
        "unknown outcome": {**good, "outcome": "threatened"},
        "extra field": {**good, "note": "x"},
        # The caps count per number: a call names the number it used, from intake's account view.
        "no contact point": {**good, "contact_point_id": None},
        "someone else's number": {**good, "contact_point_id": "ab" * 32},
        "an e-mail for a call": {**good, "contact_point_id": view["borrower"]["emails"][0]["id"]},
        "a third party not named": {**to_third_party, "third_party_id": None},
        "an unknown third party": {**to_third_party, "third_party_id": "cd" * 32},
        "a debtor's refusal": {**good, "refused": True},
    }
    for name, body in cases.items():
        response = await desk.http.reminders.post("/v1/contacts", json=body, headers=desk.headers(Role.AGENT))
        assert response.status_code == 422, (name, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.json()["errors"], (name, response.text)

    for body in (good, to_third_party):
        response = await desk.http.reminders.post("/v1/contacts", json=body, headers=desk.headers(Role.AGENT))
        assert response.status_code == 201, response.text
    foreign = await desk.http.reminders.post("/v1/contacts", json=good, headers=other.headers(Role.AGENT))
    lender = await desk.http.reminders.post("/v1/contacts", json=good, headers=desk.headers(Role.LENDER))
    assert foreign.status_code == 404, foreign.text
    assert lender.status_code == 403, lender.text
    # An agent logs in their own name; ops may log for any agent (a supervisor's correction).
    impostor = await desk.http.reminders.post(
        "/v1/contacts",
        json={**good, "agent_id": "agent-bob"},
        headers=desk.headers(Role.AGENT, sub="agent-ann"),
    )
    assert impostor.status_code == 403, impostor.text
    assert [e["field"] for e in impostor.json()["errors"]] == ["agent_id"]
    for headers in (desk.headers(Role.AGENT, sub="agent-bob"), desk.headers(Role.OPS)):
        response = await desk.http.reminders.post(
            "/v1/contacts", json={**good, "agent_id": "agent-bob"}, headers=headers
        )
        assert response.status_code == 201, response.text


async def test_a_call_the_borrower_made_blocks_our_calls_for_seven_days(desk: Desk) -> None:
    # 12 CFR 1006.14(b)(2)(i)(B): a telephone conversation, whoever placed the call (before: ignored).
    placed = await desk.place(placement("US-NY", NEW_YORK))
    noon = next_local(NEW_YORK, 12)
    assert (await desk.verdict_settles(placed.account_id, lambda d: True, at=noon))["outcome"] == "allow"

    await log_call(
        desk, placed, "conversation", now_utc() - timedelta(minutes=5), agent="desk-4", direction="inbound"
    )

    refused = await desk.verdict_settles(placed.account_id, is_defer_by("US.conversation_cooldown"), at=noon)
    assert refused["outcome"] == "defer", refused
    # An inbound call is not one of our call attempts: the 7-in-7 count is untouched.
    assert (await desk.state(placed.account_id))["ledger_counts"]["US.calls_7_in_7"] == 0
