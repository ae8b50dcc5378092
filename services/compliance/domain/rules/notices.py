"""Notices: which channels a notice may use, and contacts that need a delivered notice first
(GB.forbearance_before_escalation, GB.visit_notice)."""

from __future__ import annotations

from datetime import timedelta

from compliance.domain.localtime import BlockedUntil
from compliance.domain.packs import PurposeChannelsRule, RequiresNoticeRule
from compliance.domain.rules.base import PASS, Context, RuleOutcome, deny, reason


def check_purpose_channels(rule: PurposeChannelsRule, ctx: Context) -> RuleOutcome:
    purpose = ctx.request.purpose
    if purpose not in rule.purposes or ctx.request.channel in rule.channels:
        return PASS
    return deny(
        rule,
        f"a {purpose.replace('_', ' ')} goes only by {' or '.join(rule.channels)}, not {ctx.request.channel}",
    )


def check_requires_notice(rule: RequiresNoticeRule, ctx: Context) -> RuleOutcome:
    what = rule.notice.replace("_", " ")
    sent = ctx.state.notices.get(rule.notice)
    if sent is None or sent > ctx.at:
        return deny(rule, f"no {what} has been delivered: send one first")
    if rule.max_days is not None and ctx.at - sent > timedelta(days=rule.max_days):
        return deny(
            rule,
            f"the last {what} was delivered {sent.isoformat()}, over {rule.max_days} days ago: send anew",
        )
    ready = sent + timedelta(hours=rule.min_hours)
    if ctx.at >= ready:
        return PASS
    message = f"the {what} was delivered {sent.isoformat()}; at least {rule.min_hours} hours must pass"
    return RuleOutcome(constraints=(BlockedUntil(ready, reason(rule, message)),))
