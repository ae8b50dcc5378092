"""Replaying stored decisions: each one decided again from its snapshot against the pack versions it
names, and optionally against today's packs ("what would today's rules have said?").

A decision that comes out differently against its own versions is a bug (the engine is meant to be
a pure function of what it saw); one whose snapshot no longer hashes to what its audit entry kept
was altered after the fact. Against today's packs a difference is news, reported by rule.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

import orjson

from compliance.audit_store import snapshot_recorded
from compliance.domain.engine import evaluate
from compliance.domain.model import Decision
from compliance.domain.packs import Pack, PackArchive, PackError, pack_for
from compliance.domain.version import ENGINE
from compliance.views import restore

Status = Literal["same", "differs", "provisional", "unreplayable"]
# The fields of a decision that replay compares.
COMPARED = ("outcome", "reasons", "not_before", "expires_at", "policy", "evaluated_rules")


def answer_of(decision: Decision) -> dict[str, Any]:
    """A decision's comparable fields (instants as datetimes: equal instants in other offsets match)."""
    return {
        "outcome": decision.outcome,
        "reasons": [{"rule": r.rule, "message": r.message, "citation": r.citation} for r in decision.reasons],
        "not_before": decision.not_before,
        "expires_at": decision.expires_at,
        "policy": decision.policy,
        "evaluated_rules": list(decision.evaluated_rules),
    }


def recorded_answer(row: Any) -> dict[str, Any]:
    return {
        "outcome": row.outcome,
        "reasons": list(row.reasons),
        "not_before": row.not_before,
        "expires_at": row.expires_at,
        "policy": row.policy,
        "evaluated_rules": list(row.evaluated_rules),
    }


@dataclass(frozen=True)
class Against:
    """The same inputs decided by today's pack: what changed, by rule."""

    policy: str
    outcome: str
    rules: list[str]
    outcome_changed: bool
    rules_added: list[str]
    rules_dropped: list[str]


@dataclass(frozen=True)
class Replayed:
    permit_id: str
    decided_at: datetime
    status: Status
    recorded: dict[str, Any]
    replayed: dict[str, Any] | None = None
    differences: list[str] = field(default_factory=list)
    # The snapshot hashes to what its audit entry kept (None: no entry names it, e.g. older ones).
    snapshot_verified: bool | None = None
    engine: str | None = None  # the engine that decided (None: recorded before engines were)
    engine_changed: bool = False
    problem: str | None = None
    current: Against | None = None


def _rules(answer: dict[str, Any]) -> list[str]:
    return list(dict.fromkeys(r["rule"] for r in answer["reasons"]))


def snapshot_check(row: Any, entry: Any | None) -> tuple[bool | None, str | None]:
    """Whether the stored snapshot is the one the audit entry recorded, and why not."""
    if entry is None:
        return None, None
    if hashlib.sha256(entry.content.encode()).hexdigest() != entry.content_sha256:
        return False, "the decision's audit entry does not match its digest"
    content = orjson.loads(entry.content)
    if content.get("permit_id") != str(row.permit_id):
        return False, "the audit entry found for the decision is about another one"
    recorded = snapshot_recorded(content, row.snapshot)
    if recorded is False:
        return False, "the stored snapshot is not the one the audit entry recorded"
    return recorded, None


def replay(
    row: Any,
    archive: PackArchive,
    *,
    entry: Any | None = None,
    current: dict[str, Pack] | None = None,
    default_ttl: timedelta,
) -> Replayed:
    """One stored decision (a `compliance.decisions` row) decided again. `entry` is its audit entry,
    `current` today's packs when the caller also asks what they would say."""
    recorded = recorded_answer(row)
    base = {"permit_id": str(row.permit_id), "decided_at": row.decided_at, "recorded": recorded}
    verified, problem = snapshot_check(row, entry)
    if problem is not None:
        return Replayed(**base, status="unreplayable", snapshot_verified=False, problem=problem)
    snap = row.snapshot
    if row.policy == "none" or snap.get("state") is None:
        # Deferred before the engine ran (compliance had not read the account's state yet).
        return Replayed(**base, status="provisional", snapshot_verified=verified)
    versions = snap.get("versions") or {}
    engine = versions.get("engine")
    try:
        pack = archive.by_tag(row.policy)
    except PackError as error:
        return Replayed(
            **base, status="unreplayable", snapshot_verified=verified, engine=engine, problem=str(error)
        )
    for name, digest in (versions.get("packs") or {}).items():
        if pack.hashes.get(name) != digest:
            problem = f"pack file {name} is not the one that decided (its hash changed)"
            return Replayed(
                **base, status="unreplayable", snapshot_verified=verified, engine=engine, problem=problem
            )
    request, state, ledger = restore(snap)
    ttl = timedelta(seconds=versions["permit_ttl_s"]) if "permit_ttl_s" in versions else default_ttl
    again = answer_of(evaluate(request, state, ledger, pack, permit_ttl=ttl))
    differences = [key for key in COMPARED if again[key] != recorded[key]]
    today = None
    if current is not None:
        now = answer_of(
            evaluate(request, state, ledger, current[pack_for(state.jurisdiction)], permit_ttl=ttl)
        )
        then_rules, now_rules = _rules(recorded), _rules(now)
        today = Against(
            policy=now["policy"],
            outcome=now["outcome"],
            rules=now_rules,
            outcome_changed=now["outcome"] != recorded["outcome"],
            rules_added=[r for r in now_rules if r not in then_rules],
            rules_dropped=[r for r in then_rules if r not in now_rules],
        )
    return Replayed(
        **base,
        status="differs" if differences else "same",
        replayed=again,
        differences=differences,
        snapshot_verified=verified,
        engine=engine,
        engine_changed=engine is not None and engine != ENGINE,
        current=today,
    )


@dataclass
class Summary:
    """A run of replays, counted: what a compliance officer reads first."""

    KEEP = 100  # differing and unreplayable decisions listed in full (all are counted)

    replayed: int = 0
    same: int = 0
    provisional: int = 0
    differs: int = 0
    unreplayable: int = 0
    snapshots_verified: int = 0
    engine_changed: int = 0
    differing: list[Replayed] = field(default_factory=list)
    failed: list[Replayed] = field(default_factory=list)
    # decisions replayed whose snapshot no audit entry vouches for (permit ids, the first KEEP)
    unproven: list[str] = field(default_factory=list)
    # against today's packs: decisions whose outcome would change, and the rules added or dropped
    changed_today: int = 0
    by_rule: dict[str, dict[str, int]] = field(default_factory=dict)

    def add(self, result: Replayed) -> None:
        self.replayed += 1
        self.snapshots_verified += result.snapshot_verified is True
        if result.snapshot_verified is None and len(self.unproven) < self.KEEP:
            self.unproven.append(result.permit_id)
        self.engine_changed += result.engine_changed
        if result.status == "same":
            self.same += 1
        elif result.status == "provisional":
            self.provisional += 1
        elif result.status == "differs":
            self.differs += 1
            if len(self.differing) < self.KEEP:
                self.differing.append(result)
        else:
            self.unreplayable += 1
            if len(self.failed) < self.KEEP:
                self.failed.append(result)
        today = result.current
        if today is None:
            return
        self.changed_today += today.outcome_changed
        for rule in today.rules_added:
            self.by_rule.setdefault(rule, {"added": 0, "dropped": 0})["added"] += 1
        for rule in today.rules_dropped:
            self.by_rule.setdefault(rule, {"added": 0, "dropped": 0})["dropped"] += 1
