"""Small builders for permit requests, account states and ledgers, with a sensible default for each field."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from compliance.domain.model import AccountState, Attempt, Ledger, PermitRequest

ACCOUNT = "acc-1"
BORROWER = "bor-1"
PHONE = "phone-1"

NEW_YORK = ZoneInfo("America/New_York")
LOS_ANGELES = ZoneInfo("America/Los_Angeles")
HONOLULU = ZoneInfo("Pacific/Honolulu")
SHANGHAI = ZoneInfo("Asia/Shanghai")
URUMQI = ZoneInfo("Asia/Urumqi")
LONDON = ZoneInfo("Europe/London")


def local(
    zone: ZoneInfo, year: int, month: int, day: int, hour: int = 0, minute: int = 0, fold: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=zone, fold=fold)


def request(at: datetime, channel: str = "voice_call", **fields: Any) -> PermitRequest:
    values: dict[str, Any] = {
        "account_id": ACCOUNT,
        "borrower_id": BORROWER,
        "channel": channel,
        "recipient": "debtor",
        "at": at,
        "contact_point_id": PHONE,
    }
    values.update(fields)
    return PermitRequest(**values)


def state(jurisdiction: str, zones: list[str] | None = None, **fields: Any) -> AccountState:
    default_zone = {"CN": "Asia/Shanghai", "GB": "Europe/London"}.get(jurisdiction, "America/New_York")
    return AccountState(
        account_id=ACCOUNT,
        borrower_id=BORROWER,
        jurisdiction=jurisdiction,
        timezones=[default_zone] if zones is None else zones,
        **fields,
    )


def attempt(at: datetime, outcome: str = "no_answer", channel: str = "voice_call", **fields: Any) -> Attempt:
    values: dict[str, Any] = {
        "at": at,
        "channel": channel,
        "outcome": outcome,
        "contact_point_id": PHONE,
        "account_id": ACCOUNT,
        "borrower_id": BORROWER,
    }
    values.update(fields)
    return Attempt(**values)


def ledger(*attempts: Attempt) -> Ledger:
    return Ledger(attempts=attempts)


def with_holds(account: AccountState, *holds: str) -> AccountState:
    return replace(account, holds=frozenset(holds))
