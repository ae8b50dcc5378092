"""Frequency caps and cooldowns over the contact ledger.

- `frequency_cap`, rolling: US.calls_7_in_7 (7 call attempts per debt in any 7 consecutive days, as
  7 x 24 h sliding), US-MA.calls_2_in_7 and .other_lines_2_in_30, US-MA.visits_per_30_days, and the
  contact spacing of every pack (one collection message per person per 24 h). A new contact must fit
  every window that would contain it, so permits reserved for later instants count as well.
- `frequency_cap`, per local day: CN.connected_calls_per_day, CN.unanswered_per_method_per_day; a day
  is a calendar day in the borrower's zone, and with several zones the busiest one counts.
- `cooldown_after_outcome`: US.conversation_cooldown (no call within 7 days after a telephone
  conversation, whoever called whom, the conversation day being day 1: calls reopen at local
  midnight of day 8).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from compliance.domain.localtime import BlockedUntilLocal, TimeConstraint, local_date
from compliance.domain.model import AccountState, Attempt, Reason
from compliance.domain.packs import CooldownRule, FrequencyCapRule
from compliance.domain.rules.base import PASS, Context, RuleOutcome, line_type, reason


def counted_attempts(
    rule: FrequencyCapRule | CooldownRule,
    attempts: Iterable[Attempt],
    *,
    state: AccountState,
    contact_point_id: str | None,
) -> list[Attempt]:
    """The debtor attempts a rule counts, within its scope (an unknown contact point counts them all;
    an attempt to a phone of unknown line type counts under every line-type cap)."""
    lines = rule.line_types if isinstance(rule, FrequencyCapRule) else None
    purposes = rule.counted_purposes
    return [
        attempt
        for attempt in attempts
        if attempt.recipient == "debtor"
        and attempt.channel in rule.counted_channels
        and attempt.outcome in rule.counted_outcomes
        and attempt.direction in rule.counted_directions
        and (purposes is None or (attempt.purpose or "collection") in purposes)
        and (rule.scope != "account" or attempt.account_id == state.account_id)
        and (rule.scope != "contact_point" or contact_point_id in (None, attempt.contact_point_id))
        and (lines is None or line_type(state, attempt.contact_point_id) in (None, *lines))
    ]


def cap_governs(rule: FrequencyCapRule, ctx: Context) -> bool:
    """A line-type cap governs a request to a phone of those line types (or of an unknown one)."""
    if rule.line_types is None:
        return True
    return line_type(ctx.state, ctx.request.contact_point_id) in (None, *rule.line_types)


@dataclass(frozen=True, slots=True)
class RollingCap:
    """Blocks an instant `t` when some window of length `span` containing `t` already holds `limit`
    attempts (a contact at `t` would make one too many there)."""

    times: tuple[datetime, ...]  # sorted
    span: timedelta
    limit: int
    reason: Reason

    def busiest(self, t: datetime) -> int:
        """The most attempts in any window (x - span, x] with t <= x < t + span."""
        ends = [t, *(a for a in self.times if t <= a < t + self.span)]
        return max(sum(1 for a in self.times if x - self.span < a <= x) for x in ends)

    def blocks(self, t: datetime) -> bool:
        return self.busiest(t) >= self.limit

    def opens_at(self, t: datetime) -> datetime:
        # The busiest count only changes where an attempt enters or leaves a window edge.
        edges = (edge for a in self.times for edge in (a - self.span, a, a + self.span) if edge > t)
        return min(edges, default=t + self.span)

    def closes_at(self, t: datetime) -> datetime | None:
        return None  # the permit granted at `t` is itself reserved, so the window cannot fill behind it


@dataclass(frozen=True, slots=True)
class LocalDayCap:
    """Blocks every instant of a local calendar day in `zone` that already holds `limit` attempts."""

    zone: ZoneInfo
    times: tuple[datetime, ...]
    limit: int
    reason: Reason

    def on_day_of(self, t: datetime) -> int:
        day = local_date(t, self.zone)
        return sum(1 for a in self.times if local_date(a, self.zone) == day)

    def blocks(self, t: datetime) -> bool:
        return self.on_day_of(t) >= self.limit

    def opens_at(self, t: datetime) -> datetime:
        midnight = datetime.combine(local_date(t, self.zone) + timedelta(days=1), time.min)
        return BlockedUntilLocal(self.zone, midnight, self.reason).opens_at(t)

    def closes_at(self, t: datetime) -> datetime | None:
        return None


def _first_open(constraint: TimeConstraint, t: datetime) -> datetime:
    for _ in range(1_000):
        if not constraint.blocks(t):
            return t
        t = constraint.opens_at(t)
    return t


def check_frequency_cap(rule: FrequencyCapRule, ctx: Context) -> RuleOutcome:
    if not cap_governs(rule, ctx):
        return PASS
    attempts = counted_attempts(
        rule, ctx.attempts, state=ctx.state, contact_point_id=ctx.request.contact_point_id
    )
    times = tuple(sorted(attempt.at for attempt in attempts))
    counted = "/".join(rule.counted_outcomes)
    if rule.window != "local_day":
        placeholder = reason(rule, "")
        cap = RollingCap(times, rule.span, rule.limit, placeholder)
        if not cap.blocks(ctx.at):
            return PASS
        reopens = _first_open(cap, ctx.at)
        message = (
            f"{cap.busiest(ctx.at)} attempts ({counted}) in a window of {_span(rule)} around this one, "
            f"limit {rule.limit} per {rule.scope}; reopens {reopens.isoformat()}"
        )
        return RuleOutcome(constraints=(RollingCap(times, rule.span, rule.limit, reason(rule, message)),))
    constraints: list[TimeConstraint] = []
    for zone in ctx.zones:
        cap_of_day = LocalDayCap(zone, times, rule.limit, reason(rule, ""))
        if cap_of_day.blocks(ctx.at):
            message = (
                f"{cap_of_day.on_day_of(ctx.at)} attempts ({counted}) today in {zone.key}, limit "
                f"{rule.limit} per {rule.scope} per local day; resets at local midnight"
            )
            constraints.append(LocalDayCap(zone, times, rule.limit, reason(rule, message)))
    return RuleOutcome(constraints=tuple(constraints))


def _span(rule: FrequencyCapRule) -> str:
    return f"{rule.hours} hours" if rule.hours is not None else f"{rule.days} days"


def rolling_window(rule: FrequencyCapRule, attempts: Sequence[Attempt], at: datetime) -> list[datetime]:
    """Instants of counted attempts in (at - span, at + span), oldest first: every window around `at`."""
    return sorted(a.at for a in attempts if at - rule.span < a.at < at + rule.span)


def same_local_day(attempts: Sequence[Attempt], at: datetime, zone: ZoneInfo) -> int:
    today = local_date(at, zone)
    return sum(1 for attempt in attempts if local_date(attempt.at, zone) == today)


def cooldown_reopens(rule: CooldownRule, attempts: Sequence[Attempt], zone: ZoneInfo) -> datetime | None:
    """Local midnight starting day `days + 1` after the latest triggering attempt (naive, in `zone`)."""
    if not attempts:
        return None
    last_day = max(local_date(attempt.at, zone) for attempt in attempts)
    return datetime.combine(last_day + timedelta(days=rule.days), time.min)


def check_cooldown(rule: CooldownRule, ctx: Context) -> RuleOutcome:
    attempts = counted_attempts(
        rule, ctx.past, state=ctx.state, contact_point_id=ctx.request.contact_point_id
    )
    constraints: list[TimeConstraint] = []
    for zone in ctx.zones:
        reopens = cooldown_reopens(rule, attempts, zone)
        if reopens is None:
            continue
        day_one = (reopens - timedelta(days=rule.days)).date()
        message = (
            f"{'/'.join(rule.counted_outcomes)} on {day_one.isoformat()} (day 1, {zone.key}): "
            f"none until day {rule.days + 1}, {reopens.date().isoformat()}"
        )
        constraint = BlockedUntilLocal(zone, reopens, reason(rule, message))
        if constraint.blocks(ctx.at):
            constraints.append(constraint)
    return RuleOutcome(constraints=tuple(constraints))
