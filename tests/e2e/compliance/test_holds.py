"""Holds a lender sets through intake reach compliance and decide the very next permit."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.e2e.compliance.desk import Desk, next_local, rules_of
from tests.e2e.intake import builders as b

pytestmark = pytest.mark.e2e


def allowed(decision: dict[str, Any]) -> bool:
    return bool(decision["outcome"] == "allow")


def denied_by(*rules: str) -> Callable[[dict[str, Any]], bool]:
    return lambda decision: decision["outcome"] == "deny" and rules_of(decision) == set(rules)


async def test_a_dispute_pauses_contact_until_resolved_death_stops_it_and_a_clearing_payment_closes(
    desk: Desk,
) -> None:
    placement = b.account_placed(timezone="Asia/Shanghai")
    ext = placement["account"]["external_account_id"]
    placed = await desk.place(placement)
    morning = {"channel": "voice_call", "at": next_local("Asia/Shanghai", 10)}

    first = await desk.evaluate(placed.account_id, **morning)
    assert first["outcome"] == "allow", first
    assert first["reasons"] == []
    assert first["policy"].startswith("CN@")
    assert first["expires_at"] is not None

    opened = {"received_at": b.now_iso(), "written": True, "reason": "not my debt"}
    await desk.lender.accept(b.lender_event("dispute.opened", ext, dispute=opened))
    held = await desk.verdict_settles(placed.account_id, denied_by("CN.dispute_hold"), **morning)
    assert (held["not_before"], held["expires_at"]) == (None, None)
    assert "dispute" in (await desk.state(placed.account_id))["holds"]

    await desk.lender.accept(b.lender_event("dispute.resolved", ext, dispute={"resolution": "verified"}))
    await desk.verdict_settles(placed.account_id, allowed, **morning)
    assert (await desk.state(placed.account_id))["holds"] == []

    await desk.lender.accept(b.lender_event("borrower.flagged", ext, flag="deceased", set=True))
    dead = await desk.verdict_settles(placed.account_id, denied_by("CN.deceased"), **morning)
    assert "deceased" in dead["reasons"][0]["message"]
    await desk.lender.accept(b.lender_event("borrower.flagged", ext, flag="deceased", set=False))
    await desk.verdict_settles(placed.account_id, allowed, **morning)

    payment = {
        "amount_minor": placement["account"]["amount_due_minor"],
        "paid_at": b.now_iso(),
        "reference": "r-1",
    }
    await desk.lender.accept(b.lender_event("payment.received", ext, payment=payment))
    await desk.verdict_settles(placed.account_id, denied_by("CN.closed"), **morning)
    assert (await desk.state(placed.account_id))["holds"] == ["closed"]
    # A closed account stays closed for every channel, SMS and letters included.
    for channel in ("sms", "letter", "email"):
        closed = await desk.evaluate(placed.account_id, channel=channel, at=morning["at"])
        assert closed["outcome"] == "deny", (channel, closed)
        assert "CN.closed" in rules_of(closed), (channel, closed)


async def test_a_cease_request_leaves_only_the_three_notices_the_law_allows(desk: Desk) -> None:
    placed = await desk.place(b.us_account_placed(timezone="America/New_York"))
    # The borrower may be in New York (declared, phone) or Honolulu (address): 15:00 suits both.
    noon = next_local("America/New_York", 15)

    assert (await desk.evaluate(placed.account_id, channel="voice_call", at=noon))["outcome"] == "allow"
    cease = {"received_at": b.now_iso(-5), "written": True}
    await desk.lender.accept(
        b.lender_event("borrower.cease_requested", placed.external_account_id, cease=cease)
    )

    stopped = await desk.verdict_settles(
        placed.account_id, denied_by("US.cease_communication"), channel="voice_call", at=noon
    )
    assert stopped["policy"].startswith("US@")
    assert (await desk.evaluate(placed.account_id, channel="email", at=noon))["outcome"] == "deny"
    # 15 U.S.C. 1692c(c): efforts terminated, a remedy may be invoked, a remedy will be; in writing.
    for purpose in ("notice_efforts_terminated", "notice_may_invoke_remedy", "notice_will_invoke_remedy"):
        allowed = await desk.evaluate(placed.account_id, channel="letter", purpose=purpose, at=noon)
        assert allowed["outcome"] == "allow", (purpose, allowed)
        by_phone = await desk.evaluate(placed.account_id, channel="voice_call", purpose=purpose, at=noon)
        assert by_phone["outcome"] == "deny", (purpose, by_phone)
    # Not the validation notice: a cease request ends that too.
    notice = await desk.evaluate(placed.account_id, channel="letter", purpose="validation_notice", at=noon)
    assert (notice["outcome"], rules_of(notice)) == ("deny", {"US.cease_communication"}), notice
    assert "cease_communication" in (await desk.state(placed.account_id))["holds"]
