"""What the state API shows of the ledger: counts per rule window, whether the debtor counts as
unreachable, and when the validation notice is due."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime

from compliance.domain.localtime import wall_clock
from compliance.domain.model import AccountState, Attempt, Ledger, Reason
from compliance.domain.packs import (
    CooldownRule,
    FrequencyCapRule,
    Pack,
    ThirdPartyRule,
    ValidationNoticeRule,
)
from compliance.domain.rules.base import borrower_attempts, resolve_zones
from compliance.domain.rules.frequency import RollingCap, cooldown_reopens, counted_attempts, same_local_day
from compliance.domain.rules.third_party import debtor_unreachable
from compliance.domain.rules.validation import notice_due

_NO_REASON = Reason(rule="", message="", citation="")


def ledger_counts(state: AccountState, ledger: Ledger, at: datetime, *, pack: Pack) -> dict[str, int]:
    """For every frequency rule of `pack`: what it counts at `at` for this account.

    Rolling caps report the busiest window around `at` (reserved permits included), per-day caps the
    busiest candidate zone, per-contact-point caps the busiest contact point, cooldowns the number of
    triggering attempts whose cooldown is still running.
    """
    at = at.astimezone(UTC)
    zones, _ = resolve_zones(state.timezones or pack.default_timezones)
    attempts = borrower_attempts(ledger, state.borrower_id)
    counts: dict[str, int] = {}
    for rule in pack.rules:
        if isinstance(rule, FrequencyCapRule):
            mine = counted_attempts(rule, attempts, state=state, contact_point_id=None)
            groups: dict[str | None, list[Attempt]] = defaultdict(list)
            for attempt in mine:
                groups[attempt.contact_point_id if rule.scope == "contact_point" else None].append(attempt)
            counts[rule.id] = max(
                (
                    max((same_local_day(group, at, zone) for zone in zones), default=0)
                    if rule.window == "local_day"
                    else RollingCap(tuple(a.at for a in group), rule.span, rule.limit, _NO_REASON).busiest(at)
                    for group in groups.values()
                ),
                default=0,
            )
        elif isinstance(rule, CooldownRule):
            past = [a for a in attempts if a.at <= at]
            mine = counted_attempts(rule, past, state=state, contact_point_id=None)
            running = {
                attempt
                for zone in zones
                for attempt in mine
                if (reopens := cooldown_reopens(rule, [attempt], zone)) and wall_clock(at, zone) < reopens
            }
            counts[rule.id] = len(running)
    return counts


def unreachable(state: AccountState, ledger: Ledger, at: datetime, *, pack: Pack) -> bool | None:
    """Whether the pack's third-party rule counts the debtor as unreachable now (None: no such rule)."""
    for rule in pack.rules:
        if isinstance(rule, ThirdPartyRule) and rule.only_when_debtor_unreachable is not None:
            attempts = borrower_attempts(ledger, state.borrower_id)
            return debtor_unreachable(state, attempts, at.astimezone(UTC), rule.only_when_debtor_unreachable)
    return None


def validation_notice_due(state: AccountState, pack: Pack) -> datetime | None:
    """When the validation notice falls due, if the pack requires one and it is still unsent."""
    for rule in pack.rules:
        if isinstance(rule, ValidationNoticeRule):
            return notice_due(rule, state)
    return None
