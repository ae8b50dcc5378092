"""permit.requested on reminders.v1 is answered by one permit.decided on compliance.v1."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import asyncpg
import pytest

from compliance.domain.packs import load_all
from tests.e2e.compliance.desk import Desk, midday_zone, next_local, rules_of, unreachable_by_reminders
from tests.e2e.intake import builders as b

# The tag of the CN pack as shipped; decisions must name it.
CN_POLICY = load_all()["CN"].version_tag

pytestmark = pytest.mark.e2e

SHANGHAI = ZoneInfo("Asia/Shanghai")


async def test_an_allowed_request_is_answered_with_a_permit_that_expires(desk: Desk) -> None:
    placed = await desk.place(unreachable_by_reminders(b.account_placed(timezone="Asia/Shanghai")))
    at = next_local("Asia/Shanghai", 10)
    job_id = str(uuid.uuid4())

    request = desk.permit_request(placed, at=at, channel="voice_call", job_id=job_id)
    await desk.publish(placed, request)
    record = await desk.decided_record(request.request_id)

    decided = record.payload
    assert decided["account_id"] == placed.account_id
    assert decided["borrower_id"] == placed.borrower_id
    assert decided["outcome"] == "allow", decided
    assert decided["reasons"] == []
    assert decided["policy"] == CN_POLICY
    assert datetime.fromisoformat(decided["expires_at"]) == at + timedelta(minutes=15)
    assert decided["not_before"] is None
    assert (decided["channel"], decided["recipient"], decided["job_id"]) == ("voice_call", "debtor", job_id)
    assert record.key == placed.borrower_id
    assert record.headers["ce_subject"] == placed.account_id
    assert record.headers["ce_source"] == "compliance"
    assert record.headers["ce_tenant"] == desk.tenant
    assert record.headers["ce_specversion"] == "1.0"
    assert record.headers["content-type"] == "application/json"


async def test_a_request_in_quiet_hours_is_deferred_to_eight_next_morning_and_answered_once(
    desk: Desk, pg: asyncpg.Pool
) -> None:
    placed = await desk.place(unreachable_by_reminders(b.account_placed(timezone="Asia/Shanghai")))
    late = next_local("Asia/Shanghai", 23)

    request = desk.permit_request(placed, at=late, channel="email")
    first_ce_id = await desk.publish(placed, request)
    decided = await desk.decided(request.request_id)

    assert decided["outcome"] == "defer", decided
    assert rules_of(decided) == {"CN.quiet_hours"}
    (reason,) = decided["reasons"]
    assert "22:00" in reason["message"] and reason["citation"]
    not_before = datetime.fromisoformat(decided["not_before"]).astimezone(SHANGHAI)
    assert not_before.date() == late.astimezone(SHANGHAI).date() + timedelta(days=1)
    assert (not_before.hour, not_before.minute, not_before.second) == (8, 0, 0)
    assert decided["expires_at"] is None
    assert decided["policy"] == CN_POLICY

    # The same request again (a redelivery by a new relay, so a new ce_id): no second decision.
    second_ce_id = await desk.publish(placed, request)
    assert second_ce_id != first_ce_id
    # A later request on the same key is decided after it; once its answer is out, so would be a duplicate's.
    sentinel = desk.permit_request(placed, at=next_local("Asia/Shanghai", 10), channel="voice_call")
    await desk.publish(placed, sentinel)
    await desk.decided(sentinel.request_id)
    answers = desk.feed.matching(
        lambda r: r.type == "permit.decided" and r.payload["request_id"] == request.request_id
    )
    assert len(answers) == 1
    # The redelivery was consumed cleanly (recorded in the inbox with its handler's effects), not dead-lettered.
    consumed = await pg.fetch(
        "SELECT event_id FROM compliance.inbox WHERE event_id = ANY($1::uuid[])", [first_ce_id, second_ce_id]
    )
    assert {r["event_id"] for r in consumed} == {first_ce_id, second_ce_id}

    listed = {d["request_id"]: d for d in await desk.decisions(placed.account_id)}
    assert {request.request_id, sentinel.request_id} <= set(listed)
    stored = listed[request.request_id]
    assert stored["permit_id"] == decided["permit_id"]
    assert stored["outcome"] == "defer"
    assert [r["rule"] for r in stored["reasons"]] == ["CN.quiet_hours"]
    assert stored["reasons"][0]["citation"] == reason["citation"]
    assert stored["policy"] == CN_POLICY
    assert datetime.fromisoformat(stored["not_before"]) == datetime.fromisoformat(decided["not_before"])
    assert stored["request"]["channel"] == "email"
    assert "CN.quiet_hours" in stored["evaluated_rules"]
    assert listed[sentinel.request_id]["outcome"] == "allow"


async def test_us_sms_needs_consent_on_the_number_checked_within_sixty_days(desk: Desk) -> None:
    zone = midday_zone()
    fresh = b.us_account_placed(timezone=zone)
    refused = b.us_account_placed(timezone=zone)
    refused["borrower"]["phones"][0]["consent_sms"] = False
    stale = b.us_account_placed(timezone=zone)
    stale["occurred_at"] = (datetime.now(UTC) - timedelta(days=70)).isoformat(timespec="seconds")

    answers = {}
    for name, placement in (("fresh", fresh), ("refused", refused), ("stale", stale)):
        placed = await desk.place(placement)
        phone = await desk.contact_point(placed, "phone")
        answers[name] = await desk.evaluate(placed.account_id, channel="sms", contact_point_id=phone)

    # The fresh borrower's consent passes. Reminders may already have sent its first message by the
    # time of the dry run, and then only the one-message-a-day spacing holds the next one back.
    fresh_answer = answers["fresh"]
    assert fresh_answer["outcome"] == "allow" or (
        fresh_answer["outcome"] == "defer" and rules_of(fresh_answer) == {"US.contact_spacing"}
    ), fresh_answer
    for name in ("refused", "stale"):
        assert (answers[name]["outcome"], rules_of(answers[name])) == ("deny", {"US.sms_consent"}), name
    assert "not consented" in answers["refused"]["reasons"][0]["message"]
    assert "re-checked every 60 days" in answers["stale"]["reasons"][0]["message"]
