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
    message = f"{rule.hold} hold: no {ctx.request.channel} to the {ctx.request.recipient}{route}"
    if rule.hold == "dispute":
        message += _dispute_basis(ctx)
    return deny(rule, message)


def _dispute_basis(ctx: Context) -> str:
    """Whether the law demands the pause (a written dispute inside the validation period the notice
    stated) or house policy does; the pause is the same."""
    dispute, ends = ctx.state.dispute, ctx.state.validation_period_ends
    if dispute is None or ends is None:
        return ""
    if dispute.written and dispute.received_at.date() <= ends:
        return (
            f" (written dispute received within the validation period ending {ends.isoformat()}: "
            "collection stops until verification is mailed)"
        )
    return f" (not a written dispute within the validation period ending {ends.isoformat()}: house policy)"


def check_unrecognised_hold(rule: UnrecognisedHoldRule, ctx: Context) -> RuleOutcome:
    unknown = sorted(set(ctx.state.holds) - set(HOLDS))
    if not unknown:
        return PASS
    return deny(rule, f"hold(s) {', '.join(unknown)} not recognised: no contact until reviewed")


def check_channel_opt_out(rule: ChannelOptOutRule, ctx: Context) -> RuleOutcome:
    if ctx.request.channel not in ctx.state.channel_opt_outs:
        return PASS
    return deny(rule, f"the borrower opted out of {ctx.request.channel}")
