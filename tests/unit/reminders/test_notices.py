"""The validation notice: the period it states, whether a job may go ahead, and what the form says."""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace
from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

import common.contracts.intake as c
from common.crypto import FieldCipher, Keyring
from reminders.domain.jobs import AccountView, stop_reason
from reminders.domain.notices import assumed_receipt, is_business_day, validation_period_end
from reminders.notices import mailing_address, notice_language, render_validation_notice
from reminders.settings import RemindersSettings

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("sent", "receipt", "ends"),
    [
        # Tuesday: five business days is the next Tuesday; the period ends 30 days after.
        (date(2026, 6, 2), date(2026, 6, 9), date(2026, 7, 9)),
        # Friday: the weekend does not count.
        (date(2026, 6, 5), date(2026, 6, 12), date(2026, 7, 12)),
        # Juneteenth (Fri 19 June 2026) is a legal public holiday.
        (date(2026, 6, 15), date(2026, 6, 23), date(2026, 7, 23)),
        # Thanksgiving, and Christmas observed on a Friday.
        (date(2026, 11, 23), date(2026, 12, 1), date(2026, 12, 31)),
        (date(2026, 12, 21), date(2026, 12, 29), date(2027, 1, 28)),
        # Sent on a Sunday: counting starts Monday.
        (date(2026, 6, 7), date(2026, 6, 12), date(2026, 7, 12)),
    ],
)
def test_the_validation_period(sent: date, receipt: date, ends: date) -> None:
    assert (assumed_receipt(sent), validation_period_end(sent)) == (receipt, ends)


@given(st.dates(min_value=date(2024, 1, 1), max_value=date(2030, 12, 31)))
def test_the_period_is_never_shorter_than_the_law_gives(sent: date) -> None:
    receipt = assumed_receipt(sent)
    business = [
        d
        for d in (date.fromordinal(n) for n in range(sent.toordinal() + 1, receipt.toordinal() + 1))
        if is_business_day(d)
    ]
    assert len(business) == 5 and is_business_day(receipt)
    assert (validation_period_end(sent) - receipt).days == 30


def view(*holds: str, jurisdiction: str = "US-NY") -> AccountView:
    return AccountView(
        status="open",
        holds=frozenset(holds),
        opted_out=frozenset(),
        balance_minor=100,
        jurisdiction=jurisdiction,
    )


@pytest.mark.parametrize(
    ("holds", "jurisdiction", "purpose", "stopped"),
    [
        (("dispute",), "US-NY", "validation_notice", False),  # the notice says how to dispute
        (("dispute",), "US-NY", "collection", True),
        (("cease_communication",), "US-NY", "validation_notice", True),
        (("vulnerable",), "GB", "collection", True),  # paused for review
        (("vulnerable",), "CN", "collection", False),
        (("vulnerable",), "US-NY", "collection", False),
    ],
)
def test_what_stops_a_job(holds: tuple[str, ...], jurisdiction: str, purpose: str, stopped: bool) -> None:
    reason = stop_reason(view(*holds, jurisdiction=jurisdiction), "email", purpose)
    assert (reason is not None) is stopped, reason


@pytest.fixture(scope="module")
def cipher(tmp_path_factory: pytest.TempPathFactory) -> FieldCipher:
    from common.crypto import generate_keyring_file

    path = tmp_path_factory.mktemp("keys") / "field_keys.json"
    generate_keyring_file(path)
    return FieldCipher(Keyring.load(path))


def account(cipher: FieldCipher, **changes: Any) -> SimpleNamespace:
    address = {"line1": "100 Main Street", "city": "New York", "postal_code": "10001"}
    values: dict[str, Any] = {
        "account_id": "0a1b2c3d-0000-0000-0000-000000000000",
        "tenant": "acme-bank",
        "external_account_id": "CARD-55551234",
        "product": "credit card",
        "currency": "USD",
        "amount_due_minor": 250_000,
        "paid_minor": 0,
        "due_date": date(2026, 9, 1),
        "itemization": None,
        "language": "en-US",
        "contacts": {
            "name": cipher.encrypt("John Smith", context=c.CTX_NAME),
            "addresses": [
                {
                    "id": "addr-1",
                    "sealed": cipher.encrypt(orjson.dumps(address).decode(), context=c.CTX_ADDRESS),
                    "country": "US",
                    "region": "NY",
                    "type": "home",
                }
            ],
        },
    }
    values.update(changes)
    return SimpleNamespace(**values)


def test_the_notice_fills_the_model_form_from_the_account(cipher: FieldCipher) -> None:
    itemization = {
        "date": "2026-08-31",
        "reference": "charge_off",
        "amount_minor": 240_000,
        "interest_minor": 8_000,
        "fees_minor": 4_000,
        "payments_minor": 2_000,
        "credits_minor": 0,
    }
    notice = render_validation_notice(
        account(cipher, itemization=itemization, paid_minor=0),
        cipher=cipher,
        settings=RemindersSettings(environment="dev"),
        sent_on=date(2026, 6, 2),
        address_id=None,
    )
    body = notice.body
    assert notice.validation_period_ends == date(2026, 7, 9)
    for text in (
        "Example Collections is a debt collector.",
        "We are trying to collect a debt that you owe to acme-bank.",
        "You had a credit card from acme-bank with account number ending in 1234.",
        "As of August 31, 2026 (the charge-off date), you owed:",
        "$2,400.00",
        "+ $80.00",
        "+ $40.00",
        "- $20.00",
        "Total amount of the debt now:",
        "$2,500.00",
        "Call or write to us by July 9, 2026, to dispute all or part of the debt.",
        "John Smith, 100 Main Street, New York, NY 10001, US",
        "www.cfpb.gov/debt-collection",
        "[ ] This is not my debt.",
    ):
        assert text in body, text
    assert "CARD-55551234" not in body  # the account number is truncated


def test_spanish_where_the_borrower_prefers_it_english_otherwise(cipher: FieldCipher) -> None:
    spanish = render_validation_notice(
        account(cipher, language="es-MX"),
        cipher=cipher,
        settings=RemindersSettings(environment="dev"),
        sent_on=date(2026, 6, 2),
        address_id=None,
    )
    assert spanish.language == "es" and spanish.subject == "Información importante sobre su deuda"
    assert "a más tardar el 9 de julio de 2026" in spanish.body
    assert (notice_language("zh-CN"), notice_language(None), notice_language("ES")) == ("en", "en", "es")


def test_without_an_itemization_the_notice_itemizes_from_the_due_date(cipher: FieldCipher) -> None:
    notice = render_validation_notice(
        account(cipher, paid_minor=50_000),
        cipher=cipher,
        settings=RemindersSettings(environment="dev"),
        sent_on=date(2026, 6, 2),
        address_id=None,
    )
    assert "As of September 1, 2026 (the last statement date), you owed:" in notice.body
    assert "- $500.00" in notice.body  # paid since
    assert "$2,000.00" in notice.body


def test_the_mailing_address_is_the_named_one_else_home(cipher: FieldCipher) -> None:
    contacts = account(cipher).contacts
    assert mailing_address(cipher, contacts) == "100 Main Street, New York, NY 10001, US"
    assert mailing_address(cipher, contacts, "addr-1") == mailing_address(cipher, contacts)
    assert mailing_address(cipher, {"addresses": []}) is None
