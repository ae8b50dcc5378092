"""Third parties: who may be contacted, why, how often, and never after they refuse."""

from __future__ import annotations

from compliance.domain.packs import ThirdPartyRule
from compliance.domain.rules.base import PASS, Context, RuleOutcome, deny


def check_third_party(rule: ThirdPartyRule, ctx: Context) -> RuleOutcome:
    request, state = ctx.request, ctx.state
    person = request.third_party_id
    if person is None:
        return deny(rule, "a third-party contact must name the third party (third_party_id)")
    problems = []
    if person in state.refused_third_parties:
        problems.append("this third party refused contact and is never contacted again")
    if request.purpose not in rule.purposes:
        allowed = ", ".join(rule.purposes) or "no purpose at all"
        problems.append(f"third parties may be contacted only for: {allowed} (not {request.purpose})")
    if rule.channels and request.channel not in rule.channels:
        problems.append(f"no {request.channel} to a third party")
    if rule.once_per_person and person in state.contacted_third_parties:
        problems.append("this third party was already contacted once")
    if rule.only_when_debtor_unreachable and not state.debtor_unreachable:
        problems.append("third parties only when the borrower cannot be reached")
    return deny(rule, *problems) if problems else PASS
