"""Placements for the reminders story, and the borrower time zones that make contact allowed (or
not) right now: compliance reads the borrower's local clock, and the running services have no
injectable clock."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import phonenumbers

from tests.e2e.intake import builders as b
from tests.support.zones import place_at

# Local hours well inside every pack's contact window (CN 08-22, US and GB 08-21).
DAYTIME = range(9, 20)
# Local hours of deep night: quiet hours everywhere, hours away from the morning opening.
NIGHT = range(0, 5)

# A realistic home zone per jurisdiction; between them one always reads daytime.
HOME_ZONES: tuple[tuple[str, str], ...] = (
    ("US-NY", "America/New_York"),
    ("US-CA", "America/Los_Angeles"),
    ("GB", "Europe/London"),
    ("CN", "Asia/Shanghai"),
)
US_ZONES: tuple[tuple[str, str], ...] = (
    ("US-NY", "America/New_York"),
    ("US-IL", "America/Chicago"),
    ("US-CO", "America/Denver"),
    ("US-CA", "America/Los_Angeles"),
    ("US-AK", "America/Anchorage"),
    ("US-HI", "Pacific/Honolulu"),
)
_US_STATES: dict[str, tuple[str, str, str]] = {
    # state: (area code, city, postal code)
    "NY": ("212", "New York", "10001"),
    "IL": ("312", "Chicago", "60601"),
    "CO": ("303", "Denver", "80202"),
    "CA": ("213", "Los Angeles", "90012"),
    "AK": ("907", "Anchorage", "99501"),
    "HI": ("808", "Honolulu", "96815"),
}


def local_hour(zone: str, now: datetime | None = None) -> int:
    return (now or datetime.now(UTC)).astimezone(ZoneInfo(zone)).hour


def daytime_home(now: datetime | None = None) -> tuple[str, str]:
    """The first (jurisdiction, zone) of HOME_ZONES where it is daytime now (US first)."""
    for jurisdiction, zone in HOME_ZONES:
        if local_hour(zone, now) in DAYTIME:
            return jurisdiction, zone
    raise AssertionError(f"no home zone reads daytime at {now}")


def steady_zone(hours: range, now: datetime | None = None) -> str:
    """A zone without daylight saving whose clock reads one of `hours` now (one always does for a
    window of four hours or more), where the borrower has a local mobile."""
    return place_at(hours, now).zone


def _unique(make: Any) -> str:
    while True:
        number = make()
        parsed = phonenumbers.parse(number, None)
        if phonenumbers.is_valid_number(parsed):
            return str(number)


def unique_phone(jurisdiction: str) -> str:
    """A valid mobile (or fixed-line-or-mobile) number of the jurisdiction no other test uses."""
    country, _, state = jurisdiction.partition("-")
    if country == "CN":
        return b.unique_cn_mobile()
    if country == "GB":
        return _unique(lambda: f"+447400{random.randint(100_000, 999_999)}")
    area = _US_STATES[state][0]
    return _unique(lambda: f"+1{area}{random.randint(200, 999)}{random.randint(0, 9999):04d}")


@dataclass(frozen=True)
class Placement:
    """An account.placed event as the lender posts it, and what the tests look it up by."""

    event: dict[str, Any]
    jurisdiction: str
    zone: str
    phone: str
    email: str

    @property
    def external_account_id(self) -> str:
        return str(self.event["account"]["external_account_id"])

    @property
    def amount_due_minor(self) -> int:
        return int(self.event["account"]["amount_due_minor"])

    @property
    def country(self) -> str:
        return self.jurisdiction.partition("-")[0]


def placement(jurisdiction: str, zone: str, *, overdue_days: int = 1) -> Placement:
    """A placement in `jurisdiction` for a borrower in `zone`, with SMS consent on a mobile, a
    consented e-mail and numbers no other test uses. One day overdue: only the first reminder is due."""
    phone, email = unique_phone(jurisdiction), f"{b.fresh('borrower')}@example.com"
    country, _, state = jurisdiction.partition("-")
    if country == "CN":
        event = b.account_placed(
            phone=phone, email=email, timezone=zone, third_party_phone=b.unique_cn_mobile()
        )
        phone = event["borrower"]["phones"][0]["number"]  # a local number where the borrower stays
    elif country == "US":
        event = _us(jurisdiction, state, phone, email, zone)
    else:
        event = _gb(phone, email, zone)
    due = datetime.now(ZoneInfo(zone)).date() - timedelta(days=overdue_days)  # by their calendar
    event["account"]["due_date"] = due.isoformat()
    return Placement(event=event, jurisdiction=jurisdiction, zone=zone, phone=phone, email=email)


def _us(jurisdiction: str, state: str, phone: str, email: str, zone: str) -> dict[str, Any]:
    _, city, postal_code = _US_STATES[state]
    return {
        "event_id": b.fresh("us-evt"),
        "type": "account.placed",
        "occurred_at": b.now_iso(-5),
        "account": {
            "external_account_id": b.fresh("US"),
            "product": "credit_card",
            "currency": "USD",
            "amount_due_minor": 250_000,
            "principal_minor": 200_000,
            "due_date": date.today().isoformat(),
            "jurisdiction": jurisdiction,
        },
        "borrower": {
            "external_borrower_id": b.fresh("US-B"),
            "name": "John Smith",
            "phones": [{"number": phone, "type": "mobile", "consent_sms": True}],
            "emails": [{"address": email, "consent": True}],
            "addresses": [
                {
                    "line1": "100 Main Street",
                    "city": city,
                    "region": state,
                    "country": "US",
                    "postal_code": postal_code,
                    "type": "home",
                }
            ],
            "timezone": zone,
            "language": "en-US",
        },
    }


def _gb(phone: str, email: str, zone: str) -> dict[str, Any]:
    return {
        "event_id": b.fresh("gb-evt"),
        "type": "account.placed",
        "occurred_at": b.now_iso(0),
        "account": {
            "external_account_id": b.fresh("GB"),
            "product": "credit_card",
            "currency": "GBP",
            "amount_due_minor": 120_000,
            "principal_minor": 100_000,
            "due_date": date.today().isoformat(),
            "jurisdiction": "GB",
        },
        "borrower": {
            "external_borrower_id": b.fresh("GB-B"),
            "name": "Jane Doe",
            "phones": [{"number": phone, "type": "mobile", "consent_sms": True}],
            "emails": [{"address": email, "consent": True}],
            "addresses": [
                {
                    "line1": "1 High Street",
                    "city": "London",
                    "country": "GB",
                    "postal_code": "SW1A 2AA",
                    "type": "home",
                }
            ],
            "timezone": zone,
            "language": "en-GB",
        },
    }


def assert_disclosures(body: str, country: str) -> None:
    """The first SMS says who sends it and how to opt out, as the jurisdiction requires."""
    if country == "CN":
        assert body.startswith("【"), body
        assert "】" in body[:32], body
        assert "退订" in body, body
    elif country == "US":
        assert "debt collector" in body, body
        assert "STOP" in body, body
    else:
        assert "Reply STOP" in body, body
