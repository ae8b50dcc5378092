"""The Regulation F validation notice (12 CFR 1006.34(c), Model Form B-1), rendered from the account.

English, and Spanish where the borrower prefers it (the CFPB publishes the model form in both); any
other language gets the English form, which offers a Spanish copy. The notice goes by e-mail where the
borrower consented to electronic delivery (12 CFR 1006.42) and otherwise by letter.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any, Final

import orjson
from jinja2 import Environment, StrictUndefined

import common.contracts.intake as c
from common.crypto import FieldCipher
from reminders.domain.notices import validation_period_end
from reminders.settings import RemindersSettings

TEMPLATES: Final = Path(__file__).parent / "templates" / "notices"
LANGUAGES: Final = ("en", "es")
SUBJECTS: Final = {
    "en": "Important information about your debt",
    "es": "Información importante sobre su deuda",
}
_MONTHS: Final = {
    "en": (
        "January", "February", "March", "April", "May", "June",
        "July", "August", "September", "October", "November", "December",
    ),
    "es": (
        "enero", "febrero", "marzo", "abril", "mayo", "junio",
        "julio", "agosto", "septiembre", "octubre", "noviembre", "diciembre",
    ),
}  # fmt: skip
_REFERENCES: Final = {
    "en": {
        "last_statement": "the last statement date",
        "charge_off": "the charge-off date",
        "last_payment": "the last payment date",
        "transaction": "the transaction date",
        "judgment": "the judgment date",
    },
    "es": {
        "last_statement": "fecha del último estado de cuenta",
        "charge_off": "fecha de cancelación contable",
        "last_payment": "fecha del último pago",
        "transaction": "fecha de la transacción",
        "judgment": "fecha de la sentencia",
    },
}
_PRODUCTS: Final = {"en": "account", "es": "cuenta"}


@dataclass(frozen=True)
class Notice:
    language: str
    subject: str
    body: str
    validation_period_ends: date


def notice_language(preferred: str | None) -> str:
    primary = (preferred or "en").split("-", 1)[0].lower()
    return primary if primary in LANGUAGES else "en"


def mailing_address(
    cipher: FieldCipher, contacts: dict[str, Any], address_id: str | None = None
) -> str | None:
    """One line of the borrower's postal address (the one named, else home, else the first)."""
    addresses = contacts.get("addresses", [])
    chosen = next((a for a in addresses if a["id"] == address_id), None) if address_id else None
    chosen = chosen or next((a for a in addresses if a.get("type") == "home"), None)
    chosen = chosen or (addresses[0] if addresses else None)
    if chosen is None:
        return None
    plain = orjson.loads(cipher.decrypt(chosen["sealed"], context=c.CTX_ADDRESS))
    place = " ".join(part for part in (chosen.get("region"), plain.get("postal_code")) if part)
    parts = [plain.get("line1"), plain.get("line2"), plain.get("city"), place, chosen.get("country")]
    return ", ".join(str(part) for part in parts if part)


def render_validation_notice(
    account: Any, *, cipher: FieldCipher, settings: RemindersSettings, sent_on: date, address_id: str | None
) -> Notice:
    """The notice for `account`, dated `sent_on`, in the borrower's language where the form exists."""
    language = notice_language(account.language)
    contacts = account.contacts or {}
    ends = validation_period_end(sent_on)
    item = _itemization(account)
    name = cipher.decrypt(contacts["name"], context=c.CTX_NAME) if contacts.get("name") else None
    money = _money_format(account.currency)
    values = {
        "collector_name": settings.agency_name,
        "collector_address": settings.agency_address,
        "collector_phone": settings.agency_phone,
        "collector_hours": settings.agency_hours,
        "collector_url": settings.pay_url,
        "dispute_url": settings.disputes_url,
        "consumer_name": name or ("the consumer" if language == "en" else "el consumidor"),
        "consumer_address": mailing_address(cipher, contacts, address_id) or "",
        "reference": _reference(account.account_id),
        "creditor": account.tenant,
        "product": account.product or _PRODUCTS[language],
        "account_number": _masked(account.external_account_id),
        "itemization_date": _long_date(item["date"], language),
        "itemization_reference": _REFERENCES[language][item["reference"]],
        "itemization_amount": money(item["amount_minor"]),
        "interest": money(item["interest_minor"]),
        "fees": money(item["fees_minor"]),
        "payments_and_credits": money(item["payments_minor"] + item["credits_minor"] + account.paid_minor),
        "current_amount": money(max(account.amount_due_minor - account.paid_minor, 0)),
        "validation_end": _long_date(ends, language),
    }
    body = _template(language).render(values)
    return Notice(language=language, subject=SUBJECTS[language], body=body, validation_period_ends=ends)


def _itemization(account: Any) -> dict[str, Any]:
    """The lender's itemization, or one from what was placed: the amount due on the due date."""
    if account.itemization:
        item = dict(account.itemization)
        item["date"] = date.fromisoformat(item["date"])
        return item
    return {
        "date": account.due_date,
        "reference": "last_statement",
        "amount_minor": account.amount_due_minor,
        "interest_minor": 0,
        "fees_minor": 0,
        "payments_minor": 0,
        "credits_minor": 0,
    }


def _money_format(currency: str) -> Any:
    def money(minor: int) -> str:
        amount = f"{minor / 100:,.2f}"
        return f"${amount}" if currency == "USD" else f"{currency} {amount}"

    return money


def _long_date(day: date, language: str) -> str:
    month = _MONTHS[language][day.month - 1]
    return f"{month} {day.day}, {day.year}" if language == "en" else f"{day.day} de {month} de {day.year}"


def _masked(external_account_id: str) -> str:
    return "ending in " + external_account_id[-4:] if len(external_account_id) > 4 else external_account_id


def _reference(account_id: Any) -> str:
    return str(account_id).split("-", 1)[0].upper()


@lru_cache(maxsize=len(LANGUAGES))
def _template(language: str) -> Any:
    environment = Environment(undefined=StrictUndefined, keep_trailing_newline=True, autoescape=False)  # noqa: S701 - plain text
    return environment.from_string(
        (TEMPLATES / f"validation_notice.{language}.txt").read_text(encoding="utf-8")
    )
