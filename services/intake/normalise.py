"""From a lender's validated request to what we keep and publish: checked, normalised and sealed.

Every semantic problem of a line is collected (not just the first), each named by its field path.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, TypeVar

import orjson

import common.contracts.intake as c
from common.crypto import FieldCipher
from intake.api import schemas as s
from intake.domain import validation as v
from intake.domain.timezones import AddressHint, candidate_zones

T = TypeVar("T")

CTX_PII = "intake.borrower.pii"


class Problems:
    """Collects field errors so a lender sees every bad field of a line at once."""

    def __init__(self) -> None:
        self.errors: list[dict[str, str]] = []

    def check(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T | None:
        """Call a validator; on FieldError record it and return None."""
        try:
            return fn(*args, **kwargs)
        except v.FieldError as exc:
            self.errors.append({"field": exc.field, "message": exc.message, "type": "value_error"})
            return None

    def add(self, field_path: str, message: str) -> None:
        self.errors.append({"field": field_path, "message": message, "type": "value_error"})


@dataclass
class Contacts:
    phones: list[c.Phone] = field(default_factory=list)
    emails: list[c.Email] = field(default_factory=list)
    addresses: list[c.Address] = field(default_factory=list)
    declared_timezone: str | None = None
    # every candidate zone and where it came from (declared, address, phone)
    zone_sources: dict[str, list[str]] = field(default_factory=dict)
    plain: dict[str, Any] = field(default_factory=dict)

    @property
    def timezones(self) -> list[str]:
        return list(self.zone_sources)


@dataclass
class SealedBorrower:
    external_borrower_id: str
    name: str | None
    national_id: str | None
    national_id_hash: str | None
    contacts: Contacts
    third_parties: list[c.ThirdParty]
    language: str | None
    pii_sealed: str


def seal_contacts(
    cipher: FieldCipher,
    problems: Problems,
    *,
    prefix: str,
    phones: list[s.PhoneIn],
    emails: list[s.EmailIn],
    addresses: list[s.AddressIn],
    timezone: str | None,
    default_region: str | None,
    declared_before: str | None = None,
) -> Contacts:
    """Check, hash and seal contact points; a zone declared earlier still counts when none is given."""
    out = Contacts()
    hints: list[AddressHint] = []
    for i, a in enumerate(addresses):
        country = problems.check(v.validate_country, a.country, field=f"{prefix}.addresses.{i}.country")
        if country is None:
            continue
        hints.append(AddressHint(country=country, region=a.region, postal_code=a.postal_code))
        plain = a.model_dump(exclude={"type"})
        address_id = cipher.lookup_hash(f"{country}|{a.postal_code}|{a.line1}", purpose="address")
        out.addresses.append(
            c.Address(
                id=address_id,
                sealed=cipher.encrypt(orjson.dumps(plain).decode(), context=c.CTX_ADDRESS),
                country=country,
                region=a.region,
                type=a.type,
            )
        )
        out.plain.setdefault("addresses", []).append({**plain, "id": address_id, "type": a.type})
    region = hints[0].country if hints else default_region
    numbers: list[v.PhoneNumber] = []
    for i, p in enumerate(phones):
        number = problems.check(
            v.normalise_phone, p.number, region=region, field=f"{prefix}.phones.{i}.number"
        )
        if number is None:
            continue
        numbers.append(number)
        phone_id = cipher.lookup_hash(number.e164, purpose="phone")
        out.phones.append(
            c.Phone(
                id=phone_id,
                number=cipher.encrypt(number.e164, context=c.CTX_PHONE),
                type=p.type,
                region=number.region,
                is_mobile=number.kind in ("mobile", "fixed_line_or_mobile"),
                consent_sms=p.consent_sms,
                consent_autodialer=p.consent_autodialer,
            )
        )
        out.plain.setdefault("phones", []).append({"id": phone_id, "number": number.e164, "type": p.type})
    for i, e in enumerate(emails):
        address = problems.check(v.validate_email, e.address, field=f"{prefix}.emails.{i}.address")
        if address is None:
            continue
        email_id = cipher.lookup_hash(address.lower(), purpose="email")
        out.emails.append(
            c.Email(
                id=email_id,
                address=cipher.encrypt(address, context=c.CTX_EMAIL),
                consent=e.consent,
                employer=e.type == "work",
            )
        )
        out.plain.setdefault("emails", []).append({"id": email_id, "address": address, "type": e.type})
    declared = declared_before
    if timezone is not None:
        declared = problems.check(v.validate_timezone, timezone, field=f"{prefix}.timezone")
    out.declared_timezone = declared
    out.zone_sources = {
        zone: list(sources)
        for zone, sources in candidate_zones(declared=declared, phones=numbers, addresses=hints).items()
    }
    return out


def seal_borrower(
    cipher: FieldCipher,
    problems: Problems,
    placed: s.AccountPlacedIn,
    *,
    today: date,
    jurisdiction: str | None,
) -> SealedBorrower:
    b = placed.borrower
    default_region = v.jurisdiction_country(jurisdiction) if jurisdiction else None
    contacts = seal_contacts(
        cipher,
        problems,
        prefix="borrower",
        phones=b.phones,
        emails=b.emails,
        addresses=b.addresses,
        timezone=b.timezone,
        default_region=default_region,
    )
    if not contacts.timezones and not problems.errors:
        problems.add("borrower.timezone", "no time zone given and none can be derived from address or phone")
    national_id = None
    if b.national_id is not None:
        national_id = problems.check(
            v.validate_cn_national_id, b.national_id or "", field="borrower.national_id", today=today
        )
    third_parties: list[c.ThirdParty] = []
    plain_third: list[dict[str, Any]] = []
    for i, t in enumerate(placed.third_parties):
        number = None
        if t.phone is not None:
            number = problems.check(
                v.normalise_phone, t.phone or "", region=default_region, field=f"third_parties.{i}.phone"
            )
        phone_id = cipher.lookup_hash(number.e164, purpose="phone") if number else None
        plain = {"name": t.name, "phone": number.e164 if number else None}
        third_party_id = third_party_key(cipher, t.name, phone_id)
        third_parties.append(
            c.ThirdParty(
                id=third_party_id,
                sealed=cipher.encrypt(orjson.dumps(plain).decode(), context=c.CTX_THIRD_PARTY),
                relationship=t.relationship,
                phone_id=phone_id,
            )
        )
        plain_third.append({**plain, "relationship": t.relationship, "id": third_party_id})
    pii = {"name": b.name, "national_id": national_id, **contacts.plain, "third_parties": plain_third}
    return SealedBorrower(
        external_borrower_id=b.external_borrower_id,
        name=cipher.encrypt_optional(b.name, context=c.CTX_NAME),
        national_id=cipher.encrypt_optional(national_id, context=c.CTX_NATIONAL_ID),
        national_id_hash=cipher.lookup_hash(national_id, purpose="national_id") if national_id else None,
        contacts=contacts,
        third_parties=third_parties,
        language=b.language,
        pii_sealed=seal_pii(cipher, pii),
    )


def third_party_key(cipher: FieldCipher, name: str, phone_id: str | None) -> str:
    """The id every service knows a third party by: a keyed hash, never the name or the number."""
    key: str = cipher.lookup_hash(f"{name}|{phone_id}", purpose="third_party")
    return key


def third_parties_of(cipher: FieldCipher, pii: dict[str, Any]) -> list[dict[str, Any]]:
    """The borrower's third parties as sealed in their personal data, each with its id (records from
    before ids were kept get theirs computed the same way)."""
    out = []
    for t in pii.get("third_parties", []):
        phone_id = cipher.lookup_hash(t["phone"], purpose="phone") if t.get("phone") else None
        out.append({**t, "id": t.get("id") or third_party_key(cipher, t["name"], phone_id)})
    return out


def seal_pii(cipher: FieldCipher, pii: dict[str, Any]) -> str:
    sealed: str = cipher.encrypt(orjson.dumps(pii).decode(), context=CTX_PII)
    return sealed


def open_pii(cipher: FieldCipher, sealed: str | None) -> dict[str, Any]:
    if sealed is None:
        return {}
    loaded: dict[str, Any] = orjson.loads(cipher.decrypt(sealed, context=CTX_PII))
    return loaded


def check_account(problems: Problems, account: s.AccountIn, *, today: date) -> str | None:
    """Semantic checks of a placement's account; returns the canonical jurisdiction."""
    problems.check(v.validate_currency, account.currency, field="account.currency")
    problems.check(v.validate_amount_minor, account.amount_due_minor, field="account.amount_due_minor")
    if account.principal_minor is not None:
        problems.check(v.validate_amount_minor, account.principal_minor, field="account.principal_minor")
    problems.check(v.validate_due_date_for_placement, account.due_date, today=today, field="account.due_date")
    if account.itemization is not None:
        _check_itemization(problems, account.itemization, account.amount_due_minor, today=today)
    return problems.check(v.validate_jurisdiction, account.jurisdiction, field="account.jurisdiction")


def _check_itemization(problems: Problems, item: s.ItemizationIn, amount_due: int, *, today: date) -> None:
    for name in ("amount_minor", "interest_minor", "fees_minor", "payments_minor", "credits_minor"):
        problems.check(v.validate_amount_minor, getattr(item, name), field=f"account.itemization.{name}")
    if item.date > today:
        problems.add("account.itemization.date", "the itemization date cannot be in the future")
    elif item.date < v.years_from(today, -v.DUE_DATE_YEARS_BACK):
        years = v.DUE_DATE_YEARS_BACK
        problems.add(
            "account.itemization.date", f"the itemization date cannot be more than {years} years ago"
        )
    current = (
        item.amount_minor + item.interest_minor + item.fees_minor - item.payments_minor - item.credits_minor
    )
    if current != amount_due:
        problems.add(
            "account.itemization",
            f"amount + interest + fees - payments - credits is {current}, not amount_due_minor {amount_due}",
        )


def check_times(problems: Problems, event: Any, *, now: datetime) -> None:
    """When the event, and what it reports, happened: not in the future beyond clock skew (compliance
    would count consents as checked then), not before any debt we collect."""
    times = [("occurred_at", event.occurred_at)]
    if isinstance(event, s.PaymentReceivedIn):
        times.append(("payment.paid_at", event.payment.paid_at))
    elif isinstance(event, s.DisputeOpenedIn):
        times.append(("dispute.received_at", event.dispute.received_at))
    elif isinstance(event, s.CeaseRequestedIn):
        times.append(("cease.received_at", event.cease.received_at))
    for path, at in times:
        problems.check(v.validate_happened_at, at, now=now, field=path)


def check_agreed_hours(problems: Problems, prefs: s.PreferencesIn) -> c.AgreedHours | None:
    """Hours the borrower agreed to be contacted at, when the lender sent them."""
    agreed = prefs.agreed_hours
    if agreed is None:
        return None
    start = problems.check(v.validate_local_time, agreed.start, field="preferences.agreed_hours.start")
    end = problems.check(v.validate_local_time, agreed.end, field="preferences.agreed_hours.end")
    if start is None or end is None:
        return None
    return c.AgreedHours(start=agreed.start, end=agreed.end)


def check_preferences(problems: Problems, prefs: s.PreferencesIn) -> list[c.InconvenientWindow]:
    windows = []
    for i, w in enumerate(prefs.inconvenient):
        days = problems.check(v.validate_weekdays, w.days, field=f"preferences.inconvenient.{i}.days")
        start = problems.check(v.validate_local_time, w.start, field=f"preferences.inconvenient.{i}.start")
        end = problems.check(v.validate_local_time, w.end, field=f"preferences.inconvenient.{i}.end")
        if days is not None and start is not None and end is not None:
            windows.append(c.InconvenientWindow(days=days, start=w.start, end=w.end))
    return windows
