"""What the state API shows of the ledger: counts per rule window, and when the validation notice is due."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime

from compliance.domain.localtime import wall_clock
from compliance.domain.model import AccountState, Attempt, Ledger
from compliance.domain.packs import CooldownRule, FrequencyCapRule, Pack, ValidationNoticeRule
from compliance.domain.rules.base import attempts_as_of, resolve_zones
from compliance.domain.rules.frequency import (
    cooldown_reopens,
    counted_attempts,
    rolling_window,
    same_local_day,
)
from compliance.domain.rules.validation import notice_due


def ledger_counts(state: AccountState, ledger: Ledger, at: datetime, *, pack: Pack) -> dict[str, int]:
    """For every frequency rule of `pack`: what it counts at `at` for this account.

    Per-day caps report the busiest candidate zone, per-contact-point caps the busiest contact point,
    cooldowns the number of triggering attempts whose cooldown is still running.
    """
    at = at.astimezone(UTC)
    zones, _ = resolve_zones(state.timezones or pack.default_timezones)
    attempts = attempts_as_of(ledger, state.borrower_id, at)
    counts: dict[str, int] = {}
    for rule in pack.rules:
        if isinstance(rule, FrequencyCapRule):
            mine = counted_attempts(rule, attempts, account_id=state.account_id, contact_point_id=None)
            groups: dict[str | None, list[Attempt]] = defaultdict(list)
            for attempt in mine:
                groups[attempt.contact_point_id if rule.scope == "contact_point" else None].append(attempt)
            counts[rule.id] = max(
                (
                    len(rolling_window(rule, group, at))
                    if rule.window == "rolling_days"
                    else max((same_local_day(group, at, zone) for zone in zones), default=0)
                    for group in groups.values()
                ),
                default=0,
            )
        elif isinstance(rule, CooldownRule):
            mine = counted_attempts(rule, attempts, account_id=state.account_id, contact_point_id=None)
            running = {
                attempt
                for zone in zones
                for attempt in mine
                if (reopens := cooldown_reopens(rule, [attempt], zone)) and wall_clock(at, zone) < reopens
            }
            counts[rule.id] = len(running)
    return counts


def validation_notice_due(state: AccountState, pack: Pack) -> datetime | None:
    """When the validation notice falls due, if the pack requires one and it is still unsent."""
    for rule in pack.rules:
        if isinstance(rule, ValidationNoticeRule):
            return notice_due(rule, state)
    return None
