"""What the permit engine reads and what it answers: plain values, independent of any database.

Times are timezone-aware instants; wall-clock windows (preferences, agreed hours) are read in the
borrower's local time in every candidate zone.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Final, Literal, get_args

Channel = Literal["voice_call", "sms", "email", "push", "letter", "visit"]
Recipient = Literal["debtor", "third_party"]
Direction = Literal["outbound", "inbound"]
# Why a contact is made; the notices are the contacts the law itself asks for (see the contracts).
Purpose = Literal[
    "collection",
    "location",
    "validation_notice",
    "forbearance_offer",
    "visit_notice",
    "notice_efforts_terminated",
    "notice_may_invoke_remedy",
    "notice_will_invoke_remedy",
]
# What kind of line a phone is: TCPA and 209 CMR 18.16 treat residential, mobile and work lines apart.
LineType = Literal["mobile", "residential", "work", "other"]
Place = Literal["home", "work", "other"]
HoldName = Literal[
    "dispute",
    "cease_communication",
    "attorney",
    "bankruptcy",
    "deceased",
    "vulnerable",
    "do_not_visit",
    "closed",
]
# Attempt outcomes as reminders (calls, messages) and visits (field outcomes) report them.
Outcome = Literal[
    "delivered",
    "failed",
    "bounced",
    "busy",
    "no_answer",
    "voicemail",
    "connected",
    "conversation",
    "wrong_number",
    "met_promise",
    "met_paid",
    "met_refused",
    "not_home",
    "moved",
    "wrong_address",
    "unsafe",
    # An allowed permit not yet used: frequency caps count it, so a burst of requests cannot
    # collect more permits than the cap allows contacts.
    "reserved",
]
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
DecisionOutcome = Literal["allow", "deny", "defer"]

CHANNELS: Final[tuple[Channel, ...]] = get_args(Channel)
RECIPIENTS: Final[tuple[Recipient, ...]] = get_args(Recipient)
DIRECTIONS: Final[tuple[Direction, ...]] = get_args(Direction)
PURPOSES: Final[tuple[Purpose, ...]] = get_args(Purpose)
HOLDS: Final[tuple[HoldName, ...]] = get_args(HoldName)
OUTCOMES: Final[tuple[Outcome, ...]] = get_args(Outcome)
WEEKDAYS: Final[tuple[Weekday, ...]] = get_args(Weekday)


def _require_aware(value: datetime | None, name: str) -> None:
    if value is not None and (value.tzinfo is None or value.utcoffset() is None):
        raise ValueError(f"{name} must be timezone-aware")


def _require_member(value: str, allowed: tuple[str, ...], name: str) -> None:
    if value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(allowed)}, not {value!r}")


@dataclass(frozen=True, slots=True)
class PermitRequest:
    """May we contact this person, this way, at this instant? (`at` is the send time for e-mail and SMS.)"""

    account_id: str
    borrower_id: str
    channel: Channel
    recipient: Recipient
    at: datetime
    autodialed: bool = False  # placed by an automatic telephone dialing system
    prerecorded: bool = False  # an artificial or prerecorded voice
    purpose: Purpose = "collection"
    contact_point_id: str | None = None  # keyed hash, never the number or address
    third_party_id: str | None = None
    crew_size: int | None = None
    recording: bool | None = None
    id_shown: bool | None = None
    until: datetime | None = None  # a visit's window ends here (the permit lasts at most to it)

    def __post_init__(self) -> None:
        _require_aware(self.at, "at")
        if self.until is not None:
            _require_aware(self.until, "until")
        _require_member(self.channel, CHANNELS, "channel")
        _require_member(self.recipient, RECIPIENTS, "recipient")
        _require_member(self.purpose, PURPOSES, "purpose")


@dataclass(frozen=True, slots=True)
class Consent:
    """What is known about one contact point (keyed by its hashed id in `AccountState.consents`):
    a phone (with its line type), an e-mail address or a postal address (with its place)."""

    sms: bool = False
    autodialer: bool = False
    email: bool = False
    is_mobile: bool = False
    employer_email: bool = False
    consent_checked_at: date | None = None
    kind: Literal["phone", "email", "address"] | None = None
    line_type: LineType | None = None  # what the line is used for
    place: Place | None = None

    @property
    def lines(self) -> frozenset[str]:
        """The line types this phone counts as: its use, and mobile when it is a wireless number (the
        TCPA follows the technology, 209 CMR the place)."""
        found = {self.line_type} if self.line_type else set()
        return frozenset(found | ({"mobile"} if self.is_mobile else set()))


@dataclass(frozen=True, slots=True)
class InconvenientWindow:
    """A time the borrower named inconvenient: from `start` on each of `weekdays` until `end`.

    An `end` at or before `start` runs past midnight into the next day; `start == end` is the whole day.
    """

    weekdays: frozenset[Weekday]
    start: time
    end: time

    def __post_init__(self) -> None:
        for day in self.weekdays:
            _require_member(day, WEEKDAYS, "weekday")


@dataclass(frozen=True, slots=True)
class AgreedHours:
    """Hours the borrower agreed to be contacted at (CN); an `end` before `start` runs past midnight."""

    start: time
    end: time


@dataclass(frozen=True, slots=True)
class Dispute:
    """An open dispute as the lender reported it: written or not, and when it was received."""

    received_at: datetime
    written: bool


@dataclass(frozen=True, slots=True)
class AccountState:
    """Everything compliance knows about one account (one debt) and its borrower, at decision time."""

    account_id: str
    borrower_id: str
    jurisdiction: str
    timezones: Sequence[str] = ()  # every candidate zone: declared, address- and phone-derived
    holds: AbstractSet[str] = frozenset()
    channel_opt_outs: AbstractSet[str] = frozenset()
    consents: Mapping[str, Consent] = field(default_factory=dict)
    preferences: Sequence[InconvenientWindow] = ()
    agreed_hours: AgreedHours | None = None
    no_work_contact: bool = False  # the borrower asked not to be called or visited at work
    tenant_allows_visits: bool = False
    refused_third_parties: AbstractSet[str] = frozenset()
    contacted_third_parties: AbstractSet[str] = frozenset()
    first_contact_at: datetime | None = None
    validation_notice_sent_at: datetime | None = None
    validation_period_ends: date | None = None
    # The latest delivered notice of each purpose (forbearance_offer, visit_notice, ...).
    notices: Mapping[str, datetime] = field(default_factory=dict)
    dispute: Dispute | None = None

    def __post_init__(self) -> None:
        _require_aware(self.first_contact_at, "first_contact_at")
        _require_aware(self.validation_notice_sent_at, "validation_notice_sent_at")
        for purpose, at in self.notices.items():
            _require_member(purpose, PURPOSES, "notice purpose")
            _require_aware(at, f"notices[{purpose}]")


@dataclass(frozen=True, slots=True)
class Attempt:
    """One contact that happened, was tried, or is reserved by an unused permit: what the frequency
    rules count. Inbound contacts (the borrower called us) count where a rule says so."""

    at: datetime
    channel: Channel
    outcome: Outcome
    contact_point_id: str | None
    account_id: str
    borrower_id: str
    recipient: Recipient = "debtor"
    direction: Direction = "outbound"
    purpose: Purpose | None = None  # None: not known (a contact logged or reported without a permit)
    third_party_id: str | None = None

    def __post_init__(self) -> None:
        _require_aware(self.at, "at")
        _require_member(self.channel, CHANNELS, "channel")
        _require_member(self.outcome, OUTCOMES, "outcome")
        _require_member(self.recipient, RECIPIENTS, "recipient")
        _require_member(self.direction, DIRECTIONS, "direction")
        if self.purpose is not None:
            _require_member(self.purpose, PURPOSES, "purpose")


@dataclass(frozen=True, slots=True)
class Ledger:
    """The borrower's contact history, reserved permits included (some for instants after the decision:
    caps count those too, cooldowns only what already happened)."""

    attempts: Sequence[Attempt] = ()


@dataclass(frozen=True, slots=True)
class Reason:
    rule: str
    message: str
    citation: str


@dataclass(frozen=True, slots=True)
class Decision:
    """The engine's answer; `policy` is the pack version tag the decision can be replayed against."""

    outcome: DecisionOutcome
    not_before: datetime | None
    expires_at: datetime | None
    reasons: list[Reason]
    policy: str
    evaluated_rules: list[str]
