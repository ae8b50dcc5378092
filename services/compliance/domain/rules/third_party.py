"""Third parties: who may be contacted, why, how often, never after they refuse, and (CN) only when the
debtor cannot be reached, a state that follows from the ledger by the pack's documented rule."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from compliance.domain.model import AccountState, Attempt
from compliance.domain.packs import ThirdPartyRule, Unreachability
from compliance.domain.rules.base import PASS, Context, RuleOutcome, deny

# Outcomes that mean the debtor was reached (a delivered message, a call someone answered).
REACHED = frozenset({"delivered", "connected", "conversation", "met_promise", "met_paid", "met_refused"})
# Outcomes that mean this contact point does not reach the debtor at all.
DEAD = frozenset({"wrong_number", "bounced"})
FAILED = frozenset({"no_answer", "busy", "failed", "voicemail", "bounced", "wrong_number"})


def debtor_unreachable(
    state: AccountState, attempts: Sequence[Attempt], at: datetime, rule: Unreachability
) -> bool:
    """True when the debtor cannot be reached, by `rule` (see `Unreachability`), as of `at`."""
    since = at - timedelta(days=rule.days)
    points = [cp for cp, consent in state.consents.items() if consent.kind in ("phone", "email", None)]
    mine = [a for a in attempts if a.recipient == "debtor" and a.at <= at and a.outcome != "reserved"]
    if any(a.outcome in REACHED and a.at > since for a in mine):
        return False
    for point in points:
        tried = [a for a in mine if a.contact_point_id == point]
        if tried and tried[-1].outcome in DEAD:
            continue
        failed = sum(1 for a in tried if a.at > since and a.outcome in FAILED)
        if failed < rule.failed_attempts:
            return False
    return True


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
    reach = rule.only_when_debtor_unreachable
    if reach is not None and not debtor_unreachable(state, ctx.attempts, ctx.at, reach):
        problems.append(
            "third parties only when the borrower cannot be reached: every phone and e-mail of theirs "
            f"must have failed {reach.failed_attempts} times (or be a wrong number or bounce) with "
            f"nothing reaching them in the last {reach.days} days"
        )
    return deny(rule, *problems) if problems else PASS
