"""Replay decides a stored decision again from its snapshot, against the pack versions it names: the
same answer for an untouched one, and a clear verdict for every way it can go wrong (an altered
record, a snapshot its audit entry disowns, a pack file that changed, a version not kept)."""

from __future__ import annotations

import hashlib
import shutil
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import orjson
import pytest

from compliance.audit_store import snapshot_sha256
from compliance.decisions import recorded_versions
from compliance.domain.audit import canonical_json
from compliance.domain.engine import evaluate
from compliance.domain.packs import POLICY_DIR, PackArchive, load_all
from compliance.domain.version import ENGINE, fingerprint
from compliance.replay import Summary, replay
from compliance.views import snapshot
from tests.unit.compliance.builders import NEW_YORK, SHANGHAI, attempt, ledger, local, request, state

pytestmark = pytest.mark.unit

TTL = timedelta(minutes=15)
ARCHIVE = PackArchive()


def stored(jurisdiction: str, at: datetime, *attempts: Any, policies: Path = POLICY_DIR) -> SimpleNamespace:
    """A decision as compliance stores it: decided, its snapshot through JSON (as JSONB gives it back)."""
    pack = load_all(policies)[jurisdiction]
    req, account, seen = request(at), state(jurisdiction), ledger(*attempts)
    decision = evaluate(req, account, seen, pack, permit_ttl=TTL)
    snap = {**snapshot(req, account, seen), "versions": recorded_versions(pack, TTL)}
    return SimpleNamespace(
        permit_id=uuid.uuid4(),
        tenant="t1",
        decided_at=datetime(2026, 12, 4, tzinfo=UTC),
        outcome=decision.outcome,
        reasons=[{"rule": r.rule, "message": r.message, "citation": r.citation} for r in decision.reasons],
        not_before=decision.not_before.astimezone(UTC) if decision.not_before else None,
        expires_at=decision.expires_at.astimezone(UTC) if decision.expires_at else None,
        policy=decision.policy,
        evaluated_rules=list(decision.evaluated_rules),
        snapshot=orjson.loads(orjson.dumps(snap)),
    )


def entry_for(row: SimpleNamespace, snap: dict[str, Any] | None = None) -> SimpleNamespace:
    content = canonical_json(
        {"permit_id": str(row.permit_id), "snapshot_sha256": snapshot_sha256(snap or row.snapshot)}
    ).decode()
    return SimpleNamespace(content=content, content_sha256=hashlib.sha256(content.encode()).hexdigest())


def test_an_untouched_decision_replays_to_the_same_answer_and_its_snapshot_is_proven() -> None:
    calls = [attempt(local(SHANGHAI, 2026, 12, 4, 9), outcome="connected")]
    for row in (
        stored("US", local(NEW_YORK, 2026, 7, 1, 12)),  # allowed
        stored("US", local(NEW_YORK, 2026, 7, 1, 22)),  # quiet hours: deferred to 08:00
        stored("CN", local(SHANGHAI, 2026, 12, 4, 10), *calls),
    ):
        result = replay(row, ARCHIVE, entry=entry_for(row), default_ttl=timedelta(seconds=1))
        assert (result.status, result.differences, result.snapshot_verified) == ("same", [], True)
        assert result.engine == ENGINE and not result.engine_changed


def test_the_recorded_ttl_is_used_not_todays_setting() -> None:
    row = stored("US", local(NEW_YORK, 2026, 7, 1, 12))
    assert row.outcome == "allow"
    assert replay(row, ARCHIVE, default_ttl=timedelta(hours=5)).status == "same"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("outcome", "deny"),
        ("policy_rules", ["US.quiet_hours"]),
        ("expires_at", datetime(2030, 1, 1, tzinfo=UTC)),
    ],
)
def test_a_stored_answer_the_engine_does_not_give_is_reported_as_differing(field: str, value: Any) -> None:
    row = stored("US", local(NEW_YORK, 2026, 7, 1, 12))
    if field == "policy_rules":
        row.evaluated_rules = value
        field = "evaluated_rules"
    else:
        setattr(row, field, value)
    result = replay(row, ARCHIVE, default_ttl=TTL)
    assert (result.status, result.differences) == ("differs", [field])


def test_a_snapshot_its_audit_entry_disowns_is_not_replayed() -> None:
    row = stored("US", local(NEW_YORK, 2026, 7, 1, 22))
    entry = entry_for(row)
    row.snapshot["state"]["timezones"] = ["Pacific/Honolulu"]  # edited in the table afterwards
    result = replay(row, ARCHIVE, entry=entry, default_ttl=TTL)
    assert (result.status, result.snapshot_verified) == ("unreplayable", False)
    assert result.problem == "the stored snapshot is not the one the audit entry recorded"


def test_an_entry_about_another_decision_or_with_altered_content_proves_nothing() -> None:
    row = stored("US", local(NEW_YORK, 2026, 7, 1, 12))
    other = stored("US", local(NEW_YORK, 2026, 7, 1, 12))
    assert replay(row, ARCHIVE, entry=entry_for(other), default_ttl=TTL).status == "unreplayable"
    entry = entry_for(row)
    entry.content = entry.content.replace("permit_id", "permit_id ")
    assert "digest" in (replay(row, ARCHIVE, entry=entry, default_ttl=TTL).problem or "")


def test_a_pack_file_changed_since_the_decision_is_named(tmp_path: Path) -> None:
    shutil.copytree(POLICY_DIR, tmp_path, dirs_exist_ok=True, ignore=shutil.ignore_patterns("__*"))
    row = stored("US", local(NEW_YORK, 2026, 7, 1, 12), policies=tmp_path)
    kept = tmp_path / "US" / "2026.12.0.yaml"
    kept.write_text(kept.read_text(encoding="utf-8") + "\n# edited in place\n", encoding="utf-8")
    result = replay(row, PackArchive(tmp_path), default_ttl=TTL)
    assert result.status == "unreplayable"
    assert result.problem == "pack file US@2026.12.0 is not the one that decided (its hash changed)"


def test_a_version_that_is_not_kept_is_named() -> None:
    row = stored("US", local(NEW_YORK, 2026, 7, 1, 12))
    row.policy = "US@2025.1.0"
    result = replay(row, ARCHIVE, default_ttl=TTL)
    assert result.status == "unreplayable" and "no such pack version is kept" in (result.problem or "")


def test_a_provisional_deferral_has_nothing_to_replay() -> None:
    row = stored("US", local(NEW_YORK, 2026, 7, 1, 12))
    row.policy, row.snapshot = "none", {"request": {"account_id": "a"}, "state": None, "ledger": []}
    assert replay(row, ARCHIVE, default_ttl=TTL).status == "provisional"


def test_against_todays_packs_the_difference_is_reported_by_rule(tmp_path: Path) -> None:
    """Today's US pack ends the calling day at 20:00 instead of 21:00: a call recorded at 20:30 as
    allowed would now wait, under US.quiet_hours."""
    row = stored("US", local(NEW_YORK, 2026, 7, 1, 20, 30))
    assert row.outcome == "allow"
    shutil.copytree(POLICY_DIR, tmp_path, dirs_exist_ok=True, ignore=shutil.ignore_patterns("__*"))
    old = (tmp_path / "US" / "2026.12.0.yaml").read_text(encoding="utf-8")
    assert 'allowed_until: "21:00"' in old
    new = old.replace('version: "2026.12.0"', 'version: "2026.12.1"').replace(
        'allowed_until: "21:00"', 'allowed_until: "20:00"', 1
    )
    (tmp_path / "US" / "2026.12.1.yaml").write_text(new, encoding="utf-8")
    today = load_all(tmp_path)
    result = replay(row, PackArchive(tmp_path), current=today, default_ttl=TTL)
    assert result.status == "same"  # against its own versions nothing changed
    assert result.current is not None
    assert (result.current.policy, result.current.outcome) == ("US@2026.12.1", "defer")
    assert result.current.outcome_changed
    assert (result.current.rules_added, result.current.rules_dropped) == (["US.quiet_hours"], [])

    summary = Summary()
    summary.add(result)
    summary.add(
        replay(stored("US", local(NEW_YORK, 2026, 7, 1, 12)), ARCHIVE, current=today, default_ttl=TTL)
    )
    assert (summary.replayed, summary.same, summary.changed_today) == (2, 2, 1)
    assert summary.by_rule == {"US.quiet_hours": {"added": 1, "dropped": 0}}


def test_the_engine_version_changes_with_the_code_that_decides(tmp_path: Path) -> None:
    from compliance.domain import version

    root = Path(version.__file__).parent
    copies = []
    for path in version.DECIDING_SOURCES:
        copy = tmp_path / path.relative_to(root)
        copy.parent.mkdir(parents=True, exist_ok=True)
        copy.write_bytes(path.read_bytes())
        copies.append(copy)
    assert ENGINE.endswith(fingerprint()[:12])
    assert fingerprint(tuple(copies), root=tmp_path) == fingerprint()
    rule = tmp_path / "rules" / "quiet_hours.py"
    rule.write_bytes(rule.read_bytes() + b"\n# a change to a rule\n")
    assert fingerprint(tuple(copies), root=tmp_path) != fingerprint()
