"""Contracts of `intake.v1`: the lender's events after validation, normalisation and encryption.

Personal data travels only as `enc:v1:` tokens (contexts below); contact points carry keyed-hash ids
so compliance and reminders can count and match them without seeing a number or an address.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import Field

from common.contracts import Contract, contract

TOPIC = "intake.v1"

# Encryption contexts: a token opens only under the context it was sealed with.
CTX_NAME = "borrower.name"
CTX_NATIONAL_ID = "borrower.national_id"
CTX_PHONE = "borrower.phone"
CTX_EMAIL = "borrower.email"
CTX_ADDRESS = "borrower.address"
CTX_THIRD_PARTY = "third_party"
CTX_ATTORNEY = "attorney"
CTX_TEXT = "free_text"

HoldKind = Literal[
    "cease_communication",
    "attorney",
    "bankruptcy",
    "deceased",
    "vulnerable",
    "do_not_visit",
    "channel_opt_out",
]
CloseReason = Literal["paid", "settled", "recalled", "written_off"]
Channel = Literal["voice_call", "sms", "email", "push", "letter", "visit"]


class Phone(Contract):
    id: str  # keyed hash of the E.164 number
    number: str  # enc:v1 (CTX_PHONE)
    type: str
    region: str | None
    is_mobile: bool
    consent_sms: bool
    consent_autodialer: bool


class Email(Contract):
    id: str
    address: str  # enc:v1 (CTX_EMAIL)
    consent: bool
    employer: bool = False


class Address(Contract):
    id: str
    sealed: str  # enc:v1 JSON of line1, line2, city, postal_code, lat, lon (CTX_ADDRESS)
    country: str
    region: str | None
    type: str


class Borrower(Contract):
    borrower_id: str
    external_borrower_id: str
    name: str | None  # enc:v1 (CTX_NAME)
    national_id: str | None  # enc:v1 (CTX_NATIONAL_ID)
    phones: list[Phone]
    emails: list[Email]
    addresses: list[Address]
    timezones: list[str]
    language: str | None
    # Where each candidate zone came from: "declared", "address", "phone" (every one must allow).
    zone_sources: dict[str, list[str]] = Field(default_factory=dict)


class ThirdParty(Contract):
    id: str
    sealed: str  # enc:v1 JSON of name and phone (CTX_THIRD_PARTY)
    relationship: str
    phone_id: str | None


class Itemization(Contract):
    """The itemization of a debt as a validation notice states it (12 CFR 1006.34(c)(2)(vi)-(viii))."""

    date: date
    reference: Literal["last_statement", "charge_off", "last_payment", "transaction", "judgment"]
    amount_minor: int
    interest_minor: int = 0
    fees_minor: int = 0
    payments_minor: int = 0
    credits_minor: int = 0


class Account(Contract):
    account_id: str
    external_account_id: str
    product: str | None
    currency: str
    amount_due_minor: int
    principal_minor: int | None
    due_date: date
    jurisdiction: str
    itemization: Itemization | None = None


class IntakeEvent(Contract):
    """What every intake event says: which lender event caused it, when, about whom.

    `seq` counts the borrower's intake events (1, 2, ...): a consumer that has applied seq N of a
    borrower knows everything intake had said about them up to that event.
    """

    lender_event_id: str
    occurred_at: datetime
    account_id: str
    borrower_id: str
    seq: int = 0


@contract("account.placed")
class AccountPlaced(IntakeEvent):
    account: Account
    borrower: Borrower
    third_parties: list[ThirdParty]


@contract("account.updated")
class AccountUpdated(IntakeEvent):
    amount_due_minor: int
    due_date: date


@contract("payment.received")
class PaymentReceived(IntakeEvent):
    amount_minor: int
    currency: str
    paid_at: datetime
    reference: str | None
    balance_minor: int


@contract("account.closed")
class AccountClosed(IntakeEvent):
    reason: CloseReason


@contract("dispute.opened")
class DisputeOpened(IntakeEvent):
    received_at: datetime
    written: bool
    reason: str | None  # enc:v1 (CTX_TEXT)


@contract("dispute.resolved")
class DisputeResolved(IntakeEvent):
    resolution: Literal["verified", "upheld", "withdrawn"]


@contract("hold.set")
class HoldSet(IntakeEvent):
    hold: HoldKind
    channel: Channel | None = None
    received_at: datetime | None = None
    written: bool | None = None
    details: str | None = None  # enc:v1 (CTX_ATTORNEY for an attorney's contact)


@contract("hold.cleared")
class HoldCleared(IntakeEvent):
    hold: HoldKind
    channel: Channel | None = None


@contract("borrower.contact_changed")
class ContactChanged(IntakeEvent):
    phones: list[Phone]
    emails: list[Email]
    addresses: list[Address]
    timezones: list[str]
    zone_sources: dict[str, list[str]] = Field(default_factory=dict)


class InconvenientWindow(Contract):
    days: list[str]
    start: str
    end: str


class AgreedHours(Contract):
    """Hours the borrower agreed to be contacted at, local "HH:MM" (CN: other than 08:00-22:00)."""

    start: str
    end: str


@contract("borrower.preferences_changed")
class PreferencesChanged(IntakeEvent):
    inconvenient: list[InconvenientWindow]
    language: str | None
    channels: list[str] | None
    agreed_hours: AgreedHours | None = None
    # The borrower asked not to be called or visited at work (209 CMR 18.16(1)(c), 18.17(7)).
    no_work_contact: bool = False


@contract("contact.reported")
class ContactReported(IntakeEvent):
    """A contact the lender itself or another agency made, so shared caps count it (the CN daily
    caps are for "the lender and all its agencies together")."""

    attempt_id: str
    reported_by: Literal["lender", "agency"]
    channel: Channel
    direction: Literal["outbound", "inbound"]
    recipient: Literal["debtor", "third_party"]
    outcome: Literal[
        "delivered",
        "failed",
        "bounced",
        "busy",
        "no_answer",
        "voicemail",
        "connected",
        "conversation",
        "wrong_number",
    ]
    at: datetime
    contact_point_id: str | None
    third_party_id: str | None


@contract("borrower.erased")
class BorrowerErased(IntakeEvent):
    erased_at: datetime
