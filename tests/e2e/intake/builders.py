"""Lender events as a lender's integration would post them, with fresh ids so runs never collide."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, date, datetime, timedelta
from datetime import timezone as fixed_offset
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from tests.support.zones import BY_ZONE, local_mobile

_CN_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CN_ID_CHECK = "10X98765432"

SPEC_NAME = "张三"
SPEC_PHONE = "+8613800138000"
SPEC_NATIONAL_ID = "11010519491231002X"
SPEC_EMAIL = "zhang.san@example.cn"
SPEC_ADDRESS_LINE = "福田区深南大道1号"


def fresh(prefix: str) -> str:
    """A unique id with a readable prefix."""
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def now_iso(offset_hours: int = 8) -> str:
    """Now, as a lender's clock at that UTC offset would write it (RFC 3339 with offset)."""
    return (
        datetime.now(UTC)
        .astimezone(fixed_offset(timedelta(hours=offset_hours)))
        .isoformat(timespec="seconds")
    )


def past_due_date(days: int = 45, zone: str | None = None) -> str:
    """The due date `days` ago by the calendar in `zone` (where the borrower is, so their DPD is `days`
    whatever the hour: on Niue it is still yesterday for eleven hours of every UTC day)."""
    try:
        clock = ZoneInfo(zone) if zone else UTC
    except (ZoneInfoNotFoundError, ValueError):  # a test's deliberately odd zone name
        clock = UTC
    today = datetime.now(clock).date()
    return (today - timedelta(days=days)).isoformat()


def cn_national_id(birth: date, sequence: str = "002") -> str:
    """A PRC resident id for Beijing Chaoyang with `birth` and a correct check character."""
    return with_check_character(f"110105{birth:%Y%m%d}{sequence}")


def with_check_character(first_17: str) -> str:
    """17 digits of a PRC resident id completed with their GB 11643 (MOD 11-2) check character."""
    total = sum(int(d) * w for d, w in zip(first_17, _CN_ID_WEIGHTS, strict=True))
    return first_17 + _CN_ID_CHECK[total % 11]


_CN_ISSUED: set[str] = set()


def unique_cn_mobile() -> str:
    """A valid China Mobile number nobody else in this test run has."""
    while True:
        number = f"+86139{random.randint(10_000_000, 99_999_999)}"
        if number not in _CN_ISSUED:
            _CN_ISSUED.add(number)
            return number


def staying_in(borrower: dict[str, Any], zone: str) -> dict[str, Any]:
    """The borrower declared in `zone` and reachable only there: every zone must allow a contact, so
    the phones become local numbers of that place and the home address elsewhere is left out."""
    borrower["timezone"] = zone
    if zone in BY_ZONE:
        borrower["phones"] = [{**p, "number": local_mobile(zone)} for p in borrower["phones"]]
        borrower["addresses"] = []
    return borrower


def account_placed(
    *,
    external_account_id: str | None = None,
    event_id: str | None = None,
    amount_due_minor: int = 1_234_500,
    name: str = SPEC_NAME,
    national_id: str | None = SPEC_NATIONAL_ID,
    phone: str = SPEC_PHONE,
    email: str = SPEC_EMAIL,
    address_line: str = SPEC_ADDRESS_LINE,
    third_party_name: str = "李四",
    third_party_phone: str = "+8613900139000",
    external_borrower_id: str | None = None,
    timezone: str | None = "Asia/Shanghai",
) -> dict[str, Any]:
    """The SPEC section 4 example: a CN Huabei placement for 张三 in 深圳."""
    borrower: dict[str, Any] = {
        "external_borrower_id": external_borrower_id or fresh("U"),
        "name": name,
        "national_id": national_id,
        "phones": [{"number": phone, "type": "mobile", "consent_sms": True, "consent_autodialer": False}],
        "emails": [{"address": email, "consent": True}],
        "addresses": [
            {
                "line1": address_line,
                "city": "深圳",
                "region": "广东",
                "country": "CN",
                "postal_code": "518000",
                "lat": 22.5431,
                "lon": 114.0579,
                "type": "home",
            }
        ],
        "language": "zh-CN",
    }
    if timezone is not None:
        borrower["timezone"] = timezone
        if timezone != "Asia/Shanghai":
            staying_in(borrower, timezone)
    if national_id is None:
        del borrower["national_id"]
    return {
        "event_id": event_id or fresh("hb-evt"),
        "type": "account.placed",
        "occurred_at": now_iso(8),
        "account": {
            "external_account_id": external_account_id or fresh("HB"),
            "product": "consumer_installment",
            "currency": "CNY",
            "amount_due_minor": amount_due_minor,
            "principal_minor": 1_000_000,
            "due_date": past_due_date(45, timezone or "Asia/Shanghai"),
            "jurisdiction": "CN",
        },
        "borrower": borrower,
        "third_parties": [
            {"name": third_party_name, "relationship": "emergency_contact", "phone": third_party_phone}
        ],
    }


US_NY_PHONE = "+12125550123"


def us_account_placed(
    *,
    external_account_id: str | None = None,
    event_id: str | None = None,
    jurisdiction: str = "US-NY",
    phone: str = US_NY_PHONE,
    region: str = "HI",
    timezone: str | None = None,
) -> dict[str, Any]:
    """A US placement: a New York number and a Honolulu address, no declared time zone (with one from
    tests.support.zones, a borrower staying there)."""
    borrower: dict[str, Any] = {
        "external_borrower_id": fresh("US-B"),
        "name": "John Smith",
        "phones": [{"number": phone, "type": "mobile", "consent_sms": True}],
        "emails": [{"address": "john.smith@example.com", "consent": True}],
        "addresses": [
            {
                "line1": "2424 Kalakaua Ave",
                "city": "Honolulu",
                "region": region,
                "country": "US",
                "postal_code": "96815",
                "type": "home",
            }
        ],
        "language": "en-US",
    }
    if timezone is not None:
        staying_in(borrower, timezone)
    return {
        "event_id": event_id or fresh("us-evt"),
        "type": "account.placed",
        "occurred_at": now_iso(-5),
        "account": {
            "external_account_id": external_account_id or fresh("US"),
            "product": "credit_card",
            "currency": "USD",
            "amount_due_minor": 250_000,
            "principal_minor": 200_000,
            "due_date": past_due_date(90, timezone),
            "jurisdiction": jurisdiction,
        },
        "borrower": borrower,
    }


def gb_account_placed(*, timezone: str | None = None) -> dict[str, Any]:
    """A GB placement: a London mobile and a London home address (with a zone, a borrower staying there)."""
    borrower: dict[str, Any] = {
        "external_borrower_id": fresh("GB-B"),
        "name": "Jane Doe",
        "phones": [
            {"number": f"+447400{random.randint(100_000, 999_999)}", "type": "mobile", "consent_sms": True}
        ],
        "emails": [{"address": f"{fresh('jane')}@example.co.uk", "consent": True}],
        "addresses": [
            {
                "line1": "1 High Street",
                "city": "London",
                "country": "GB",
                "postal_code": "SW1A 2AA",
                "type": "home",
            }
        ],
        "language": "en-GB",
    }
    if timezone is not None:
        staying_in(borrower, timezone)
    return {
        "event_id": fresh("gb-evt"),
        "type": "account.placed",
        "occurred_at": now_iso(0),
        "account": {
            "external_account_id": fresh("GB"),
            "product": "credit_card",
            "currency": "GBP",
            "amount_due_minor": 120_000,
            "principal_minor": 100_000,
            "due_date": past_due_date(30, timezone),
            "jurisdiction": "GB",
        },
        "borrower": borrower,
    }


def lender_event(type_: str, external_account_id: str, **fields: Any) -> dict[str, Any]:
    """Any other lender event about a placed account, with a fresh event id."""
    return {
        "event_id": fresh("evt"),
        "type": type_,
        "occurred_at": now_iso(8),
        "account": {"external_account_id": external_account_id},
        **fields,
    }
