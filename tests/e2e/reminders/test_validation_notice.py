"""A US account's validation notice really goes out, first, by e-mail or by letter, and collection
goes on past day 5 because of it (12 CFR 1006.34; before, every US account went dark on day 5)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import pytest

from common.auth import Role
from common.testing.travel import TimeTravel
from tests.e2e.intake import builders as b
from tests.e2e.reminders.desk import FINAL, Desk, Placed, rules_of
from tests.e2e.reminders.placements import DAYTIME, US_ZONES, local_hour, placement
from tests.support.waiting import eventually

pytestmark = pytest.mark.e2e

MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
          "October", "November", "December")  # fmt: skip


async def us_daytime(travel: TimeTravel) -> tuple[str, str]:
    """A US state where it is daytime for the stack: from 06:00 to 14:00 UTC it is night in every
    state, and then the stack's clocks move on to the first hour it is day in one of them."""
    for hours in range(24):
        at = travel.now() + timedelta(hours=hours)
        for jurisdiction, zone in US_ZONES:
            if local_hour(zone, at) in DAYTIME:
                if hours:
                    await travel.by(timedelta(hours=hours))
                return jurisdiction, zone
    raise AssertionError("no US zone reads daytime in the next 24 hours")


def long_date(day: date) -> str:
    return f"{MONTHS[day.month - 1]} {day.day}, {day.year}"


async def notice_sent(desk: Desk, placed: Placed) -> dict[str, Any]:
    notice = await desk.notice_job(placed.account_id)
    assert (notice["purpose"], notice["state"]) == ("validation_notice", "sent"), notice
    return notice


async def compliance_saw(desk: Desk, placed: Placed) -> dict[str, Any]:
    found: dict[str, Any] = {}

    async def recorded() -> bool:
        nonlocal found
        found = (await desk.state(placed.account_id))["validation_notice"]
        return found["sent_at"] is not None

    await eventually(recorded, timeout_s=60)
    return found


async def test_the_notice_goes_first_by_email_and_collection_goes_on_past_day_five(
    desk: Desk, travel: TimeTravel
) -> None:
    home = placement(*await us_daytime(travel))
    placed = await desk.place(home)

    notice = await notice_sent(desk, placed)
    first = await desk.first_reminder_sent(placed)
    assert notice["channel"] == "email", notice  # the borrower consented to electronic delivery
    assert notice["updated_at"] <= first["updated_at"]
    (letter,) = await desk.messages(home.email, notices=True)
    body = letter["body"]
    seen = await compliance_saw(desk, placed)
    ends = date.fromisoformat(seen["period_ends"])
    # The model form's disclosures, filled in from the account (12 CFR 1006.34(c)).
    for text in (
        "is a debt collector",
        "We are trying to collect a debt that you owe to",
        "Total amount of the debt now:",
        "$2,500.00",
        f"by {long_date(ends)}",
        "How can you dispute the debt?",
        "name and address of the original creditor",
        "www.cfpb.gov/debt-collection",
        "I want to dispute the debt because I think:",
        "Póngase en contacto con nosotros para solicitar una copia de este formulario en español",
    ):
        assert text in body, (text, body)
    # The period ends 30 days after the fifth business day after sending.
    assert ends - datetime.fromisoformat(seen["sent_at"]).date() >= timedelta(days=35)

    # Day 6 and later: the notice went, so the ladder goes on (the DPD 5 e-mail).
    await travel.by(timedelta(days=6))
    later = await desk.jobs_when(
        placed.account_id,
        lambda js: any(j["step_dpd"] == 5 and j["state"] in FINAL for j in js),
        timeout_s=90,
    )
    (fifth,) = [j for j in later if j["step_dpd"] == 5]
    assert fifth["state"] in ("sent", "deferred"), fifth
    verdict = await desk.evaluate(
        placed.account_id, channel="voice_call", at=travel.now() + timedelta(hours=1)
    )
    assert "US.validation_notice" not in rules_of(verdict), verdict


async def test_without_email_consent_the_notice_is_a_letter_in_the_borrowers_language(
    desk: Desk, travel: TimeTravel
) -> None:
    home = placement(*await us_daytime(travel))
    for email in home.event["borrower"]["emails"]:
        email["consent"] = False
    home.event["borrower"]["language"] = "es-US"
    placed = await desk.place(home)

    notice = await notice_sent(desk, placed)
    assert notice["channel"] == "letter", notice
    view = await desk.account_view(placed)
    (address,) = home.event["borrower"]["addresses"]
    mailed_to = (
        f"John Smith, {address['line1']}, {address['city']}, {address['region']} {address['postal_code']}, US"
    )
    # (Other tests' borrowers live at the same address: this letter is the one this job sent.)
    (letter,) = [
        m for m in await desk.messages(mailed_to, notices=True) if m["idempotency_key"] == notice["job_id"]
    ]
    assert letter["channel"] == "letter"
    assert "es un cobrador de deudas" in letter["body"]
    assert "¿Cómo puede disputar la deuda?" in letter["body"]
    assert view["borrower"]["addresses"][0]["line1"] != address["line1"]  # masked in the API
    assert (await compliance_saw(desk, placed))["period_ends"] is not None


async def test_no_other_channel_can_be_the_notice(desk: Desk, travel: TimeTravel) -> None:
    placed = await desk.place(placement(*await us_daytime(travel)))
    await notice_sent(desk, placed)
    for channel in ("voice_call", "sms", "push"):
        verdict = await desk.evaluate(placed.account_id, channel=channel, purpose="validation_notice")
        assert verdict["outcome"] == "deny", verdict
        assert "US.validation_notice_media" in rules_of(verdict), verdict


async def test_a_dispute_stops_collection_but_not_the_notice(desk: Desk, travel: TimeTravel) -> None:
    home = placement(*await us_daytime(travel))
    # The lender disputes before anything went out: its dispute follows the placement in one batch
    # (posted one after the other, the notice and the first SMS can be out before the dispute).
    dispute = {"received_at": b.now_iso(-5), "written": True, "reason": "not mine"}
    opened = b.lender_event("dispute.opened", home.external_account_id, dispute=dispute)
    response = await desk.lender.batch([home.event, opened])
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert [r["status"] for r in results] == ["accepted", "accepted"], results
    placed = Placed(results[0]["account_id"], home)

    notice = await notice_sent(desk, placed)
    assert notice["state"] == "sent"
    collection = await desk.jobs_when(placed.account_id, lambda js: all(j["state"] in FINAL for j in js))
    assert all(j["state"] == "cancelled" for j in collection), collection
    assert [m["subject"] for m in await desk.messages_to(home, notices=True)] == [
        "Important information about your debt"
    ]
    state = await desk.state(placed.account_id)
    assert state["dispute"]["written"] is True


async def test_only_ops_and_compliance_see_the_jobs(desk: Desk, travel: TimeTravel) -> None:
    placed = await desk.place(placement(*await us_daytime(travel)))
    lender = await desk.http.reminders.get(
        f"/v1/accounts/{placed.account_id}/reminders", headers=desk.headers(Role.LENDER)
    )
    assert lender.status_code == 403, lender.text
