"""Dry runs: the same decision as the permit flow, recording nothing, and, when the caller names no
contact point (or no third party), one decision per known one with the best of them overall."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from compliance.domain.model import Decision, PermitRequest

# Which kind of contact point a channel uses.
POINT_KINDS = {
    "sms": "phone",
    "voice_call": "phone",
    "email": "email",
    "letter": "address",
    "visit": "address",
}
_RANK = {"allow": 0, "defer": 1, "deny": 2}
_NEVER = datetime.max.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Target:
    """One contact point of the debtor, or one third party, a dry run was evaluated for."""

    kind: str
    contact_point_id: str | None = None
    third_party_id: str | None = None
    relationship: str | None = None


def targets(request: PermitRequest, borrower: Any) -> list[Target]:
    """What to evaluate one by one: nothing when the request names its contact point or third party."""
    if request.recipient == "third_party":
        if request.third_party_id is not None:
            return []
        return [
            Target(
                kind="third_party",
                third_party_id=person,
                contact_point_id=known.get("phone_id") if request.channel in ("sms", "voice_call") else None,
                relationship=known.get("relationship"),
            )
            for person, known in sorted(borrower.third_parties.items())
        ]
    kind = POINT_KINDS.get(request.channel)
    if request.contact_point_id is not None or kind is None:
        return []
    return [
        Target(kind=kind, contact_point_id=point)
        for point, known in sorted(borrower.consents.items())
        if known.get("kind") == kind
    ]


def aimed_at(request: PermitRequest, target: Target) -> PermitRequest:
    return replace(request, contact_point_id=target.contact_point_id, third_party_id=target.third_party_id)


def best(decisions: list[Decision]) -> Decision:
    """The overall answer: allowed if any target is; else the earliest deferral; else every denial."""
    top = min(decisions, key=lambda d: (_RANK[d.outcome], (d.not_before or _NEVER).timestamp()))
    if top.outcome != "deny":
        return top
    reasons = list(dict.fromkeys(r for d in decisions for r in d.reasons))
    rules = list(dict.fromkeys(rule for d in decisions for rule in d.evaluated_rules))
    return replace(top, reasons=reasons, evaluated_rules=rules)
