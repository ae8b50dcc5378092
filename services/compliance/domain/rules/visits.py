"""Field visits: tenant enablement, crew size, recording and identification (hours and caps live in
quiet_hours.py and frequency.py)."""

from __future__ import annotations

from compliance.domain.packs import VisitRule
from compliance.domain.rules.base import PASS, Context, RuleOutcome, deny


def check_visit(rule: VisitRule, ctx: Context) -> RuleOutcome:
    request = ctx.request
    problems = []
    if request.recipient != "debtor":
        problems.append("visits are made to the borrower only")
    if rule.requires_tenant_opt_in and not ctx.state.tenant_allows_visits:
        problems.append("field visits are off for this tenant")
    if rule.min_crew is not None and (request.crew_size or 0) < rule.min_crew:
        problems.append(f"a visit needs a crew of at least {rule.min_crew} (crew: {request.crew_size})")
    if rule.require_recording and request.recording is not True:
        problems.append("audio/video recording must be on for the whole visit")
    if rule.require_id_shown and request.id_shown is not True:
        problems.append("the crew must show identification")
    return deny(rule, *problems) if problems else PASS
