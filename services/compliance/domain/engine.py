"""The permit engine: one request, the account's state and ledger, one pack -> allow, deny or defer.

Pure and deterministic, so a stored decision replays against its pack version. Denials win over
deferrals; a deferral's `not_before` is the earliest instant at or after the request at which every
time constraint allows at once, found by jumping between constraint edges.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Final

from compliance.domain.localtime import TimeConstraint
from compliance.domain.model import AccountState, Decision, DecisionOutcome, Ledger, PermitRequest, Reason
from compliance.domain.packs import Pack
from compliance.domain.rules import RULES
from compliance.domain.rules.base import Context, borrower_attempts, resolve_zones

DEFAULT_PERMIT_TTL: Final = timedelta(minutes=15)
# The longest window a visit permit may cover: one day's visit, never a standing licence.
MAX_VISIT_WINDOW: Final = timedelta(hours=24)
# The longest wait any pack can impose (a 30-day visit cap plus quiet hours) fits well inside this.
SEARCH_HORIZON: Final = timedelta(days=62)
_MAX_STEPS: Final = 10_000


def evaluate(
    request: PermitRequest,
    state: AccountState,
    ledger: Ledger,
    pack: Pack,
    *,
    permit_ttl: timedelta = DEFAULT_PERMIT_TTL,
) -> Decision:
    """Decide one permit. `allow` expires at `at + permit_ttl`, or earlier when quiet hours begin."""
    if permit_ttl <= timedelta(0):
        raise ValueError("permit_ttl must be positive")
    if (request.account_id, request.borrower_id) != (state.account_id, state.borrower_id):
        raise ValueError("the request and the account state are about different accounts or borrowers")
    ctx = _context(request, state, ledger, pack)
    evaluated: list[str] = []
    denials: list[Reason] = []
    constraints: list[TimeConstraint] = []
    for rule in pack.rules_for(request):
        evaluated.append(rule.id)
        found = RULES[rule.kind](rule, ctx)
        denials.extend(found.denials)
        constraints.extend(found.constraints)

    ttl = permit_ttl
    if request.channel == "visit" and request.until is not None and request.until > ctx.at:
        # A visit is planned into a window: its permit covers it, up to when the hours close.
        ttl = min(request.until - ctx.at, MAX_VISIT_WINDOW)
    outcome, reasons, not_before, expires_at = _settle(denials, constraints, ctx.at, ttl)
    return Decision(
        outcome=outcome,
        not_before=not_before,
        expires_at=expires_at,
        reasons=list(dict.fromkeys(reasons)),
        policy=pack.version_tag,
        evaluated_rules=evaluated,
    )


def _settle(
    denials: list[Reason], constraints: list[TimeConstraint], at: datetime, ttl: timedelta
) -> tuple[DecisionOutcome, list[Reason], datetime | None, datetime | None]:
    """Outcome, reasons, not_before and expires_at: denials win, then what blocks now decides."""
    if denials:
        return "deny", denials, None, None
    blocking = [constraint.reason for constraint in constraints if constraint.blocks(at)]
    if not blocking:
        return "allow", [], None, _expiry(constraints, at, ttl)
    not_before = earliest_open(constraints, at)
    if not_before is None:
        return "deny", [_no_window(reason) for reason in blocking], None, None
    return "defer", blocking, not_before, None


def earliest_open(
    constraints: Sequence[TimeConstraint], at: datetime, horizon: timedelta = SEARCH_HORIZON
) -> datetime | None:
    """The earliest instant >= at that no constraint blocks, or None if none within `horizon`.

    Each step moves to the latest reopening among the constraints blocking now; no instant before it
    can satisfy them all, so the first instant nothing blocks is the earliest one.
    """
    t = at
    for _ in range(_MAX_STEPS):
        blocking = [constraint for constraint in constraints if constraint.blocks(t)]
        if not blocking:
            return t
        t = max(constraint.opens_at(t) for constraint in blocking)
        if t - at > horizon:
            return None
    return None


def _context(request: PermitRequest, state: AccountState, ledger: Ledger, pack: Pack) -> Context:
    at = request.at.astimezone(UTC)
    zones, unknown = resolve_zones(state.timezones or pack.default_timezones)
    return Context(
        request=request,
        state=state,
        at=at,
        attempts=borrower_attempts(ledger, state.borrower_id),
        zones=zones,
        unknown_zones=unknown,
    )


def _expiry(constraints: Iterable[TimeConstraint], at: datetime, ttl: timedelta) -> datetime:
    # A permit must not outlive the window it was granted in: it expires when quiet hours begin.
    closing = (constraint.closes_at(at) for constraint in constraints)
    return min([at + ttl, *(edge for edge in closing if edge is not None and edge > at)])


def _no_window(reason: Reason) -> Reason:
    message = f"{reason.message}; no instant in the next {SEARCH_HORIZON.days} days satisfies every rule"
    return Reason(rule=reason.rule, message=message, citation=reason.citation)
