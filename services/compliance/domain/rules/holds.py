"""Holds and opt-outs: a dispute, cease, attorney, bankruptcy, death, closure or a flag stops contact."""

from __future__ import annotations

from compliance.domain.model import HOLDS
from compliance.domain.packs import ChannelOptOutRule, HoldRule, UnrecognisedHoldRule
from compliance.domain.rules.base import PASS, Context, RuleOutcome, deny

_ROUTES = {
    "attorney": "; contact must go to the borrower's attorney",
    "review": "; route the account to review",
}


def check_hold(rule: HoldRule, ctx: Context) -> RuleOutcome:
    if rule.hold not in ctx.state.holds:
        return PASS
    if any(match.matches(ctx.request) for match in rule.exempt):
        return PASS
    route = _ROUTES[rule.route_to] if rule.route_to else ""
    return deny(rule, f"{rule.hold} hold: no {ctx.request.channel} to the {ctx.request.recipient}{route}")


def check_unrecognised_hold(rule: UnrecognisedHoldRule, ctx: Context) -> RuleOutcome:
    unknown = sorted(set(ctx.state.holds) - set(HOLDS))
    if not unknown:
        return PASS
    return deny(rule, f"hold(s) {', '.join(unknown)} not recognised: no contact until reviewed")


def check_channel_opt_out(rule: ChannelOptOutRule, ctx: Context) -> RuleOutcome:
    if ctx.request.channel not in ctx.state.channel_opt_outs:
        return PASS
    return deny(rule, f"the borrower opted out of {ctx.request.channel}")
