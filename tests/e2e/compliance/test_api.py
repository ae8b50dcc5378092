"""The compliance API as an officer, an agent and a lender meet it: packs, lint, roles, reports."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from common.auth import Role
from tests.e2e.compliance.desk import Desk, midday_zone, next_local, rules_of, unreachable_by_reminders
from tests.e2e.intake import builders as b

pytestmark = pytest.mark.e2e

PROBLEM_JSON = "application/problem+json"


async def lint(desk: Desk, **body: Any) -> dict[str, Any]:
    response = await desk.compliance.post(
        "/v1/templates:lint", json=body, headers=desk.headers(Role.COMPLIANCE)
    )
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


def categories(result: dict[str, Any]) -> set[tuple[str, str]]:
    return {(f["category"], f["rule"]) for f in result["findings"]}


async def test_the_packs_are_listed_with_versions_and_rules_with_citations(desk: Desk) -> None:
    response = await desk.compliance.get("/v1/policies", headers=desk.headers())
    assert response.status_code == 200, response.text
    packs = {p["pack"]: p for p in response.json()["packs"]}
    assert set(packs) == {"CN", "US", "US-MA", "GB"}
    for name, pack in packs.items():
        assert pack["version_tag"].startswith(f"{name}@{pack['version']}"), pack
        assert pack["rules"] > 0
    assert packs["US-MA"]["extends"] == "US"
    assert packs["US-MA"]["version_tag"] == f"US-MA@{packs['US-MA']['version']}+{packs['US']['version_tag']}"
    assert (packs["CN"]["retention_years"], packs["US"]["retention_years"]) == (5, 3)

    response = await desk.compliance.get("/v1/policies/US-MA", headers=desk.headers())
    assert response.status_code == 200, response.text
    detail = response.json()
    rules = {r["id"]: r for r in detail["rule_list"]}
    assert len(rules) == detail["rules"] == packs["US-MA"]["rules"]
    assert all(r["citation"].strip() for r in rules.values())
    assert "209 CMR 18.16" in rules["US-MA.calls_2_in_7"]["citation"]
    assert rules["US-MA.calls_2_in_7"]["limit"] == 2
    assert rules["US-MA.visits_per_30_days"]["days"] == 30
    assert "12 CFR 1006.14" in rules["US.calls_7_in_7"]["citation"]  # the base pack's rules come along
    assert any("209 CMR 18" in source for source in detail["sources"])
    # The rules of the 2026.12 packs, each with its citation.
    for rule_id, cited in {
        "US.validation_notice_media": "12 CFR 1006.42",
        "US.cease_notice_media": "15 U.S.C. 1692c(c)",
        "US.prerecorded_residential": "47 CFR 64.1200(a)(3)",
        "US.contact_spacing": "House policy",
        "US-MA.other_lines_2_in_30": "209 CMR 18.16(1)(d)",
        "US-MA.no_contact_at_work": "209 CMR 18.16(1)(c)",
    }.items():
        assert cited in rules[rule_id]["citation"], rule_id
    assert rules["US.conversation_cooldown"]["counted_directions"] == ["outbound", "inbound"]
    gb = {
        r["id"]: r
        for r in (await desk.compliance.get("/v1/policies/GB", headers=desk.headers())).json()["rule_list"]
    }
    assert {"GB.forbearance_before_escalation", "GB.visit_notice", "GB.vulnerability_review"} <= set(gb)
    assert "CONC 7.3.4R" in gb["GB.forbearance_before_escalation"]["citation"]

    missing = await desk.compliance.get("/v1/policies/XX", headers=desk.headers())
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith(PROBLEM_JSON)


async def test_lint_finds_threats_in_both_languages_and_missing_us_disclosures(desk: Desk) -> None:
    zh = await lint(
        desk,
        jurisdiction="CN",
        channel="sms",
        language="zh-CN",
        body="【花呗】再不还钱就让你坐牢，后果自负。回T退订",
    )
    assert not zh["ok"]
    assert ("threat_violence", "threat_violence.zh.jail") in categories(zh)
    assert ("threat_violence", "threat_violence.zh.intimidate") in categories(zh)
    body = "【花呗】再不还钱就让你坐牢，后果自负。回T退订"
    for finding in zh["findings"]:
        start, end = finding["span"]
        assert body[start:end] in {"坐牢", "后果自负"}, finding

    en = await lint(
        desk,
        jurisdiction="US-CA",
        channel="email",
        language="en",
        body="This is a debt collector. Pay today or you will be arrested. Reply STOP to opt out.",
    )
    assert not en["ok"]
    assert categories(en) == {("threat_violence", "threat_violence.en.arrest")}

    bare = await lint(
        desk, jurisdiction="US", channel="sms", language="en", body="Your payment of $50 is due."
    )
    assert not bare["ok"]
    assert categories(bare) == {
        ("missing_disclosure", "US.disclosure.debt_collector"),
        ("missing_disclosure", "US.disclosure.opt_out"),
    }

    respectful = await lint(
        desk,
        jurisdiction="US",
        channel="sms",
        language="en",
        body="Acme Recovery is a debt collector. Your balance of {{ amount }} is past due; "
        "pay at acme.example or call us to talk about a plan. Reply STOP to opt out.",
    )
    assert respectful == {"ok": True, "findings": []}
    polite = await lint(
        desk,
        jurisdiction="CN",
        channel="sms",
        language="zh-CN",
        body="【花呗】您好，您的账单已逾期，请及时还款，如有困难可联系我们协商。回T退订",
    )
    assert polite == {"ok": True, "findings": []}

    unknown = await desk.compliance.post(
        "/v1/templates:lint",
        json={"jurisdiction": "FR", "channel": "sms", "language": "fr", "body": "Bonjour"},
        headers=desk.headers(),
    )
    assert unknown.status_code == 422
    assert {e["field"] for e in unknown.json()["errors"]} == {"jurisdiction"}


async def test_roles_and_tenants_bound_what_each_caller_may_do(desk: Desk, other: Desk) -> None:
    placed = await desk.place(b.account_placed())
    lender = desk.headers(Role.LENDER)

    for method, path, body in (
        ("GET", "/v1/audit/verify", None),
        ("GET", "/v1/audit/export", None),
        ("POST", "/v1/permits:evaluate", {"account_id": placed.account_id, "channel": "sms"}),
        ("GET", f"/v1/accounts/{placed.account_id}/state", None),
        ("GET", "/v1/violations", None),
    ):
        response = await desk.compliance.request(method, path, json=body, headers=lender)
        assert response.status_code == 403, (path, response.text)
        assert response.headers["content-type"].startswith(PROBLEM_JSON)
    agent = await desk.compliance.post(
        "/v1/permits:evaluate",
        json={"account_id": placed.account_id, "channel": "email"},
        headers=desk.headers(Role.AGENT),
    )
    assert agent.status_code == 200, agent.text
    assert (
        await desk.compliance.get("/v1/audit/verify", headers=desk.headers(Role.AGENT))
    ).status_code == 403

    stranger = other.headers()
    for path in (f"/v1/accounts/{placed.account_id}/state", f"/v1/accounts/{placed.account_id}/decisions"):
        response = await desk.compliance.get(path, headers=stranger)
        assert response.status_code == 404, (path, response.text)
    dry = await desk.compliance.post(
        "/v1/permits:evaluate", json={"account_id": placed.account_id, "channel": "email"}, headers=stranger
    )
    assert dry.status_code == 404
    assert (
        await desk.compliance.get(f"/v1/accounts/{placed.account_id}/state", headers=desk.headers())
    ).status_code == 200


async def test_the_report_counts_stored_decisions_per_outcome_and_denials_per_rule(
    desk: Desk, other: Desk
) -> None:
    start = datetime.now(UTC) - timedelta(seconds=5)
    zone = midday_zone()
    placement = unreachable_by_reminders(b.account_placed(timezone=zone))
    # Ten days overdue: not yet escalated to a field visit, whose permits would count here too.
    placement["account"]["due_date"] = b.past_due_date(10, zone)
    placed = await desk.place(placement)

    assert (await desk.permit(placed, channel="voice_call"))["outcome"] == "allow"
    assert (await desk.permit(placed, channel="voice_call", at=next_local(zone, 23)))["outcome"] == "defer"
    opened = {"received_at": b.now_iso(), "written": True, "reason": "never borrowed"}
    await desk.lender.accept(b.lender_event("dispute.opened", placed.external_account_id, dispute=opened))
    await desk.verdict_settles(placed.account_id, lambda d: d["outcome"] == "deny", channel="email")
    for channel in ("email", "voice_call"):
        denied = await desk.permit(placed, channel=channel)
        assert (denied["outcome"], rules_of(denied)) == ("deny", {"CN.dispute_hold"})
    # Dry runs decide but record nothing.
    assert len(await desk.decisions(placed.account_id)) == 4

    window = {"from": start.isoformat(), "to": (datetime.now(UTC) + timedelta(seconds=5)).isoformat()}
    response = await desk.compliance.get("/v1/reports/decisions", params=window, headers=desk.headers())
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["outcomes"] == {"allow": 1, "defer": 1, "deny": 2}
    assert report["rules"] == [
        {"outcome": "deny", "rule": "CN.dispute_hold", "count": 2},
        {"outcome": "defer", "rule": "CN.quiet_hours", "count": 1},
    ]
    elsewhere = await desk.compliance.get("/v1/reports/decisions", params=window, headers=other.headers())
    assert elsewhere.json()["outcomes"] == {}
    backwards = {"from": window["to"], "to": window["from"]}
    assert (
        await desk.compliance.get("/v1/reports/decisions", params=backwards, headers=desk.headers())
    ).status_code == 422
