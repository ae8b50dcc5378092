"""Policy packs load, validate, resolve overlays, and refuse a broken file naming the file and rule."""

from __future__ import annotations

import hashlib
import shutil
import typing
from pathlib import Path

import pytest

from compliance.domain.packs import (
    POLICY_DIR,
    FrequencyCapRule,
    Pack,
    PackArchive,
    PackError,
    Rule,
    load_all,
    load_pack,
    load_tag,
    pack_for,
    versions,
)
from compliance.domain.rules import RULES

pytestmark = pytest.mark.unit

EXPECTED_RULES = {
    "US": [
        "US.quiet_hours",
        "US.calls_7_in_7",
        "US.conversation_cooldown",
        "US.dispute_hold",
        "US.cease_communication",
        "US.attorney",
        "US.bankruptcy",
        "US.deceased",
        "US.do_not_visit",
        "US.closed",
        "US.channel_opt_out",
        "US.sms_consent",
        "US.tcpa_prior_express_consent",
        "US.no_employer_email",
        "US.third_party_location_only",
        "US.visits_tenant_opt_in",
        "US.validation_notice",
        "US.validation_notice_media",
        "US.cease_notice_media",
        "US.prerecorded_residential",
        "US.contact_spacing",
    ],
    "US-MA": [
        "US-MA.calls_2_in_7",
        "US-MA.other_lines_2_in_30",
        "US-MA.no_contact_at_work",
        "US-MA.visit_hours",
        "US-MA.visits_per_30_days",
        "US.calls_7_in_7",
    ],
    "CN": [
        "CN.quiet_hours",
        "CN.connected_calls_per_day",
        "CN.unanswered_per_method_per_day",
        "CN.sms_consent",
        "CN.third_party_restore_contact",
        "CN.visit_safeguards",
        "CN.dispute_hold",
        "CN.contact_spacing",
    ],
    "GB": [
        "GB.reasonable_hours",
        "GB.vulnerability_review",
        "GB.no_third_party_disclosure",
        "GB.do_not_visit",
        "GB.contact_spacing",
        "GB.forbearance_before_escalation",
        "GB.visit_notice",
    ],
}


def test_every_pack_loads_with_its_rules(packs: dict[str, Pack]) -> None:
    assert set(packs) == {"CN", "GB", "US", "US-MA"}
    for name, expected in EXPECTED_RULES.items():
        ids = [rule.id for rule in packs[name].rules]
        assert set(expected) <= set(ids), name
        assert len(ids) == len(set(ids))


def test_every_rule_has_a_citation_and_a_summary(packs: dict[str, Pack]) -> None:
    for pack in packs.values():
        for rule in pack.rules:
            assert rule.citation.strip(), rule.id
            assert rule.summary.strip(), rule.id
            assert rule.id.split(".")[0] in (pack.name, pack.base.name if pack.base else None)


def test_every_rule_kind_has_a_registered_function() -> None:
    kinds = {typing.get_args(model)[0] for model in _rule_models()}
    assert kinds == set(RULES)


def _rule_models() -> list[typing.Any]:
    union = typing.get_args(Rule)[0]
    return [typing.get_type_hints(model)["kind"] for model in typing.get_args(union)]


@pytest.mark.parametrize(
    ("rule_id", "fragment"),
    [
        ("US.calls_7_in_7", "12 CFR 1006.14(b)(2)(i)(A)"),
        ("US.conversation_cooldown", "12 CFR 1006.14(b)(2)(i)(B)"),
        ("US.quiet_hours", "12 CFR 1006.6(b)(1)(i)"),
        ("US.sms_consent", "12 CFR 1006.6(d)(5)"),
        ("US.no_employer_email", "12 CFR 1006.22(f)(3)"),
        ("US.validation_notice", "12 CFR 1006.34(a)(1)"),
        ("US-MA.calls_2_in_7", "209 CMR 18.16(1)(d)"),
        ("US-MA.other_lines_2_in_30", "209 CMR 18.16(1)(d)"),
        ("US-MA.no_contact_at_work", "209 CMR 18.16(1)(c)"),
        ("US.prerecorded_residential", "47 CFR 64.1200(a)(3)"),
        ("US.cease_communication", "15 U.S.C. 1692c(c)"),
        ("US.validation_notice_media", "12 CFR 1006.42"),
        ("GB.forbearance_before_escalation", "CONC 7.3.4R"),
        ("GB.visit_notice", "CONC 7.9.12R"),
        ("US-MA.visits_per_30_days", "209 CMR 18.17(6)"),
        ("CN.quiet_hours", "GB/T 45251-2025; NIFA 2024 贷后催收业务指引"),
        ("GB.reasonable_hours", "FCA CONC 7"),
    ],
)
def test_citations_name_the_source(packs: dict[str, Pack], rule_id: str, fragment: str) -> None:
    assert fragment in packs["US-MA" if rule_id.startswith("US") else rule_id[:2]].rule(rule_id).citation


def test_overlay_resolves_its_base(packs: dict[str, Pack]) -> None:
    ma = packs["US-MA"]
    assert ma.version_tag == "US-MA@2026.12.0+US@2026.12.0"
    assert packs["US"].version_tag == "US@2026.12.0"
    assert ma.base is not None and ma.base.name == "US"
    assert [rule.id for rule in ma.rules][: len(packs["US"].rules)] == [rule.id for rule in packs["US"].rules]
    assert ma.retention_years == 3
    assert packs["CN"].retention_years == 5


def test_seven_in_seven_parameters(packs: dict[str, Pack]) -> None:
    rule = packs["US"].rule("US.calls_7_in_7")
    assert isinstance(rule, FrequencyCapRule)
    assert (rule.limit, rule.window, rule.days, rule.scope) == (7, "rolling_days", 7, "account")
    assert set(rule.counted_outcomes) == {"connected", "conversation", "no_answer", "voicemail", "reserved"}


@pytest.mark.parametrize(
    ("jurisdiction", "pack"),
    [
        ("US-MA", "US-MA"),
        ("us-ma", "US-MA"),
        ("US-CA", "US"),
        ("US-NY", "US"),
        ("US", "US"),
        ("CN", "CN"),
        ("GB", "GB"),
    ],
)
def test_pack_for(jurisdiction: str, pack: str) -> None:
    assert pack_for(jurisdiction) == pack


@pytest.mark.parametrize("jurisdiction", ["FR", "", "USA-MA", "U"])
def test_pack_for_refuses_unknown_jurisdictions(jurisdiction: str) -> None:
    with pytest.raises(ValueError, match="no policy pack"):
        pack_for(jurisdiction)


@pytest.fixture
def policy_copy(tmp_path: Path) -> Path:
    shutil.copytree(POLICY_DIR, tmp_path, dirs_exist_ok=True, ignore=shutil.ignore_patterns("__*"))
    return tmp_path


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


@pytest.mark.parametrize(
    ("file", "old", "new", "expected"),
    [
        (
            "US/2026.12.0.yaml",
            "    limit: 7\n",
            "    limit: 0\n",
            r"US/2026\.12\.0\.yaml: rule US\.calls_7_in_7: .*limit",
        ),
        (
            "US/2026.12.0.yaml",
            "kind: frequency_cap",
            "kind: frequency_kap",
            r"US/2026\.12\.0\.yaml: rule US\.calls_7_in_7: .*kind",
        ),
        (
            "US/2026.12.0.yaml",
            'allowed_until: "21:00"',
            "allowed_until: 21:00",
            r"US/2026\.12\.0\.yaml: rule US\.quiet_hours: .*HH:MM",
        ),
        (
            "US/2026.12.0.yaml",
            "counted_outcomes: [connected, conversation, no_answer, voicemail, reserved]",
            "counted_outcomes: [connected, ringing]",
            r"US/2026\.12\.0\.yaml: rule US\.calls_7_in_7: .*counted_outcomes",
        ),
        (
            "US/2026.12.0.yaml",
            '    citation: "12 CFR 1006.14(b)(2)(i)(B)"\n',
            "",
            r"US/2026\.12\.0\.yaml: rule US\.conversation_cooldown: citation",
        ),
        (
            "US/2026.12.0.yaml",
            "    days: 7\n    scope: account\n    counted_channels: [voice_call]\n    counted_outcomes: [conv",
            "    days: 7\n    days: 8\n    scope: account\n    counted_channels: [voice_call]\n    counted_outcomes: [conv",
            r"US/2026\.12\.0\.yaml: cannot read pack: .*duplicate key 'days'",
        ),
        (
            "CN/2026.12.0.yaml",
            "- id: CN.sms_consent",
            "- id: US.sms_consent",
            r"CN/2026\.12\.0\.yaml: rule US\.sms_consent: ids in this pack",
        ),
        (
            "US-MA/2026.12.0.yaml",
            "- id: US-MA.visit_hours",
            "- id: US-MA.calls_2_in_7",
            r"US-MA/2026\.12\.0\.yaml: rule US-MA\.calls_2_in_7: "
            "defined twice",
        ),
        (
            "US-MA/2026.12.0.yaml",
            "extends: US",
            "extends: GB\nbogus: 1",
            r"US-MA/2026\.12\.0\.yaml: bogus: Extra inputs",
        ),
        ("GB/2026.12.0.yaml", "pack: GB", "pack: US", r"GB/2026\.12\.0\.yaml: declares pack US"),
        ("CN/2026.12.0.yaml", 'version: "2026.12.0"', "version: latest", r"CN/2026\.12\.0\.yaml: version"),
        (
            "GB/2026.12.0.yaml",
            "default_timezones: [Europe/London]",
            "default_timezones: [Europe/Atlantis]",
            r"GB/2026\.12\.0\.yaml: default_timezones: .*Europe/Atlantis",
        ),
    ],
)
def test_a_broken_pack_is_refused_naming_file_and_rule(
    policy_copy: Path, file: str, old: str, new: str, expected: str
) -> None:
    _edit(policy_copy / file, old, new)
    with pytest.raises(PackError, match=expected):
        load_all(policy_copy)


def test_an_overlay_without_its_base_is_refused(policy_copy: Path) -> None:
    shutil.rmtree(policy_copy / "US")
    with pytest.raises(PackError, match=r"US-MA/2026\.12\.0\.yaml: extends US, but no version of US is kept"):
        load_pack(policy_copy / "US-MA" / "2026.12.0.yaml")


def test_an_extends_cycle_is_refused(policy_copy: Path) -> None:
    _edit(policy_copy / "US/2026.12.0.yaml", "title: United States (federal)", "title: x\nextends: US-MA")
    with pytest.raises(PackError, match="extends cycle"):
        load_pack(policy_copy / "US-MA" / "2026.12.0.yaml")


def test_a_pack_file_that_is_not_a_mapping_is_refused(tmp_path: Path) -> None:
    (tmp_path / "CN").mkdir()
    (tmp_path / "CN" / "2026.12.0.yaml").write_text("- just\n- a list\n", encoding="utf-8")
    with pytest.raises(PackError, match=r"CN/2026\.12\.0\.yaml: a pack must be a mapping"):
        load_pack(tmp_path / "CN" / "2026.12.0.yaml")


# --- versions kept forever ----------------------------------------------------------------------


def _sums() -> dict[str, str]:
    lines = (POLICY_DIR / "SHA256SUMS").read_text(encoding="utf-8").splitlines()
    return {name: digest for digest, name in (line.split("  ", 1) for line in lines if line.strip())}


def test_every_kept_pack_version_is_the_file_that_was_released() -> None:
    """A released version is never edited: a change is a new version file and a new SHA256SUMS line."""
    kept = {str(path.relative_to(POLICY_DIR)): path for path in POLICY_DIR.glob("*/*.yaml")}
    assert set(_sums()) == set(kept), "SHA256SUMS must list every kept pack version, and only those"
    for name, digest in _sums().items():
        assert hashlib.sha256(kept[name].read_bytes()).hexdigest() == digest, (
            f"{name} changed after release: add a new version instead"
        )


def test_every_kept_version_still_loads_with_todays_engine() -> None:
    """An engine change that can no longer read an old pack fails here, not on a replay years later."""
    for path in POLICY_DIR.glob("*/*.yaml"):
        pack = load_pack(path)
        assert load_tag(POLICY_DIR, pack.version_tag).hashes == pack.hashes
        assert pack.hashes[f"{pack.name}@{pack.version}"] == _sums()[f"{pack.name}/{pack.version}.yaml"]


def test_a_new_version_decides_today_and_the_old_one_stays_loadable(policy_copy: Path) -> None:
    old = policy_copy / "US" / "2026.12.0.yaml"
    new = policy_copy / "US" / "2026.12.10.yaml"
    new.write_text(
        old.read_text(encoding="utf-8")
        .replace('version: "2026.12.0"', 'version: "2026.12.10"')
        .replace("    limit: 7\n", "    limit: 6\n", 1),
        encoding="utf-8",
    )
    (policy_copy / "US" / "2026.12.9.yaml").write_text(
        old.read_text(encoding="utf-8").replace('version: "2026.12.0"', 'version: "2026.12.9"'),
        encoding="utf-8",
    )
    current = load_all(policy_copy)
    assert current["US"].version_tag == "US@2026.12.10"  # 10 after 9: versions order as numbers
    assert current["US-MA"].version_tag == "US-MA@2026.12.0+US@2026.12.10"
    then = PackArchive(policy_copy).by_tag("US-MA@2026.12.0+US@2026.12.0")
    assert then.version_tag == "US-MA@2026.12.0+US@2026.12.0"
    assert typing.cast(FrequencyCapRule, then.rule("US.calls_7_in_7")).limit == 7
    assert typing.cast(FrequencyCapRule, current["US"].rule("US.calls_7_in_7")).limit == 6
    assert then.hashes["US@2026.12.0"] == hashlib.sha256(old.read_bytes()).hexdigest()
    assert then.hashes["US@2026.12.0"] != current["US"].hashes["US@2026.12.10"]
    assert versions(policy_copy, "US") == ["2026.12.0", "2026.12.9", "2026.12.10"]


@pytest.mark.parametrize(
    ("tag", "expected"),
    [
        ("US@2025.1.0", r"US/2025\.1\.0\.yaml: no such pack version is kept"),
        ("US@latest", "not a pack version tag"),
        ("", "not a pack version tag"),
        ("US-MA@2026.12.0", r"resolve to US-MA@2026\.12\.0\+US@2026\.12\.0"),
    ],
)
def test_a_tag_that_names_no_kept_version_is_refused(tag: str, expected: str) -> None:
    with pytest.raises(PackError, match=expected):
        load_tag(POLICY_DIR, tag)


def test_a_file_under_another_packs_name_or_version_is_refused(policy_copy: Path) -> None:
    shutil.copy(policy_copy / "CN" / "2026.12.0.yaml", policy_copy / "CN" / "2026.12.5.yaml")
    with pytest.raises(PackError, match=r"CN/2026\.12\.5\.yaml: declares pack CN version 2026\.12\.0"):
        load_all(policy_copy)
