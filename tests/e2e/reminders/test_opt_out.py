"""A borrower's STOP (or 退订) reply opts the number out of SMS at once, in reminders and compliance."""

from __future__ import annotations

import copy
from dataclasses import replace
from typing import Any

import httpx
import pytest

from common.auth import Role
from tests.e2e.intake import builders as b
from tests.e2e.reminders.desk import FINAL, Desk, Placed, rules_of, tomorrow_noon
from tests.e2e.reminders.placements import daytime_home, placement
from tests.support.waiting import eventually

pytestmark = pytest.mark.e2e

SHORT_CODE = "10690000"


async def reply(desk: Desk, sender: str, text: str) -> httpx.Response:
    body = {"from": sender, "to": SHORT_CODE, "text": text, "received_at": b.now_iso()}
    return await desk.http.reminders.post("/v1/inbound/sms", json=body, headers=desk.headers())


async def reminded(desk: Desk) -> tuple[Placed, str, dict[str, Any]]:
    """An account whose first SMS went out, its phone's contact point and that SMS's job."""
    placed = await desk.place(placement(*daytime_home()))
    sent = await desk.first_reminder_sent(placed)
    point = await desk.contact_point(placed.account_id)
    # Tomorrow: one collection message a day, and one went out today.
    before = await desk.evaluate(
        placed.account_id, channel="sms", contact_point_id=point, at=tomorrow_noon(placed.placement)
    )
    assert before["outcome"] == "allow", before
    return placed, point, sent


async def assert_opted_out_of_sms(desk: Desk, placed: Placed, point: str) -> dict[str, Any]:
    async def in_state() -> bool:
        return "sms" in (await desk.state(placed.account_id))["channel_opt_outs"]

    await eventually(in_state, timeout_s=45)
    sms = await desk.evaluate(placed.account_id, channel="sms", contact_point_id=point)
    assert sms["outcome"] == "deny", sms
    assert f"{placed.placement.country}.channel_opt_out" in rules_of(sms), sms
    # Only that channel: e-mail stays open.
    email = await desk.contact_point(placed.account_id, "email")
    assert (
        await desk.evaluate(
            placed.account_id, channel="email", contact_point_id=email, at=tomorrow_noon(placed.placement)
        )
    )["outcome"] == "allow"
    return sms


async def test_stop_opts_the_number_out_of_sms(desk: Desk) -> None:
    placed, point, sent = await reminded(desk)

    response = await reply(desk, placed.placement.phone, "STOP")

    assert response.status_code == 200, response.text
    assert response.json() == {"status": "received"}
    await assert_opted_out_of_sms(desk, placed, point)

    # The borrower's next debt with this lender: its first reminder goes by e-mail, not SMS, and
    # (one collection message a day per person) not before a day has passed since the SMS.
    event = copy.deepcopy(placed.placement.event)
    event["event_id"], event["account"]["external_account_id"] = b.fresh("evt"), b.fresh("ACC")
    second = await desk.place(replace(placed.placement, event=event))
    jobs = await desk.jobs_when(
        second.account_id, lambda js: all(j["state"] in {*FINAL, "deferred"} for j in js)
    )
    assert [(j["step_dpd"], j["channel"], j["state"]) for j in jobs] == [(0, "email", "deferred")], jobs
    assert rules_of(jobs[0]) == {f"{placed.placement.country}.contact_spacing"}, jobs
    (first_sms,) = await desk.messages(placed.placement.phone)
    assert first_sms["idempotency_key"] == sent["job_id"]
    assert await desk.messages(placed.placement.email) == []


async def test_tuiding_opts_out_and_other_replies_are_kept(desk: Desk) -> None:
    placed, point, _ = await reminded(desk)

    chatter = await reply(desk, placed.placement.phone, "好的，我下周还款")
    stranger = await reply(desk, b.unique_cn_mobile(), "退订")
    tuiding = await reply(desk, placed.placement.phone, " 退订 ")

    # Every reply gets the same answer: what it did shows on the account, not to the caller.
    assert chatter.json() == stranger.json() == tuiding.json() == {"status": "received"}
    await assert_opted_out_of_sms(desk, placed, point)


async def test_a_kept_reply_leaves_sms_open(desk: Desk) -> None:
    placed, point, _ = await reminded(desk)

    response = await reply(desk, placed.placement.phone, "When is it due?")

    assert response.json() == {"status": "received"}, response.text
    assert (await desk.state(placed.account_id))["channel_opt_outs"] == []
    after = await desk.evaluate(
        placed.account_id, channel="sms", contact_point_id=point, at=tomorrow_noon(placed.placement)
    )
    assert after["outcome"] == "allow", after


async def test_inbound_replies_need_an_ops_token(desk: Desk) -> None:
    body = {"from": b.unique_cn_mobile(), "to": SHORT_CODE, "text": "STOP", "received_at": b.now_iso()}
    agent = await desk.http.reminders.post("/v1/inbound/sms", json=body, headers=desk.headers(Role.AGENT))
    anonymous = await desk.http.reminders.post("/v1/inbound/sms", json=body)
    malformed = await reply(desk, "not a number", "STOP")

    assert agent.status_code == 403, agent.text
    assert anonymous.status_code == 401, anonymous.text
    assert malformed.status_code == 422, malformed.text
