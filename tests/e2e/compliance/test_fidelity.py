"""Compliance at the edges a new user found: every candidate zone, every call counted wherever it
came from, third parties only when the debtor cannot be reached, what the borrower agreed to or
asked for, and dry runs that answer for every contact point on state that is not stale."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.e2e.compliance.desk import (
    Desk,
    Placed,
    midday_zone,
    next_local,
    rules_of,
    unreachable_by_reminders,
)
from tests.e2e.intake import builders as b
from tests.support.waiting import eventually
from tests.support.zones import local_mobile

pytestmark = pytest.mark.e2e

NEW_YORK, LOS_ANGELES = "America/New_York", "America/Los_Angeles"


def reported(
    external_account_id: str, *, outcome: str, at: datetime, phone: str, by: str = "lender"
) -> dict[str, Any]:
    """A call the lender (or another agency) made itself, as the lender reports it to intake."""
    return b.lender_event(
        "contact.reported",
        external_account_id,
        contact={"channel": "voice_call", "outcome": outcome, "at": at.isoformat(), "by": by, "phone": phone},
    )


async def test_a_declared_zone_does_not_hide_the_address_and_phone_zones(desk: Desk) -> None:
    # Declared New York, but the phone and the address are in California (12 CFR 1006.6(b)(1)(i)).
    event = b.us_account_placed(phone="+12135550147", region="CA", timezone=NEW_YORK)
    event["borrower"]["addresses"] = [
        {"line1": "1 Main St", "city": "Los Angeles", "region": "CA", "country": "US", "type": "home"}
    ]
    placed = await desk.place(unreachable_by_reminders(event))

    state = await desk.state(placed.account_id)
    assert state["zones"] == [
        {"zone": LOS_ANGELES, "sources": ["address", "phone"]},
        {"zone": NEW_YORK, "sources": ["declared"]},
    ]
    # 10:00 in New York is 07:00 in Los Angeles: the call waits for 08:00 Pacific.
    early = next_local(LOS_ANGELES, 7)
    decision = await desk.permit(placed, channel="voice_call", at=early)
    assert (decision["outcome"], rules_of(decision)) == ("defer", {"US.quiet_hours"}), decision
    opens = datetime.fromisoformat(decision["not_before"]).astimezone(ZoneInfo(LOS_ANGELES))
    assert (opens.hour, opens.minute) == (8, 0), decision
    assert any(LOS_ANGELES in reason["message"] for reason in decision["reasons"])


async def test_calls_the_lender_and_other_agencies_report_count_in_the_cn_caps(desk: Desk) -> None:
    zone = midday_zone()
    placement = unreachable_by_reminders(b.account_placed(timezone=zone))
    phone = placement["borrower"]["phones"][0]["number"]
    placed = await desk.place(placement)
    now = datetime.now(UTC)

    for minutes, by in ((30, "lender"), (20, "agency"), (10, "agency")):
        await desk.lender.accept(
            reported(
                placed.external_account_id,
                outcome="connected",
                at=now - timedelta(minutes=minutes),
                phone=phone,
                by=by,
            )
        )

    # The lender and all its agencies together: three connected calls, so ours is the fourth.
    decision = await desk.verdict_settles(
        placed.account_id, lambda d: "CN.connected_calls_per_day" in rules_of(d), channel="voice_call"
    )
    assert decision["outcome"] == "defer", decision
    counts = (await desk.state(placed.account_id))["ledger_counts"]
    assert counts["CN.connected_calls_per_day"] == 3


async def test_unanswered_calls_reported_on_a_number_fill_that_numbers_cap_only(desk: Desk) -> None:
    zone = midday_zone()
    placement = unreachable_by_reminders(b.account_placed(timezone=zone))
    phone = placement["borrower"]["phones"][0]["number"]
    other = local_mobile(zone)
    placement["borrower"]["phones"].append({"number": other, "type": "mobile"})
    placed = await desk.place(placement)
    now = datetime.now(UTC)

    for minutes in range(6):
        event = reported(
            placed.external_account_id,
            outcome="no_answer",
            at=now - timedelta(minutes=10 + minutes),
            phone=phone,
        )
        await desk.lender.accept(event)

    consents = (await desk.state(placed.account_id))["consents"]
    view = await desk.lender.account(placed.account_id)
    called, spare = (p["id"] for p in view["borrower"]["phones"])  # in the order they were placed
    assert {called, spare} <= set(consents)
    capped = await desk.verdict_settles(
        placed.account_id,
        lambda d: d["outcome"] == "defer",
        channel="voice_call",
        contact_point_id=called,
    )
    assert rules_of(capped) == {"CN.unanswered_per_method_per_day"}, capped
    assert (await desk.evaluate(placed.account_id, channel="voice_call", contact_point_id=spare))[
        "outcome"
    ] == "allow"


async def test_a_contact_report_names_what_it_used(desk: Desk) -> None:
    placed = await desk.place(unreachable_by_reminders(b.account_placed(timezone=midday_zone())))
    now = datetime.now(UTC)
    good = {
        "channel": "voice_call",
        "outcome": "connected",
        "at": now.isoformat(),
        "by": "agency",
        "phone": "+8613900001111",
    }
    cases = {
        "an outcome a call cannot have": ({**good, "outcome": "bounced"}, "contact.outcome"),
        "in the future": ({**good, "at": (now + timedelta(hours=2)).isoformat()}, "contact.at"),
        "not a phone number": ({**good, "phone": "12"}, "contact.phone"),
        "a third party nobody placed": (
            {**good, "recipient": "third_party", "third_party_id": "ab" * 32},
            "contact.third_party_id",
        ),
        "who made it unknown": ({**good, "by": "neighbour"}, "contact.by"),
    }
    for name, (contact, field) in cases.items():
        response = await desk.lender.post(
            b.lender_event("contact.reported", placed.external_account_id, contact=contact)
        )
        assert response.status_code == 422, (name, response.text)
        assert field in {e["field"] for e in response.json()["errors"]}, (name, response.text)
    await desk.lender.accept(b.lender_event("contact.reported", placed.external_account_id, contact=good))


async def test_permits_reserved_for_later_days_count_against_seven_calls_in_seven_days(desk: Desk) -> None:
    zone = midday_zone()
    placed = await desk.place(unreachable_by_reminders(b.us_account_placed(timezone=zone)))
    # Seven calls reserved, one for each of the next seven days at this hour...
    now = datetime.now(UTC)
    for day in range(1, 8):
        ahead = await desk.permit(placed, channel="voice_call", at=now + timedelta(days=day))
        assert ahead["outcome"] == "allow", ahead
    # ... leave no room for an eighth today: it would be eight calls in the seven days to come.
    today = await desk.permit(placed, channel="voice_call")
    assert (today["outcome"], rules_of(today)) == ("defer", {"US.calls_7_in_7"}), today


async def test_a_dry_run_without_a_contact_point_answers_for_each_one(desk: Desk) -> None:
    zone = midday_zone()
    placement = b.us_account_placed(timezone=zone)
    placement["borrower"]["phones"].append(
        {"number": local_mobile(zone), "type": "mobile", "consent_sms": False}
    )
    placed = await desk.place(placement)
    view = await desk.lender.account(placed.account_id)
    consented_id, plain_id = (p["id"] for p in view["borrower"]["phones"])  # in the order they were placed

    # Tomorrow: reminders sends today's first SMS, and one message a day is the spacing.
    at = next_local(zone, 12, after=timedelta(hours=25))
    answer = await desk.evaluate(placed.account_id, channel="sms", at=at)

    assert answer["outcome"] == "allow", answer
    by_point = {t["contact_point_id"]: t for t in answer["targets"]}
    assert set(by_point) == {consented_id, plain_id}
    assert by_point[consented_id]["outcome"] == "allow"
    refused = by_point[plain_id]
    assert (refused["kind"], refused["outcome"]) == ("phone", "deny")
    assert {r["rule"] for r in refused["reasons"]} == {"US.sms_consent"}
    # Named, the answer is the one for that point only.
    named = await desk.evaluate(placed.account_id, channel="sms", at=at, contact_point_id=plain_id)
    assert (named["outcome"], named["targets"]) == ("deny", [])


async def test_cn_third_parties_only_once_the_debtor_cannot_be_reached_and_never_after_a_refusal(
    desk: Desk,
) -> None:
    placed = await desk.place(unreachable_by_reminders(b.account_placed(timezone=midday_zone())))
    # Intake's account view names the third party by the id compliance knows them by.
    (third_party,) = (await desk.lender.account(placed.account_id))["borrower"]["third_parties"]
    assert third_party["relationship"] == "emergency_contact" and "*" in third_party["name"]
    ask = {"channel": "voice_call", "recipient": "third_party", "purpose": "location"}

    before = await desk.evaluate(placed.account_id, **ask)
    (target,) = before["targets"]
    assert (target["third_party_id"], target["kind"]) == (third_party["id"], "third_party")
    assert before["outcome"] == "deny" and "cannot be reached" in before["reasons"][0]["message"]
    assert (await desk.state(placed.account_id))["debtor_unreachable"] is False

    # Three failed calls to the phone and three bounced e-mails in the last three days.
    phone, email = await desk.contact_point(placed, "phone"), await desk.contact_point(placed, "email")
    now = datetime.now(UTC)
    for hours in (1, 20, 40):
        at = now - timedelta(hours=hours)
        await desk.attempt(placed, channel="voice_call", outcome="no_answer", at=at, contact_point_id=phone)
        await desk.attempt(placed, channel="email", outcome="bounced", at=at, contact_point_id=email)

    after = await desk.verdict_settles(placed.account_id, lambda d: d["outcome"] == "allow", **ask)
    assert after["targets"][0]["outcome"] == "allow"
    assert (await desk.state(placed.account_id))["debtor_unreachable"] is True

    # The third party says never again: that is final.
    permit = await desk.permit(placed, **ask, third_party_id=third_party["id"])
    assert permit["outcome"] == "allow", permit
    await desk.attempt(
        placed,
        channel="voice_call",
        recipient="third_party",
        outcome="conversation",
        permit_id=permit["permit_id"],
        third_party_id=third_party["id"],
        refused=True,
    )
    refused = await desk.verdict_settles(
        placed.account_id, lambda d: d["outcome"] == "deny", **ask, third_party_id=third_party["id"]
    )
    assert "never contacted again" in " ".join(r["message"] for r in refused["reasons"])
    assert third_party["id"] in (await desk.state(placed.account_id))["refused_third_parties"]


async def test_hours_the_borrower_agreed_to_replace_the_cn_quiet_hours(desk: Desk) -> None:
    zone = midday_zone()
    placed = await desk.place(unreachable_by_reminders(b.account_placed(timezone=zone)))
    dawn = next_local(zone, 7)
    assert (await desk.evaluate(placed.account_id, at=dawn))["outcome"] == "defer"

    agreed = {"agreed_hours": {"start": "06:30", "end": "23:00"}}
    await desk.lender.accept(
        b.lender_event("borrower.preferences_changed", placed.external_account_id, preferences=agreed)
    )

    allowed = await desk.verdict_settles(placed.account_id, lambda d: d["outcome"] == "allow", at=dawn)
    assert allowed["outcome"] == "allow"
    assert (await desk.state(placed.account_id))["preferences"]["agreed_hours"] == {
        "start": "06:30",
        "end": "23:00",
    }
    # An unchanged preferences event later keeps them; sending null clears them.
    cleared = {"agreed_hours": None}
    await desk.lender.accept(
        b.lender_event("borrower.preferences_changed", placed.external_account_id, preferences=cleared)
    )
    await desk.verdict_settles(placed.account_id, lambda d: d["outcome"] == "defer", at=dawn)


async def test_a_prerecorded_call_to_a_home_line_needs_prior_express_consent(desk: Desk) -> None:
    # A borrower staying in Beijing whose only phone is a fixed home line there.
    event = unreachable_by_reminders(b.us_account_placed(timezone="Asia/Shanghai"))
    event["borrower"]["phones"] = [{"number": "+861065529988", "type": "home"}]
    event["borrower"]["addresses"] = []
    placed = await desk.place(event)
    line = await desk.contact_point(placed, "phone")
    assert (await desk.state(placed.account_id))["consents"][line]["line_type"] == "residential"
    noon = next_local("Asia/Shanghai", 12)

    robot = await desk.evaluate(placed.account_id, prerecorded=True, contact_point_id=line, at=noon)
    person = await desk.evaluate(placed.account_id, contact_point_id=line, at=noon)

    assert (robot["outcome"], rules_of(robot)) == ("deny", {"US.prerecorded_residential"}), robot
    assert person["outcome"] == "allow", person


async def test_massachusetts_no_calls_to_work_once_the_borrower_asked(desk: Desk) -> None:
    zone = midday_zone()
    event = unreachable_by_reminders(b.us_account_placed(jurisdiction="US-MA", timezone=zone))
    work = local_mobile(zone)
    event["borrower"]["phones"].append({"number": work, "type": "work"})
    placed = await desk.place(event)
    view = await desk.lender.account(placed.account_id)
    ids = {p["type"]: p["id"] for p in view["borrower"]["phones"]}
    assert (await desk.evaluate(placed.account_id, contact_point_id=ids["work"]))["outcome"] == "allow"

    asked = {"no_work_contact": True}
    await desk.lender.accept(
        b.lender_event("borrower.preferences_changed", placed.external_account_id, preferences=asked)
    )

    at_work = await desk.verdict_settles(
        placed.account_id, lambda d: d["outcome"] == "deny", contact_point_id=ids["work"]
    )
    assert rules_of(at_work) == {"US-MA.no_contact_at_work"}, at_work
    assert (await desk.evaluate(placed.account_id, contact_point_id=ids["mobile"]))["outcome"] == "allow"


async def test_gb_visits_need_a_forbearance_offer_and_a_visit_notice_first(desk: Desk) -> None:
    event = unreachable_by_reminders(b.gb_account_placed(timezone=midday_zone()))
    placed = await desk.place(event)
    visit = {"channel": "visit", "contact_point_id": None}

    first = await desk.evaluate(placed.account_id, **visit)
    assert rules_of(first) >= {"GB.forbearance_before_escalation", "GB.visit_notice"}, first

    email = await desk.contact_point(placed, "email")
    now = datetime.now(UTC)
    for purpose in ("forbearance_offer", "visit_notice"):
        permit = await desk.permit(placed, channel="email", purpose=purpose, contact_point_id=email)
        assert permit["outcome"] == "allow", permit
        await desk.attempt(
            placed,
            channel="email",
            outcome="delivered",
            permit_id=permit["permit_id"],
            contact_point_id=email,
        )

    async def noticed() -> bool:
        return set((await desk.state(placed.account_id))["notices"]) == {"forbearance_offer", "visit_notice"}

    await eventually(noticed, timeout_s=60)
    soon = await desk.evaluate(placed.account_id, **visit)
    assert (soon["outcome"], rules_of(soon)) == ("defer", {"GB.visit_notice"}), soon
    assert datetime.fromisoformat(soon["not_before"]) >= now + timedelta(hours=48)


async def test_a_request_from_fresher_state_than_compliance_has_is_deferred(desk: Desk) -> None:
    placed: Placed = await desk.place(unreachable_by_reminders(b.account_placed(timezone=midday_zone())))
    seq = (await desk.lender.account(placed.account_id))["borrower"]["intake_seq"]
    assert seq == (await desk.state(placed.account_id))["intake_seq"] == 1

    ahead = await desk.evaluate(placed.account_id, intake_seq=seq + 1)
    assert (ahead["outcome"], rules_of(ahead)) == ("defer", {"compliance.state_not_fresh"}), ahead
    assert (await desk.evaluate(placed.account_id, intake_seq=seq))["outcome"] == "allow"
    # The same over Kafka, as reminders asks.
    deferred = await desk.permit(placed, intake_seq=seq + 1)
    assert (deferred["outcome"], [r["rule"] for r in deferred["reasons"]]) == (
        "defer",
        ["compliance.state_not_fresh"],
    )
