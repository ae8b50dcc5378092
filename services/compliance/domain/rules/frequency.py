"""Frequency caps and cooldowns over the contact ledger.

- `frequency_cap`, rolling: US.calls_7_in_7 (7 call attempts per debt in any 7 consecutive days,
  as 7 x 24 h sliding), US-MA.calls_2_in_7, US-MA.visits_per_30_days.
- `frequency_cap`, per local day: CN.connected_calls_per_day, CN.unanswered_per_method_per_day; a day
  is a calendar day in the borrower's zone, and with several zones the busiest one counts.
- `cooldown_after_outcome`: US.conversation_cooldown (no call within 7 days after a telephone
  conversation, the conversation day being day 1: calls reopen at local midnight of day 8).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from compliance.domain.localtime import BlockedUntil, BlockedUntilLocal, TimeConstraint, local_date
from compliance.domain.model import Attempt
from compliance.domain.packs import CooldownRule, FrequencyCapRule
from compliance.domain.rules.base import PASS, Context, RuleOutcome, reason


def counted_attempts(
    rule: FrequencyCapRule | CooldownRule,
    attempts: Iterable[Attempt],
    *,
    account_id: str,
    contact_point_id: str | None,
) -> list[Attempt]:
    """The debtor attempts a rule counts, within its scope (an unknown contact point counts them all)."""
    return [
        attempt
        for attempt in attempts
        if attempt.recipient == "debtor"
        and attempt.channel in rule.counted_channels
        and attempt.outcome in rule.counted_outcomes
        and (rule.scope != "account" or attempt.account_id == account_id)
        and (rule.scope != "contact_point" or contact_point_id in (None, attempt.contact_point_id))
    ]


def rolling_window(rule: FrequencyCapRule, attempts: Sequence[Attempt], at: datetime) -> list[datetime]:
    """Instants of counted attempts in (at - days, at], oldest first."""
    start = at - timedelta(days=rule.days)
    return sorted(attempt.at for attempt in attempts if start < attempt.at <= at)


def same_local_day(attempts: Sequence[Attempt], at: datetime, zone: ZoneInfo) -> int:
    today = local_date(at, zone)
    return sum(1 for attempt in attempts if local_date(attempt.at, zone) == today)


def check_frequency_cap(rule: FrequencyCapRule, ctx: Context) -> RuleOutcome:
    attempts = counted_attempts(
        rule, ctx.attempts, account_id=ctx.request.account_id, contact_point_id=ctx.request.contact_point_id
    )
    counted = "/".join(rule.counted_outcomes)
    if rule.window == "rolling_days":
        window = rolling_window(rule, attempts, ctx.at)
        if len(window) < rule.limit:
            return PASS
        # The window drains when enough of its oldest attempts are `days` old.
        reopens = window[len(window) - rule.limit] + timedelta(days=rule.days)
        message = (
            f"{len(window)} attempts ({counted}) in the last {rule.days} days, limit {rule.limit} per "
            f"{rule.scope}; reopens {reopens.isoformat()}"
        )
        return RuleOutcome(constraints=(BlockedUntil(reopens, reason(rule, message)),))
    constraints: list[TimeConstraint] = []
    for zone in ctx.zones:
        today = same_local_day(attempts, ctx.at, zone)
        if today >= rule.limit:
            midnight = datetime.combine(local_date(ctx.at, zone) + timedelta(days=1), time.min)
            message = (
                f"{today} attempts ({counted}) today in {zone.key}, limit {rule.limit} per {rule.scope} "
                "per local day; resets at local midnight"
            )
            constraints.append(BlockedUntilLocal(zone, midnight, reason(rule, message)))
    return RuleOutcome(constraints=tuple(constraints))


def cooldown_reopens(rule: CooldownRule, attempts: Sequence[Attempt], zone: ZoneInfo) -> datetime | None:
    """Local midnight starting day `days + 1` after the latest triggering attempt (naive, in `zone`)."""
    if not attempts:
        return None
    last_day = max(local_date(attempt.at, zone) for attempt in attempts)
    return datetime.combine(last_day + timedelta(days=rule.days), time.min)


def check_cooldown(rule: CooldownRule, ctx: Context) -> RuleOutcome:
    attempts = counted_attempts(
        rule, ctx.attempts, account_id=ctx.request.account_id, contact_point_id=ctx.request.contact_point_id
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
