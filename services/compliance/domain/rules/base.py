"""What a rule function receives and returns.

A rule either denies (a hold, a missing consent, a visit without its safeguards: no waiting helps)
or hands the engine time constraints (quiet hours, frequency windows) that it solves for the
earliest instant every one of them allows.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from compliance.domain.localtime import TimeConstraint
from compliance.domain.model import AccountState, Attempt, Ledger, LineType, PermitRequest, Reason
from compliance.domain.packs import RuleSpec


@dataclass(frozen=True, slots=True)
class Context:
    request: PermitRequest
    state: AccountState
    at: datetime  # the request instant, in UTC
    # The borrower's attempts, oldest first: what happened, and permits reserved for any instant.
    attempts: tuple[Attempt, ...]
    zones: tuple[ZoneInfo, ...]  # candidate zones: every one of them must allow
    unknown_zones: tuple[str, ...]  # zone names the time-zone database does not know

    @property
    def past(self) -> tuple[Attempt, ...]:
        """The attempts at or before the request instant."""
        return tuple(attempt for attempt in self.attempts if attempt.at <= self.at)


@dataclass(frozen=True, slots=True)
class RuleOutcome:
    denials: tuple[Reason, ...] = ()
    constraints: tuple[TimeConstraint, ...] = ()


PASS = RuleOutcome()


def reason(rule: RuleSpec, message: str) -> Reason:
    return Reason(rule=rule.id, message=message, citation=rule.citation)


def deny(rule: RuleSpec, *messages: str) -> RuleOutcome:
    return RuleOutcome(denials=tuple(reason(rule, message) for message in messages))


def resolve_zones(names: Iterable[str]) -> tuple[tuple[ZoneInfo, ...], tuple[str, ...]]:
    """Candidate zones, de-duplicated in order, and the names the time-zone database does not know."""
    zones: list[ZoneInfo] = []
    unknown: list[str] = []
    for name in dict.fromkeys(names):
        try:
            zones.append(ZoneInfo(name))
        except (ZoneInfoNotFoundError, ValueError):
            unknown.append(name)
    return tuple(zones), tuple(unknown)


def borrower_attempts(ledger: Ledger, borrower_id: str) -> tuple[Attempt, ...]:
    """The borrower's attempts, oldest first."""
    mine = (attempt for attempt in ledger.attempts if attempt.borrower_id == borrower_id)
    return tuple(sorted(mine, key=lambda attempt: attempt.at))


def line_type(state: AccountState, contact_point_id: str | None) -> LineType | None:
    """The line type of a phone contact point, None when unknown (not a phone, or not on file)."""
    consent = state.consents.get(contact_point_id) if contact_point_id else None
    return consent.line_type if consent is not None else None
