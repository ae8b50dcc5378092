"""One tenant's template cannot stall reminders for every tenant: a strategy whose templates loop,
call globals or blow up through filters is refused on save with what is wrong where, a strategy too
large to check is refused, and a template stored before those checks fails its own job, quickly,
while every other tenant's reminders still go."""

from __future__ import annotations

from typing import Any

import asyncpg
import httpx
import orjson
import pytest

from common.auth import Role
from tests.e2e.reminders.desk import PROBLEM_JSON, Desk
from tests.e2e.reminders.placements import daytime_home, placement

pytestmark = pytest.mark.e2e

NESTED_LOOPS = "{% for a in range(99999) %}{% for b in range(99999) %}x{% endfor %}{% endfor %}"
US_SMS = (
    "{{ agency_name }}: This is a communication from a debt collector about your {{ lender_name }}"
    " account, balance {{ currency }} {{ amount }}. Pay at {{ pay_url }}. Reply STOP to opt out."
)
US_EMAIL = (
    "This is a communication from a debt collector. Pay at {{ pay_url }}. To opt out, reply unsubscribe."
)


def us_strategy(sms: dict[str, str], subject: str = "Your {{ lender_name }} account") -> dict[str, Any]:
    return {
        "jurisdiction": "US",
        "steps": [
            {"dpd": 0, "channel": "sms", "templates": sms},
            {"dpd": 7, "channel": "email", "subject": {"en": subject}, "templates": {"en": US_EMAIL}},
        ],
    }


async def put(desk: Desk, name: str, document: dict[str, Any]) -> httpx.Response:
    return await desk.http.reminders.put(
        f"/v1/strategies/{name}", json=document, headers=desk.headers(Role.OPS)
    )


def problem(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 422, response.text[:2_000]
    assert response.headers["content-type"].startswith(PROBLEM_JSON)
    body: dict[str, Any] = response.json()
    return body


async def test_a_strategy_whose_templates_loop_is_refused_and_the_service_keeps_answering(
    desk: Desk,
) -> None:
    looping = us_strategy(
        {"en": US_SMS + NESTED_LOOPS, "zh-CN": "{{ lipsum(99999) }}"},
        subject="{{ lender_name|center(999999999) }}",
    )

    refused = problem(await put(desk, "looping", looping))
    health = await desk.http.reminders.get("/healthz")
    clean = await put(desk, "looping", us_strategy({"en": US_SMS}))

    assert "may not contain" in refused["detail"], refused
    errors = {(e["field"], e["message"]) for e in refused["errors"]}
    assert errors == {
        ("steps.0.templates.en", "loops ({% for %}) are not allowed"),
        ("steps.0.templates.en", "calling a function or a method is not allowed"),
        ("steps.0.templates.en", "the global 'range' is not allowed"),
        ("steps.0.templates.zh-CN", "calling a function or a method is not allowed"),
        ("steps.0.templates.zh-CN", "the global 'lipsum' is not allowed"),
        (
            "steps.1.subject.en",
            "the filter 'center' is not allowed; allowed: "
            "capitalize, d, default, e, escape, int, lower, round, title, trim, truncate, upper",
        ),
    }, refused
    assert health.status_code == 200, health.text
    assert clean.status_code == 200, clean.text
    assert clean.json()["version"] == 1


async def test_an_overlong_template_or_strategy_is_refused_before_it_is_checked(desk: Desk) -> None:
    overlong = us_strategy({"en": US_SMS + " " + "x" * 10_000})
    # Each template fits (9,900 characters), twenty of them do not.
    fitting = US_SMS + " Thank you." * ((9_900 - len(US_SMS)) // len(" Thank you."))
    oversized = us_strategy({"en": US_SMS})
    arm = [{"dpd": dpd, "channel": "sms", "templates": {"en": fitting}} for dpd in (0, 1)]
    oversized["variants"] = [{"name": f"arm{n}", "weight": 10, "steps": arm} for n in range(10)]

    too_long = problem(await put(desk, "overlong", overlong))
    too_large = problem(await put(desk, "oversized", oversized))

    [error] = too_long["errors"]
    assert error["field"] == "steps.0.templates.en", error
    assert "at most 10000" in error["message"], error
    assert too_large["detail"].endswith("characters; at most 100000"), too_large
    assert (
        await desk.http.reminders.get("/v1/strategies/oversized", headers=desk.headers())
    ).status_code == 404


async def test_a_looping_template_stored_before_the_check_fails_its_job_and_others_still_send(
    desk: Desk, other: Desk, pg: asyncpg.Pool
) -> None:
    jurisdiction, zone = daytime_home()
    # As if saved before templates were checked: straight into the tenant's default strategy. Three
    # turns only: the sandbox refuses any loop, whatever its size.
    stored = {
        "jurisdiction": jurisdiction,
        "steps": [
            {
                "dpd": 0,
                "channel": "sms",
                "templates": {
                    lang: "{% for a in range(3) %}{{ amount }}{% endfor %}" for lang in ("en", "zh-CN")
                },
            }
        ],
    }
    await pg.execute(
        "insert into reminders.strategies (tenant, name, document) values ($1, 'default', $2::jsonb)",
        desk.tenant,
        orjson.dumps(stored).decode(),
    )

    looping = await desk.place(placement(jurisdiction, zone))
    bystander = await other.place(placement(jurisdiction, zone))

    jobs = await desk.jobs_when(
        looping.account_id, lambda js: all(j["state"] in {"sent", "failed"} for j in js)
    )
    assert [(j["channel"], j["state"]) for j in jobs] == [("sms", "failed")], jobs
    assert "loops ({% for %}) are not allowed" in jobs[0]["delivery"], jobs
    assert await desk.messages(looping.placement.phone) == []
    await other.first_reminder_sent(bystander)
