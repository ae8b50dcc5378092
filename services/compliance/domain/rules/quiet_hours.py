"""Quiet hours: contact only inside the allowed local hours in EVERY candidate zone, and never in a
window the borrower named inconvenient (US.quiet_hours, CN.quiet_hours, GB.reasonable_hours,
US-MA.visit_hours)."""

from __future__ import annotations

from datetime import time

from compliance.domain.localtime import DailyHours, TimeConstraint, WeeklyBlock
from compliance.domain.model import WEEKDAYS
from compliance.domain.packs import QuietHoursRule
from compliance.domain.rules.base import Context, RuleOutcome, deny, reason


def _hhmm(value: time) -> str:
    return "24:00" if value == time.max else value.strftime("%H:%M")


def check_quiet_hours(rule: QuietHoursRule, ctx: Context) -> RuleOutcome:
    if ctx.unknown_zones:
        unknown = ", ".join(ctx.unknown_zones)
        return deny(rule, f"unknown time zone(s) {unknown}: the borrower's local time cannot be placed")
    start, end, label = rule.allowed_from, rule.allowed_until, "permitted hours"
    agreed = ctx.state.agreed_hours
    if rule.borrower_may_agree_other_hours and agreed is not None:
        start, end, label = agreed.start, agreed.end, "hours the borrower agreed to"
    constraints: list[TimeConstraint] = []
    for zone in ctx.zones:
        message = f"outside the {label} {_hhmm(start)}-{_hhmm(end)} local time in {zone.key}"
        constraints.append(DailyHours(zone, start, end, reason(rule, message)))
        if not rule.honour_preferences:
            continue
        for window in ctx.state.preferences:
            days = ",".join(day for day in WEEKDAYS if day in window.weekdays)
            message = (
                f"the borrower named {days} {_hhmm(window.start)}-{_hhmm(window.end)} inconvenient "
                f"(local time in {zone.key})"
            )
            constraints.append(
                WeeklyBlock(zone, window.weekdays, window.start, window.end, reason(rule, message))
            )
    return RuleOutcome(constraints=tuple(constraints))
