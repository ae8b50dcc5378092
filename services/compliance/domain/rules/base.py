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
from compliance.domain.model import AccountState, Attempt, Ledger, PermitRequest, Reason
from compliance.domain.packs import RuleSpec


@dataclass(frozen=True, slots=True)
class Context:
    request: PermitRequest
    state: AccountState
    at: datetime  # the request instant, in UTC
    attempts: tuple[Attempt, ...]  # the borrower's attempts at or before `at`, oldest first
    zones: tuple[ZoneInfo, ...]  # candidate zones: every one of them must allow
    unknown_zones: tuple[str, ...]  # zone names the time-zone database does not know


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


def attempts_as_of(ledger: Ledger, borrower_id: str, at: datetime) -> tuple[Attempt, ...]:
    """The borrower's attempts at or before `at`, oldest first: a decision sees only its past."""
    mine = (attempt for attempt in ledger.attempts if attempt.borrower_id == borrower_id and attempt.at <= at)
    return tuple(sorted(mine, key=lambda attempt: attempt.at))
