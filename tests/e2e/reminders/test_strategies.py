"""Dunning strategies as data: every template is linted by compliance on save, and a refused one
comes back with compliance's rule and category for each finding."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from common.auth import Role
from tests.e2e.reminders.desk import PROBLEM_JSON, Desk

pytestmark = pytest.mark.e2e

US_SMS = (
    "{{ agency_name }}: This is a communication from a debt collector about your {{ lender_name }}"
    " account, balance {{ currency }} {{ amount }}. Pay at {{ pay_url }}. Reply STOP to opt out."
)
CN_SMS = "【{{ agency_name }}】您好，受{{ lender_name }}委托提醒您：待还{{ currency }} {{ amount }}。回T退订"


def us_strategy(sms: str = US_SMS) -> dict[str, Any]:
    return {
        "jurisdiction": "US",
        "steps": [
            {"dpd": 0, "channel": "sms", "templates": {"en": sms}},
            {
                "dpd": 7,
                "channel": "email",
                "subject": {"en": "Your {{ lender_name }} account"},
                "templates": {
                    "en": "This is a communication from a debt collector. Balance {{ currency }} {{ amount }}."
                    " Pay at {{ pay_url }}. To opt out, reply unsubscribe."
                },
            },
            {"dpd": 14, "channel": "call_task"},
        ],
        "escalation": {"dpd": 60, "min_amount_minor": 10_000, "unless": ["active_promise"], "to": "review"},
        "variants": [{"name": "champion", "weight": 80}, {"name": "challenger", "weight": 20}],
    }


async def put(desk: Desk, name: str, document: dict[str, Any], role: Role = Role.OPS) -> httpx.Response:
    return await desk.http.reminders.put(f"/v1/strategies/{name}", json=document, headers=desk.headers(role))


async def get(desk: Desk, name: str) -> httpx.Response:
    return await desk.http.reminders.get(f"/v1/strategies/{name}", headers=desk.headers())


def refused(response: httpx.Response) -> list[dict[str, Any]]:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith(PROBLEM_JSON)
    errors: list[dict[str, Any]] = response.json()["errors"]
    assert errors, response.text
    return errors


def findings(response: httpx.Response) -> set[tuple[str, str, str]]:
    return {(e["field"], e["rule"], e["category"]) for e in refused(response)}


async def test_a_threatening_template_is_refused_with_compliances_findings(desk: Desk) -> None:
    threat = US_SMS + " Pay now or we will call the police and you will go to jail."

    response = await put(desk, "threats", us_strategy(threat))

    assert findings(response) == {
        ("steps.0.templates.en", "threat_violence.en.arrest", "threat_violence"),
        ("steps.0.templates.en", "false_authority.en.police", "false_authority"),
    }
    assert (await get(desk, "threats")).status_code == 404


async def test_a_template_that_discloses_the_debt_to_others_is_refused(desk: Desk) -> None:
    disclosing = {
        "jurisdiction": "CN",
        "steps": [
            {"dpd": 0, "channel": "sms", "templates": {"zh-CN": CN_SMS + "逾期不还将通知您的家人和单位。"}}
        ],
    }

    response = await put(desk, "disclosing", disclosing)

    assert findings(response) == {
        ("steps.0.templates.zh-CN", "disclosure_shaming.zh.third_party", "disclosure_shaming")
    }


async def test_fallback_and_variant_templates_are_linted_too(desk: Desk) -> None:
    threatening_fallback = us_strategy()
    threatening_fallback["steps"][0]["fallback"] = {
        "channel": "email",
        "subject": {"en": "Final warning"},
        "templates": {
            "en": "This is a communication from a debt collector. We will take you to court."
            " To opt out, reply unsubscribe."
        },
    }
    threatening_variant = us_strategy()
    threatening_variant["variants"][1]["steps"] = [
        {"dpd": 0, "channel": "sms", "templates": {"en": US_SMS + " You will regret ignoring us."}}
    ]

    fallback = await put(desk, "fallback", threatening_fallback)
    variant = await put(desk, "variant", threatening_variant)

    assert ("steps.0.fallback.templates.en", "false_authority.en.court", "false_authority") in findings(
        fallback
    )
    assert findings(variant) == {
        ("variants.1.steps.0.templates.en", "threat_violence.en.harm", "threat_violence")
    }


async def test_a_us_sms_without_the_debt_collector_disclosure_is_refused(desk: Desk) -> None:
    bare = "Your {{ lender_name }} balance is {{ currency }} {{ amount }}. Reply STOP to opt out."

    response = await put(desk, "bare", us_strategy(bare))

    assert findings(response) == {
        ("steps.0.templates.en", "US.disclosure.debt_collector", "missing_disclosure")
    }


async def test_a_clean_strategy_saves_and_reads_back_versioned(desk: Desk) -> None:
    document = us_strategy()

    first = await put(desk, "gentle", document)
    second = await put(desk, "gentle", document)
    read = await get(desk, "gentle")

    assert first.status_code == 200, first.text
    assert (first.json()["name"], first.json()["version"]) == ("gentle", 1)
    assert second.json()["version"] == 2
    assert read.status_code == 200, read.text
    body = read.json()
    assert (body["name"], body["version"]) == ("gentle", 2)
    assert body["document"]["jurisdiction"] == "US"
    assert [(s["dpd"], s["channel"]) for s in body["document"]["steps"]] == [
        (0, "sms"),
        (7, "email"),
        (14, "call_task"),
    ]
    assert body["document"]["steps"][0]["templates"] == {"en": US_SMS}
    assert body["document"]["escalation"]["to"] == "review"
    assert [(v["name"], v["weight"]) for v in body["document"]["variants"]] == [
        ("champion", 80),
        ("challenger", 20),
    ]


async def test_an_unknown_template_variable_or_a_broken_document_is_a_422(desk: Desk) -> None:
    unknown = await put(desk, "nosy", us_strategy(US_SMS + " Hello {{ borrower_name }}."))
    unsorted = us_strategy()
    unsorted["steps"].reverse()
    weights = {**us_strategy(), "variants": [{"name": "champion", "weight": 50}]}

    (error,) = refused(unknown)
    assert error["field"] == "steps.0.templates.en"
    assert "borrower_name" in error["message"]
    nosy_subject = us_strategy()
    nosy_subject["steps"][1]["subject"] = {"en": "For {{ borrower_name }}"}
    nosy_fallback = us_strategy()
    nosy_fallback["steps"][0]["fallback"] = {
        "channel": "email",
        "subject": {"en": "Your account"},
        "templates": {"en": "Hello {{ national_id }}. This is from a debt collector. Reply unsubscribe."},
    }
    for document, field in (
        (nosy_subject, "steps.1.subject.en"),
        (nosy_fallback, "steps.0.fallback.templates.en"),
    ):
        (error,) = refused(await put(desk, "nosy", document))
        assert error["field"] == field, error
    for broken in (unsorted, weights, {"jurisdiction": "FR", "steps": []}):
        refused(await put(desk, "broken", broken))
    assert (await get(desk, "nosy")).status_code == 404


async def test_only_ops_may_save_a_strategy(desk: Desk) -> None:
    response = await put(desk, "agents-own", us_strategy(), role=Role.AGENT)

    assert response.status_code == 403, response.text


async def test_the_built_in_cn_strategy_is_readable(desk: Desk) -> None:
    response = await get(desk, "builtin-CN")

    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["name"], body["version"]) == ("builtin-CN", 0)
    document = body["document"]
    assert document["jurisdiction"] == "CN"
    first = document["steps"][0]
    assert (first["dpd"], first["channel"]) == (0, "sms")
    assert first["templates"]["zh-CN"].startswith("【{{ agency_name }}】")
    assert "退订" in first["templates"]["zh-CN"]
    assert first["fallback"]["channel"] == "email"
    assert document["escalation"]["to"] == "visit"
    assert (await get(desk, "builtin-XX")).status_code == 404
    assert (await get(desk, "never-saved")).status_code == 404
