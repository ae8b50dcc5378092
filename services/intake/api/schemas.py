"""What a lender may post to `POST /v1/events` (SPEC section 4): shapes and types only.

Semantic checks (phone numbers, national ids, currencies, jurisdictions, time zones) run after
this, in `intake.domain.validation`, so every bad field of a line is reported in one answer.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, model_validator

from common import fields

# No identifier of ours needs control characters; free text only refuses NUL (PostgreSQL cannot hold it).
NO_CONTROL = r"^[^\x00-\x1f\x7f]*$"
Text = Annotated[fields.Text, Field(min_length=1, max_length=512)]
Ident = Annotated[str, Field(min_length=1, max_length=128, pattern=NO_CONTROL)]


def plain(max_length: int, min_length: int = 0) -> Any:
    """A short string stored or published in clear (codes, languages, regions)."""
    return Field(min_length=min_length, max_length=max_length, pattern=NO_CONTROL)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AccountRef(_Strict):
    external_account_id: Ident


class ItemizationIn(_Strict):
    """How the debt is itemized in a US validation notice (12 CFR 1006.34(c)(2)(vi)-(viii)): the
    amount on the itemization date and what changed since; they must add up to amount_due_minor."""

    date: fields.Day
    reference: Literal["last_statement", "charge_off", "last_payment", "transaction", "judgment"]
    amount_minor: StrictInt
    interest_minor: StrictInt = 0
    fees_minor: StrictInt = 0
    payments_minor: StrictInt = 0
    credits_minor: StrictInt = 0


class AccountIn(AccountRef):
    product: Text | None = None
    currency: Annotated[str, plain(3, 3)]
    amount_due_minor: StrictInt
    principal_minor: StrictInt | None = None
    due_date: fields.Day
    jurisdiction: Annotated[str, plain(5, 2)]
    itemization: ItemizationIn | None = None


class AccountChangeIn(AccountRef):
    amount_due_minor: StrictInt | None = None
    due_date: fields.Day | None = None

    @model_validator(mode="after")
    def _something_changes(self) -> AccountChangeIn:
        if self.amount_due_minor is None and self.due_date is None:
            raise ValueError("account.updated needs amount_due_minor or due_date")
        return self


class PhoneIn(_Strict):
    number: Annotated[str, plain(32, 3)]
    type: Literal["mobile", "home", "work", "other"] = "mobile"
    consent_sms: StrictBool = False
    consent_autodialer: StrictBool = False


class EmailIn(_Strict):
    address: Annotated[str, plain(254, 3)]
    consent: StrictBool = False
    type: Literal["personal", "work"] = "personal"


class AddressIn(_Strict):
    line1: Text
    line2: Text | None = None
    city: Text | None = None
    region: Text | None = None
    country: Annotated[str, plain(2, 2)]
    postal_code: Annotated[str, plain(16)] | None = None
    lat: Annotated[float, Field(ge=-90, le=90)] | None = None
    lon: Annotated[float, Field(ge=-180, le=180)] | None = None
    type: Literal["home", "work", "other"] = "home"


class BorrowerIn(_Strict):
    external_borrower_id: Ident
    name: Text | None = None
    national_id: Annotated[str, plain(32)] | None = None
    phones: Annotated[list[PhoneIn], Field(max_length=20)] = []
    emails: Annotated[list[EmailIn], Field(max_length=20)] = []
    addresses: Annotated[list[AddressIn], Field(max_length=20)] = []
    timezone: Annotated[str, plain(64)] | None = None
    language: Annotated[str, plain(16)] | None = None


class ContactsIn(_Strict):
    phones: Annotated[list[PhoneIn], Field(max_length=20)] = []
    emails: Annotated[list[EmailIn], Field(max_length=20)] = []
    addresses: Annotated[list[AddressIn], Field(max_length=20)] = []
    timezone: Annotated[str, plain(64)] | None = None


class ThirdPartyIn(_Strict):
    name: Text
    relationship: Literal["emergency_contact", "family", "spouse", "parent", "friend", "employer", "other"]
    phone: Annotated[str, plain(32)] | None = None


class PaymentIn(_Strict):
    amount_minor: StrictInt
    paid_at: fields.Instant
    reference: Ident | None = None


class DisputeOpenIn(_Strict):
    received_at: fields.Instant
    written: StrictBool
    reason: Text | None = None


class DisputeResolveIn(_Strict):
    resolution: Literal["verified", "upheld", "withdrawn"]


class CeaseIn(_Strict):
    received_at: fields.Instant
    written: StrictBool


class AttorneyIn(_Strict):
    name: Text
    phone: Annotated[str, plain(32)] | None = None
    email: Annotated[str, plain(254)] | None = None


class InconvenientIn(_Strict):
    days: Annotated[list[Annotated[str, plain(16)]], Field(min_length=1, max_length=7)]
    start: Annotated[str, plain(5, 5)]
    end: Annotated[str, plain(5, 5)]


class AgreedHoursIn(_Strict):
    start: Annotated[str, plain(5, 5)]
    end: Annotated[str, plain(5, 5)]


class PreferencesIn(_Strict):
    inconvenient: Annotated[list[InconvenientIn], Field(max_length=14)] = []
    language: Annotated[str, plain(16)] | None = None
    channels: list[Literal["voice_call", "sms", "email", "push", "letter", "visit"]] | None = None
    # CN: hours the borrower agreed to be contacted at instead of 08:00-22:00; null clears them.
    agreed_hours: AgreedHoursIn | None = None
    # The borrower asked not to be called or visited at work (honoured where a pack says so).
    no_work_contact: StrictBool | None = None


class ContactReportIn(_Strict):
    """A contact the lender itself or another agency made; the number or address it used, if any,
    is hashed like ours so per-number caps count it."""

    channel: Literal["voice_call", "sms", "email", "push", "letter", "visit"]
    direction: Literal["outbound", "inbound"] = "outbound"
    recipient: Literal["debtor", "third_party"] = "debtor"
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
    at: fields.Instant
    by: Literal["lender", "agency"]
    phone: Annotated[str, plain(32, 3)] | None = None
    email: Annotated[str, plain(254, 3)] | None = None
    third_party_id: Annotated[str, Field(max_length=128, pattern=r"^[0-9a-f]+$")] | None = None


class _Event(_Strict):
    event_id: Ident
    occurred_at: fields.Instant
    account: AccountRef


class AccountPlacedIn(_Event):
    type: Literal["account.placed"]
    account: AccountIn
    borrower: BorrowerIn
    third_parties: Annotated[list[ThirdPartyIn], Field(max_length=20)] = []


class AccountUpdatedIn(_Event):
    type: Literal["account.updated"]
    account: AccountChangeIn


class PaymentReceivedIn(_Event):
    type: Literal["payment.received"]
    payment: PaymentIn


class AccountRecalledIn(_Event):
    type: Literal["account.recalled"]
    reason: Text


class DisputeOpenedIn(_Event):
    type: Literal["dispute.opened"]
    dispute: DisputeOpenIn


class DisputeResolvedIn(_Event):
    type: Literal["dispute.resolved"]
    dispute: DisputeResolveIn


class CeaseRequestedIn(_Event):
    type: Literal["borrower.cease_requested"]
    cease: CeaseIn


class AttorneyRetainedIn(_Event):
    type: Literal["borrower.attorney_retained"]
    attorney: AttorneyIn


class BorrowerFlaggedIn(_Event):
    type: Literal["borrower.flagged"]
    flag: Literal["deceased", "bankrupt", "vulnerable", "do_not_visit"]
    set: StrictBool


class ContactChangedIn(_Event):
    type: Literal["borrower.contact_changed"]
    borrower: ContactsIn


class PreferencesChangedIn(_Event):
    type: Literal["borrower.preferences_changed"]
    preferences: PreferencesIn


class ErasureRequestedIn(_Event):
    type: Literal["borrower.erasure_requested"]


class ContactReportedIn(_Event):
    type: Literal["contact.reported"]
    contact: ContactReportIn


LenderEvent = Annotated[
    AccountPlacedIn
    | AccountUpdatedIn
    | PaymentReceivedIn
    | AccountRecalledIn
    | DisputeOpenedIn
    | DisputeResolvedIn
    | CeaseRequestedIn
    | AttorneyRetainedIn
    | BorrowerFlaggedIn
    | ContactChangedIn
    | PreferencesChangedIn
    | ErasureRequestedIn
    | ContactReportedIn,
    Field(discriminator="type"),
]

EVENT_TYPES = (
    "account.placed",
    "account.updated",
    "payment.received",
    "account.recalled",
    "dispute.opened",
    "dispute.resolved",
    "borrower.cease_requested",
    "borrower.attorney_retained",
    "borrower.flagged",
    "borrower.contact_changed",
    "borrower.preferences_changed",
    "borrower.erasure_requested",
    "contact.reported",
)


class EventAccepted(BaseModel):
    status: Literal["accepted", "duplicate"]
    account_id: str


class LineResult(BaseModel):
    line: int
    event_id: str | None
    status: Literal["accepted", "duplicate", "rejected"]
    account_id: str | None = None
    errors: list[dict[str, str]] = []


class BatchResult(BaseModel):
    accepted: int
    duplicate: int
    rejected: int
    results: list[LineResult]
