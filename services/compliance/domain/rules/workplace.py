"""The place of employment: once the borrower asked, no calls or texts to a work line and no visits at
a work address (US-MA.no_contact_at_work)."""

from __future__ import annotations

from compliance.domain.packs import WorkplaceRule
from compliance.domain.rules.base import PASS, Context, RuleOutcome, deny


def check_workplace(rule: WorkplaceRule, ctx: Context) -> RuleOutcome:
    if not ctx.state.no_work_contact:
        return PASS
    point = ctx.request.contact_point_id
    consent = ctx.state.consents.get(point) if point else None
    if consent is None:
        return deny(rule, "the borrower asked not to be contacted at work, and this contact point is unknown")
    if consent.line_type == "work" or consent.place == "work":
        return deny(
            rule, "the borrower asked not to be contacted at work, and this is a work line or address"
        )
    return PASS
