"""Prometheus counters of compliance's permit decisions: how many by outcome, and the rules they named.

`count_decision` is called once per decision after it is taken; it costs a counter increment per
outcome and per rule named, nothing more (the decision path is throughput-bound).
"""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client import Counter

PERMIT_DECISIONS = Counter(
    "permit_decisions_total", "Permit decisions by outcome (allow, deny, defer)", ["outcome"]
)
# A decision names every rule that denied or deferred it, so these add up to more than the decisions.
PERMIT_DECISION_RULES = Counter(
    "permit_decision_rules_total", "Rules named by permit decisions' reasons, by outcome", ["outcome", "rule"]
)


def count_decision(outcome: str, rules: Iterable[str]) -> None:
    """Count one permit decision with `outcome` and each rule its reasons name (e.g. `US.quiet_hours`)."""
    PERMIT_DECISIONS.labels(outcome).inc()
    for rule in rules:
        PERMIT_DECISION_RULES.labels(outcome, rule).inc()
