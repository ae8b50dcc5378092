"""Attempts reported on Kafka fill the contact ledger, and the ledger defers the next call."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from tests.e2e.compliance.desk import Desk, Placed, midday_zone, rules_of, unreachable_by_reminders
from tests.e2e.intake import builders as b

pytestmark = pytest.mark.e2e


async def call(desk: Desk, placed: Placed, outcome: str) -> datetime:
    """A permitted call with this outcome; returns when it happened."""
    permit = await desk.permit(placed, channel="voice_call")
    assert permit["outcome"] == "allow", permit
    at = datetime.now(UTC)
    await desk.attempt(placed, channel="voice_call", outcome=outcome, at=at, permit_id=permit["permit_id"])
    return at


def local(instant: str, zone: str) -> datetime:
    return datetime.fromisoformat(instant).astimezone(ZoneInfo(zone))


async def test_seven_counted_calls_in_seven_days_defer_the_eighth_until_the_first_ages_out(
    desk: Desk,
) -> None:
    zone = midday_zone()
    placed = await desk.place(unreachable_by_reminders(b.us_account_placed(timezone=zone)))

    await call(desk, placed, "busy")  # not a counted attempt under Regulation F
    counted = [await call(desk, placed, "no_answer") for _ in range(6)]
    counted.append(await call(desk, placed, "voicemail"))

    eighth = await desk.permit(placed, channel="voice_call")
    assert eighth["outcome"] == "defer", eighth
    assert rules_of(eighth) == {"US.calls_7_in_7"}
    assert datetime.fromisoformat(eighth["not_before"]) == counted[0] + timedelta(days=7)
    assert eighth["expires_at"] is None

    dry = await desk.evaluate(placed.account_id, channel="voice_call")
    assert (dry["outcome"], rules_of(dry)) == ("defer", {"US.calls_7_in_7"})
    assert dry["not_before"] == eighth["not_before"]
    # Other media are not calls: an e-mail is still allowed.
    email = await desk.contact_point(placed, "email")
    assert (await desk.evaluate(placed.account_id, channel="email", contact_point_id=email))[
        "outcome"
    ] == "allow"

    counts = (await desk.state(placed.account_id))["ledger_counts"]
    assert counts["US.calls_7_in_7"] == 7
    assert counts["US.conversation_cooldown"] == 0


async def test_a_conversation_blocks_calls_until_day_eight(desk: Desk) -> None:
    zone = midday_zone()
    placed = await desk.place(unreachable_by_reminders(b.us_account_placed(timezone=zone)))
    notice = await desk.permit(placed, channel="letter", purpose="validation_notice")
    assert notice["outcome"] == "allow", notice
    await desk.attempt(placed, channel="letter", outcome="delivered", permit_id=notice["permit_id"])

    talked = await call(desk, placed, "conversation")
    after = await desk.permit(placed, channel="voice_call")

    assert after["outcome"] == "defer", after
    assert rules_of(after) == {"US.conversation_cooldown"}
    day_one = talked.astimezone(ZoneInfo(zone)).date()
    # Day 8 starts at local midnight, when quiet hours still run: calls reopen at 08:00 that day.
    assert local(after["not_before"], zone) == datetime.combine(
        day_one + timedelta(days=7), time(8), tzinfo=ZoneInfo(zone)
    )
    late_day_seven = datetime.combine(day_one + timedelta(days=6), time(20), tzinfo=ZoneInfo(zone))
    still = await desk.evaluate(placed.account_id, channel="voice_call", at=late_day_seven)
    assert (still["outcome"], rules_of(still)) == ("defer", {"US.conversation_cooldown"})
    day_eight = datetime.combine(day_one + timedelta(days=7), time(9), tzinfo=ZoneInfo(zone))
    assert (await desk.evaluate(placed.account_id, channel="voice_call", at=day_eight))["outcome"] == "allow"

    state = await desk.state(placed.account_id)
    assert state["ledger_counts"]["US.conversation_cooldown"] == 1
    assert state["ledger_counts"]["US.calls_7_in_7"] == 1
    assert state["validation_notice"]["sent_at"] is not None
    assert state["first_contact_at"] is not None


async def test_three_connected_calls_in_a_local_day_defer_the_fourth_to_tomorrow_morning(desk: Desk) -> None:
    zone = midday_zone()
    placed = await desk.place(unreachable_by_reminders(b.account_placed(timezone=zone)))

    calls = [await call(desk, placed, "connected") for _ in range(3)]
    fourth = await desk.permit(placed, channel="voice_call")

    assert fourth["outcome"] == "defer", fourth
    assert rules_of(fourth) == {"CN.connected_calls_per_day"}
    tomorrow = calls[0].astimezone(ZoneInfo(zone)).date() + timedelta(days=1)
    # The count resets at local midnight, but quiet hours last until 08:00.
    assert local(fourth["not_before"], zone) == datetime.combine(tomorrow, time(8), tzinfo=ZoneInfo(zone))
    assert (await desk.evaluate(placed.account_id, channel="email"))["outcome"] == "allow"

    counts = (await desk.state(placed.account_id))["ledger_counts"]
    assert counts["CN.connected_calls_per_day"] == 3
    assert counts["CN.unanswered_per_method_per_day"] == 0
