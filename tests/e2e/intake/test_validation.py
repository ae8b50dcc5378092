"""Every validation rule answers 422 problem+json naming the bad field, and stores nothing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from tests.e2e.intake import builders as b
from tests.e2e.intake.lender import Lender, error_fields

pytestmark = pytest.mark.e2e

Event = dict[str, Any]


def _account(**changes: Any) -> Callable[[Event], None]:
    return lambda event: event["account"].update(changes)


def _borrower(**changes: Any) -> Callable[[Event], None]:
    return lambda event: event["borrower"].update(changes)


def _phone(number: str) -> Callable[[Event], None]:
    return lambda event: event["borrower"]["phones"][0].update(number=number)


def _email(address: str) -> Callable[[Event], None]:
    return lambda event: event["borrower"]["emails"][0].update(address=address)


def _top(**changes: Any) -> Callable[[Event], None]:
    return lambda event: event.update(changes)


def _drop(key: str) -> Callable[[Event], None]:
    return lambda event: event.pop(key)


TOMORROW = (date.today() + timedelta(days=2)).isoformat()
FIFTY_ONE_YEARS_AGO = (date.today() - timedelta(days=51 * 366)).isoformat()
IN_A_DAY = (datetime.now(UTC) + timedelta(days=1)).isoformat()
# A time whose offset takes it before year 1 in UTC, and one after year 9999.
BEFORE_YEAR_ONE = "0001-01-01T00:00:00+23:59"
AFTER_YEAR_9999 = "9999-12-31T23:59:59-23:59"

PLACEMENT_RULES: dict[str, tuple[Callable[[Event], None], str]] = {
    "phone too short for China": (_phone("+86123"), "borrower.phones.0.number"),
    "phone with an unknown country code": (_phone("+999123456789"), "borrower.phones.0.number"),
    "phone that is not a number": (_phone("call me maybe"), "borrower.phones.0.number"),
    "national id with a wrong check character": (
        _borrower(national_id="110105194912310021"),
        "borrower.national_id",
    ),
    "national id born on 31 February": (
        _borrower(national_id=b.with_check_character("11010519490231002")),
        "borrower.national_id",
    ),
    "e-mail without a domain": (_email("zhang.san@"), "borrower.emails.0.address"),
    "e-mail with a space": (_email("zhang san@example.cn"), "borrower.emails.0.address"),
    "e-mail without a dot in the domain": (_email("zhang.san@localhost"), "borrower.emails.0.address"),
    "lower-case currency": (_account(currency="cny"), "account.currency"),
    "unknown currency": (_account(currency="XYZ"), "account.currency"),
    "negative amount": (_account(amount_due_minor=-1), "account.amount_due_minor"),
    "fractional amount": (_account(amount_due_minor=12345.5), "account.amount_due_minor"),
    "amount as a string": (_account(amount_due_minor="1234500"), "account.amount_due_minor"),
    "negative principal": (_account(principal_minor=-100), "account.principal_minor"),
    "due date in the future": (_account(due_date=TOMORROW), "account.due_date"),
    "unknown time zone": (_borrower(timezone="Mars/Olympus_Mons"), "borrower.timezone"),
    "abbreviation for a time zone": (_borrower(timezone="CST"), "borrower.timezone"),
    "jurisdiction US without a state": (_account(jurisdiction="US"), "account.jurisdiction"),
    "jurisdiction UK": (_account(jurisdiction="UK"), "account.jurisdiction"),
    "jurisdiction of no US state": (_account(jurisdiction="US-XX"), "account.jurisdiction"),
    "unknown event type": (_top(type="account.exploded"), "type"),
    "missing event_id": (_drop("event_id"), "event_id"),
    "occurred_at without an offset": (_top(occurred_at="2026-11-29T08:00:00"), "occurred_at"),
    # Dates a lender's feed got wrong: stored, they broke DPD, reports and the consent checks.
    "due date in year 1": (_account(due_date="0001-01-01"), "account.due_date"),
    "due date over 50 years ago": (_account(due_date=FIFTY_ONE_YEARS_AGO), "account.due_date"),
    "occurred_at in year 9999": (_top(occurred_at="9999-12-31T23:59:59+00:00"), "occurred_at"),
    "occurred_at a day ahead": (_top(occurred_at=IN_A_DAY), "occurred_at"),
    "occurred_at before year 1 in UTC": (_top(occurred_at=BEFORE_YEAR_ONE), "occurred_at"),
    "occurred_at after year 9999 in UTC": (_top(occurred_at=AFTER_YEAR_9999), "occurred_at"),
    # PostgreSQL text cannot hold NUL.
    "product with a NUL": (_account(product="consumer\u0000installment"), "account.product"),
    "name with a NUL": (_borrower(name="张\u0000三"), "borrower.name"),
    # A US validation notice itemizes the debt: the parts must add up to what is owed now.
    "itemization that does not add up": (
        _account(
            itemization={
                "date": "2026-09-30",
                "reference": "charge_off",
                "amount_minor": 1_000_000,
                "fees_minor": 1,
            }
        ),
        "account.itemization",
    ),
    "itemization dated in the future": (
        _account(itemization={"date": TOMORROW, "reference": "last_statement", "amount_minor": 1_234_500}),
        "account.itemization.date",
    ),
    "itemization dated in year 1": (
        _account(itemization={"date": "0001-01-01", "reference": "charge_off", "amount_minor": 1_234_500}),
        "account.itemization.date",
    ),
    "itemization of an unknown kind of date": (
        _account(itemization={"date": "2026-09-30", "reference": "birthday", "amount_minor": 1_234_500}),
        "account.itemization.reference",
    ),
}


@pytest.mark.parametrize("rule", list(PLACEMENT_RULES))
async def test_a_bad_placement_field_is_a_422_naming_it_and_nothing_is_stored(
    lender: Lender, rule: str
) -> None:
    breaks, field = PLACEMENT_RULES[rule]
    event = b.account_placed()
    breaks(event)

    response = await lender.post(event)

    assert response.status_code == 422, response.text
    assert response.json()["status"] == 422
    assert field in error_fields(response), response.text
    listed = await lender.accounts(external_account_id=event["account"]["external_account_id"])
    assert listed.json()["items"] == []


async def test_an_itemization_that_adds_up_is_accepted(lender: Lender) -> None:
    event = b.account_placed()
    event["account"]["itemization"] = {
        "date": "2026-09-30",
        "reference": "charge_off",
        "amount_minor": 1_200_000,
        "interest_minor": 40_000,
        "fees_minor": 4_500,
        "payments_minor": 10_000,
    }
    await lender.accept(event)


@pytest.mark.parametrize(
    ("preferences", "field"),
    [
        ({"agreed_hours": {"start": "25:00", "end": "23:00"}}, "preferences.agreed_hours.start"),
        ({"agreed_hours": {"start": "06:00"}}, "preferences.agreed_hours.end"),
        ({"no_work_contact": "yes"}, "preferences.no_work_contact"),
    ],
)
async def test_bad_preferences_are_refused(lender: Lender, preferences: dict[str, Any], field: str) -> None:
    placed = b.account_placed()
    await lender.accept(placed)
    event = b.lender_event(
        "borrower.preferences_changed", placed["account"]["external_account_id"], preferences=preferences
    )
    response = await lender.post(event)
    assert response.status_code == 422, response.text
    assert field in error_fields(response), response.text


async def test_every_bad_field_of_one_event_is_reported_at_once(lender: Lender) -> None:
    event = b.account_placed()
    for breaks, _ in (
        PLACEMENT_RULES["phone too short for China"],
        PLACEMENT_RULES["national id with a wrong check character"],
        PLACEMENT_RULES["e-mail without a domain"],
        PLACEMENT_RULES["lower-case currency"],
        PLACEMENT_RULES["negative amount"],
        PLACEMENT_RULES["due date in the future"],
        PLACEMENT_RULES["unknown time zone"],
        PLACEMENT_RULES["jurisdiction of no US state"],
    ):
        breaks(event)
    event["third_parties"][0]["phone"] = "+86 12"

    response = await lender.post(event)

    assert response.status_code == 422, response.text
    assert error_fields(response) == {
        "borrower.phones.0.number",
        "borrower.national_id",
        "borrower.emails.0.address",
        "account.currency",
        "account.amount_due_minor",
        "account.due_date",
        "borrower.timezone",
        "account.jurisdiction",
        "third_parties.0.phone",
    }


async def test_every_malformed_field_of_one_event_is_reported_at_once(lender: Lender) -> None:
    event = b.account_placed()
    del event["event_id"]
    event["occurred_at"] = "2026-11-29T08:00:00"
    event["account"]["amount_due_minor"] = 1.5
    event["borrower"]["phones"][0]["consent_sms"] = "yes"

    response = await lender.post(event)

    assert response.status_code == 422, response.text
    assert error_fields(response) == {
        "event_id",
        "occurred_at",
        "account.amount_due_minor",
        "borrower.phones.0.consent_sms",
    }


CHANGE_RULES: dict[str, tuple[Event, str]] = {
    "negative payment": ({"payment": {"amount_minor": -5, "paid_at": b.now_iso()}}, "payment.amount_minor"),
    "zero payment": ({"payment": {"amount_minor": 0, "paid_at": b.now_iso()}}, "payment.amount_minor"),
    "fractional payment": (
        {"payment": {"amount_minor": 10.5, "paid_at": b.now_iso()}},
        "payment.amount_minor",
    ),
    "payment time without an offset": (
        {"payment": {"amount_minor": 5, "paid_at": "2026-11-29T08:00:00"}},
        "payment.paid_at",
    ),
    "payment in year 9999": (
        {"payment": {"amount_minor": 5, "paid_at": "9999-01-01T00:00:00Z"}},
        "payment.paid_at",
    ),
    "payment a day ahead": ({"payment": {"amount_minor": 5, "paid_at": IN_A_DAY}}, "payment.paid_at"),
    "payment before year 1 in UTC": (
        {"payment": {"amount_minor": 5, "paid_at": BEFORE_YEAR_ONE}},
        "payment.paid_at",
    ),
    "payment reported a day ahead": (
        {"occurred_at": IN_A_DAY, "payment": {"amount_minor": 5, "paid_at": b.now_iso()}},
        "occurred_at",
    ),
    "payment reference with a NUL": (
        {"payment": {"amount_minor": 5, "paid_at": b.now_iso(), "reference": "R\u00001"}},
        "payment.reference",
    ),
}


@pytest.mark.parametrize("rule", list(CHANGE_RULES))
async def test_a_bad_payment_is_a_422_and_the_balance_stays(lender: Lender, rule: str) -> None:
    placement = b.account_placed()
    ext = placement["account"]["external_account_id"]
    account_id = await lender.accept(placement)
    fields, field = CHANGE_RULES[rule]

    response = await lender.post(b.lender_event("payment.received", ext, **fields))

    assert response.status_code == 422, response.text
    assert field in error_fields(response), response.text
    assert (await lender.account(account_id))["paid_minor"] == 0


@pytest.mark.parametrize(
    "due_date",
    ["0001-01-01", "9999-12-31", FIFTY_ONE_YEARS_AGO, (date.today() + timedelta(days=11 * 366)).isoformat()],
    ids=["year 1", "year 9999", "51 years ago", "11 years ahead"],
)
async def test_a_due_date_moved_out_of_range_is_refused_and_the_account_keeps_its_own(
    lender: Lender, due_date: str
) -> None:
    placement = b.account_placed()
    account_id = await lender.accept(placement)
    before = await lender.account(account_id)

    response = await lender.post(
        b.lender_event(
            "account.updated",
            placement["account"]["external_account_id"],
            account={
                "external_account_id": placement["account"]["external_account_id"],
                "due_date": due_date,
            },
        )
    )

    assert response.status_code == 422, response.text
    assert error_fields(response) == {"account.due_date"}
    after = await lender.account(account_id)
    assert (after["due_date"], after["dpd"]) == (before["due_date"], before["dpd"])


async def test_a_due_date_rescheduled_within_ten_years_is_accepted(lender: Lender) -> None:
    placement = b.account_placed()
    account_id = await lender.accept(placement)
    later = (date.today() + timedelta(days=9 * 365)).isoformat()
    ext = placement["account"]["external_account_id"]

    await lender.accept(
        b.lender_event("account.updated", ext, account={"external_account_id": ext, "due_date": later})
    )

    assert (await lender.account(account_id))["due_date"] == later


@pytest.mark.parametrize(
    ("type_", "fields", "field"),
    [
        ("dispute.opened", {"dispute": {"received_at": IN_A_DAY, "written": True}}, "dispute.received_at"),
        (
            "dispute.opened",
            {"dispute": {"received_at": b.now_iso(), "written": True, "reason": "never\u0000borrowed"}},
            "dispute.reason",
        ),
        (
            "borrower.cease_requested",
            {"cease": {"received_at": AFTER_YEAR_9999, "written": True}},
            "cease.received_at",
        ),
        ("account.recalled", {"reason": "portfolio\u0000sold"}, "reason"),
        (
            "account.recalled",
            {"reason": "portfolio sold", "occurred_at": "9999-12-31T00:00:00Z"},
            "occurred_at",
        ),
    ],
    ids=[
        "dispute received tomorrow",
        "dispute reason with a NUL",
        "cease after year 9999",
        "recall reason with a NUL",
        "recall in year 9999",
    ],
)
async def test_a_bad_time_or_text_in_a_change_is_refused_and_the_account_stays_as_it_was(
    lender: Lender, type_: str, fields: Event, field: str
) -> None:
    placement = b.account_placed()
    account_id = await lender.accept(placement)

    response = await lender.post(b.lender_event(type_, placement["account"]["external_account_id"], **fields))

    assert response.status_code == 422, response.text
    assert error_fields(response) == {field}
    account = await lender.account(account_id)
    assert (account["status"], account["holds"]) == ("open", [])


async def test_changes_for_an_account_never_placed_are_rejected_naming_the_account(lender: Lender) -> None:
    event = b.lender_event("account.recalled", b.fresh("HB-never"), reason="gone")

    response = await lender.post(event)

    assert response.status_code == 422, response.text
    assert error_fields(response) == {"account.external_account_id"}


async def test_a_missing_time_zone_is_derived_from_every_phone_and_address(lender: Lender) -> None:
    event = b.us_account_placed(jurisdiction="US-NY", phone=b.US_NY_PHONE, region="HI")
    assert "timezone" not in event["borrower"]

    account = await lender.account(await lender.accept(event))

    assert account["jurisdiction"] == "US-NY"
    assert set(account["borrower"]["timezones"]) == {"America/New_York", "Pacific/Honolulu"}


async def test_a_declared_time_zone_is_one_candidate_beside_the_address_and_phone_zones(
    lender: Lender,
) -> None:
    event = b.us_account_placed(timezone="america/chicago")

    account = await lender.account(await lender.accept(event))

    # 12 CFR 1006.6(b)(1)(i): contact must suit every zone the collector knows of, not just the declared.
    assert account["borrower"]["timezones"] == ["America/Chicago", "America/New_York", "Pacific/Honolulu"]
    assert account["borrower"]["zones"] == [
        {"zone": "America/Chicago", "sources": ["declared"]},
        {"zone": "America/New_York", "sources": ["phone"]},
        {"zone": "Pacific/Honolulu", "sources": ["address"]},
    ]
