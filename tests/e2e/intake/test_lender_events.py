"""Every lender event type of SPEC section 4: accepted, visible on the account, published on intake.v1."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from common.testing.stack import Stack
from tests.e2e.intake import builders as b
from tests.e2e.intake.lender import Lender, Published, assert_envelopes, published

pytestmark = pytest.mark.e2e

FLAG_HOLDS = {
    "deceased": "deceased",
    "bankrupt": "bankruptcy",
    "vulnerable": "vulnerable",
    "do_not_visit": "do_not_visit",
}


def dpd_in(zone: str, due_date: str) -> int:
    today = datetime.now(UTC).astimezone(ZoneInfo(zone)).date()
    return max(0, (today - date.fromisoformat(due_date)).days)


def types(events: list[Published]) -> list[str]:
    return [e.type for e in events]


async def test_a_placement_is_stored_masked_and_published_keyed_by_borrower(
    stack: Stack, lender: Lender
) -> None:
    event = b.account_placed()
    account_id = await lender.accept(event)

    account = await lender.account(account_id)
    assert account["external_account_id"] == event["account"]["external_account_id"]
    assert (account["status"], account["closed_reason"]) == ("open", None)
    assert (account["amount_due_minor"], account["paid_minor"], account["balance_minor"]) == (
        1_234_500,
        0,
        1_234_500,
    )
    assert (account["currency"], account["jurisdiction"], account["principal_minor"]) == (
        "CNY",
        "CN",
        1_000_000,
    )
    assert account["due_date"] == event["account"]["due_date"]
    assert account["dpd"] == dpd_in("Asia/Shanghai", event["account"]["due_date"]) >= 44
    assert account["holds"] == []
    borrower = account["borrower"]
    assert borrower["timezones"] == ["Asia/Shanghai"]
    assert borrower["external_borrower_id"] == event["borrower"]["external_borrower_id"]
    assert borrower["name"] == "张*"
    assert [p["number"] for p in borrower["phones"]] == ["+86 138****8000"]

    (placed,) = await published(stack, account_id, count=1)
    assert placed.type == "account.placed"
    assert_envelopes(
        [placed], tenant=lender.tenant, account_id=account_id, borrower_id=borrower["borrower_id"]
    )
    assert placed.payload["lender_event_id"] == event["event_id"]
    assert placed.payload["account"]["external_account_id"] == event["account"]["external_account_id"]
    assert placed.payload["account"]["amount_due_minor"] == 1_234_500
    assert placed.payload["borrower"]["timezones"] == ["Asia/Shanghai"]
    assert placed.payload["borrower"]["name"].startswith("enc:v1:")
    assert placed.payload["borrower"]["phones"][0]["number"].startswith("enc:v1:")
    assert placed.payload["borrower"]["phones"][0]["id"] == borrower["phones"][0]["id"]


async def test_updates_and_payments_change_the_balance_and_a_clearing_payment_closes_the_account(
    stack: Stack, lender: Lender
) -> None:
    placement = b.account_placed(amount_due_minor=1_234_500)
    ext = placement["account"]["external_account_id"]
    account_id = await lender.accept(placement)

    new_due = (date.today() - timedelta(days=10)).isoformat()
    change = {"external_account_id": ext, "amount_due_minor": 1_000_000, "due_date": new_due}
    await lender.accept(b.lender_event("account.updated", ext, account=change))
    account = await lender.account(account_id)
    assert (account["amount_due_minor"], account["balance_minor"], account["due_date"]) == (
        1_000_000,
        1_000_000,
        new_due,
    )
    assert account["dpd"] == dpd_in("Asia/Shanghai", new_due)

    await lender.accept(_payment(ext, 400_000, "pay-1"))
    account = await lender.account(account_id)
    assert (account["paid_minor"], account["balance_minor"], account["status"]) == (400_000, 600_000, "open")

    await lender.accept(_payment(ext, 600_000, "pay-2"))
    account = await lender.account(account_id)
    assert (account["paid_minor"], account["balance_minor"]) == (1_000_000, 0)
    assert (account["status"], account["closed_reason"], account["dpd"]) == ("closed", "paid", 0)

    events = await published(stack, account_id, count=5)
    assert types(events) == [
        "account.placed",
        "account.updated",
        "payment.received",
        "payment.received",
        "account.closed",
    ]
    assert_envelopes(
        events, tenant=lender.tenant, account_id=account_id, borrower_id=account["borrower"]["borrower_id"]
    )
    updated, first, second, closed = events[1:]
    assert (updated.payload["amount_due_minor"], updated.payload["due_date"]) == (1_000_000, new_due)
    assert (first.payload["amount_minor"], first.payload["balance_minor"], first.payload["currency"]) == (
        400_000,
        600_000,
        "CNY",
    )
    assert (second.payload["amount_minor"], second.payload["balance_minor"]) == (600_000, 0)
    assert closed.payload["reason"] == "paid"


def _payment(ext: str, amount: int, reference: str) -> dict[str, object]:
    return b.lender_event(
        "payment.received",
        ext,
        payment={"amount_minor": amount, "paid_at": b.now_iso(), "reference": reference},
    )


async def test_a_recall_closes_the_account(stack: Stack, lender: Lender) -> None:
    placement = b.account_placed()
    ext = placement["account"]["external_account_id"]
    account_id = await lender.accept(placement)

    await lender.accept(b.lender_event("account.recalled", ext, reason="lender takes the account back"))

    account = await lender.account(account_id)
    assert (account["status"], account["closed_reason"], account["dpd"]) == ("closed", "recalled", 0)
    assert account["balance_minor"] == 1_234_500
    events = await published(stack, account_id, count=2)
    assert types(events) == ["account.placed", "account.closed"]
    assert events[1].payload["reason"] == "recalled"
    assert_envelopes(
        events, tenant=lender.tenant, account_id=account_id, borrower_id=account["borrower"]["borrower_id"]
    )


async def test_a_dispute_holds_the_account_until_resolved_and_an_upheld_one_writes_it_off(
    stack: Stack, lender: Lender
) -> None:
    placement = b.account_placed()
    ext = placement["account"]["external_account_id"]
    account_id = await lender.accept(placement)
    opened = {"received_at": b.now_iso(), "written": True, "reason": "not my debt"}

    await lender.accept(b.lender_event("dispute.opened", ext, dispute=opened))
    assert (await lender.account(account_id))["holds"] == ["dispute"]
    await lender.accept(b.lender_event("dispute.resolved", ext, dispute={"resolution": "verified"}))
    account = await lender.account(account_id)
    assert (account["holds"], account["status"]) == ([], "open")

    await lender.accept(b.lender_event("dispute.opened", ext, dispute={**opened, "written": False}))
    assert (await lender.account(account_id))["holds"] == ["dispute"]
    await lender.accept(b.lender_event("dispute.resolved", ext, dispute={"resolution": "upheld"}))
    account = await lender.account(account_id)
    assert (account["holds"], account["status"], account["closed_reason"]) == ([], "closed", "written_off")

    events = await published(stack, account_id, count=6)
    assert types(events) == [
        "account.placed",
        "dispute.opened",
        "dispute.resolved",
        "dispute.opened",
        "dispute.resolved",
        "account.closed",
    ]
    assert_envelopes(
        events, tenant=lender.tenant, account_id=account_id, borrower_id=account["borrower"]["borrower_id"]
    )
    assert events[1].payload["written"] is True
    assert events[3].payload["written"] is False
    assert events[1].payload["reason"].startswith("enc:v1:")
    assert [events[2].payload["resolution"], events[4].payload["resolution"]] == ["verified", "upheld"]
    assert events[5].payload["reason"] == "written_off"


async def test_cease_attorney_and_every_flag_set_and_cleared_move_the_borrower_holds(
    stack: Stack, lender: Lender
) -> None:
    placement = b.account_placed()
    ext = placement["account"]["external_account_id"]
    account_id = await lender.accept(placement)

    received_at = b.now_iso()
    cease_request = {"received_at": received_at, "written": True}
    await lender.accept(b.lender_event("borrower.cease_requested", ext, cease=cease_request))
    assert (await lender.account(account_id))["holds"] == ["cease_communication"]
    attorney = {"name": "王律师", "phone": "+8601012345678", "email": "lawyer@example.cn"}
    await lender.accept(b.lender_event("borrower.attorney_retained", ext, attorney=attorney))
    assert (await lender.account(account_id))["holds"] == ["attorney", "cease_communication"]
    for flag, hold in FLAG_HOLDS.items():
        await lender.accept(b.lender_event("borrower.flagged", ext, flag=flag, set=True))
        assert hold in (await lender.account(account_id))["holds"], flag
        await lender.accept(b.lender_event("borrower.flagged", ext, flag=flag, set=False))
        assert hold not in (await lender.account(account_id))["holds"], flag
    account = await lender.account(account_id)
    assert account["holds"] == ["attorney", "cease_communication"]

    events = await published(stack, account_id, count=3 + 2 * len(FLAG_HOLDS))
    assert_envelopes(
        events, tenant=lender.tenant, account_id=account_id, borrower_id=account["borrower"]["borrower_id"]
    )
    expected = [("account.placed", None), ("hold.set", "cease_communication"), ("hold.set", "attorney")]
    for hold in FLAG_HOLDS.values():
        expected += [("hold.set", hold), ("hold.cleared", hold)]
    assert [(e.type, e.payload.get("hold")) for e in events] == expected
    cease, lawyer = events[1].payload, events[2].payload
    assert cease["written"] is True
    assert datetime.fromisoformat(cease["received_at"]) == datetime.fromisoformat(received_at)
    assert lawyer["details"].startswith("enc:v1:")


async def test_a_flag_on_the_borrower_holds_every_account_of_that_borrower(lender: Lender) -> None:
    borrower_id = b.fresh("U")
    first = b.account_placed(external_borrower_id=borrower_id)
    second = b.account_placed(external_borrower_id=borrower_id)
    first_id, second_id = await lender.accept(first), await lender.accept(second)

    ext = first["account"]["external_account_id"]
    await lender.accept(b.lender_event("borrower.flagged", ext, flag="bankrupt", set=True))

    one, other = await lender.account(first_id), await lender.account(second_id)
    assert one["borrower"]["borrower_id"] == other["borrower"]["borrower_id"]
    assert one["holds"] == other["holds"] == ["bankruptcy"]


async def test_contact_and_preference_changes_show_masked_and_rederive_time_zones(
    stack: Stack, lender: Lender
) -> None:
    placement = b.account_placed()
    ext = placement["account"]["external_account_id"]
    account_id = await lender.accept(placement)

    contacts = {
        "phones": [{"number": b.US_NY_PHONE, "type": "mobile", "consent_sms": True}],
        "emails": [{"address": "san.zhang@example.com", "consent": True}],
        "addresses": [{"line1": "2424 Kalakaua Ave", "city": "Honolulu", "region": "HI", "country": "US"}],
    }
    await lender.accept(b.lender_event("borrower.contact_changed", ext, borrower=contacts))
    borrower = (await lender.account(account_id))["borrower"]
    assert [p["number"] for p in borrower["phones"]] == ["+1 212***0123"]
    assert [e["address"] for e in borrower["emails"]] == ["s*******@example.com"]
    assert [(a["line1"], a["region"], a["country"]) for a in borrower["addresses"]] == [("24***", "HI", "US")]
    # The zone the lender declared at placement still counts, beside those of the new contacts.
    assert borrower["timezones"] == ["America/New_York", "Asia/Shanghai", "Pacific/Honolulu"]
    assert borrower["zones"] == [
        {"zone": "America/New_York", "sources": ["phone"]},
        {"zone": "Asia/Shanghai", "sources": ["declared"]},
        {"zone": "Pacific/Honolulu", "sources": ["address"]},
    ]

    preferences = {
        "inconvenient": [{"days": ["sun", "sat"], "start": "00:00", "end": "10:00"}],
        "language": "en-US",
        "channels": ["sms", "email"],
    }
    await lender.accept(b.lender_event("borrower.preferences_changed", ext, preferences=preferences))
    assert (await lender.account(account_id))["borrower"]["language"] == "en-US"

    events = await published(stack, account_id, count=3)
    assert types(events) == ["account.placed", "borrower.contact_changed", "borrower.preferences_changed"]
    assert_envelopes(events, tenant=lender.tenant, account_id=account_id, borrower_id=borrower["borrower_id"])
    changed, prefs = events[1].payload, events[2].payload
    assert changed["timezones"] == ["America/New_York", "Asia/Shanghai", "Pacific/Honolulu"]
    assert changed["zone_sources"] == {
        "America/New_York": ["phone"],
        "Asia/Shanghai": ["declared"],
        "Pacific/Honolulu": ["address"],
    }
    # Every event carries its number in the borrower's sequence.
    assert [e.payload["seq"] for e in events] == [1, 2, 3]
    assert [p["id"] for p in changed["phones"]] == [p["id"] for p in borrower["phones"]]
    assert changed["phones"][0]["number"].startswith("enc:v1:")
    assert changed["emails"][0]["address"].startswith("enc:v1:")
    assert prefs["inconvenient"] == [{"days": ["sat", "sun"], "start": "00:00", "end": "10:00"}]
    assert (prefs["language"], prefs["channels"]) == ("en-US", ["sms", "email"])
