"""What an ops lead or a field agent's app gets wrong is a 4xx problem naming the field, and nothing is
kept: a NUL character (PostgreSQL cannot store it) in an agent's name, a visit's reason or the notes
from the door; a date in year 1 or 9999, or a door promise years ahead (it would pause the reminders
ladder until then); a time that overflows in UTC; a cursor visits did not give out."""

from __future__ import annotations

import base64
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import orjson
import pytest

from common.auth import Role
from common.testing.stack import Stack
from tests.e2e.intake import builders as b
from tests.e2e.intake.lender import Lender
from tests.e2e.visits.field import DOOR, agent, until

pytestmark = pytest.mark.e2e

BEFORE_YEAR_ONE = "0001-01-01T00:00:00+23:59"


def refused(response: httpx.Response, status: int = 422) -> set[str]:
    """The fields a problem names."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json"), response.text
    return {e["field"] for e in response.json()["errors"]}


def days_ahead(days: int) -> str:
    return (datetime.now(UTC).date() + timedelta(days=days)).isoformat()


@pytest.fixture
def tenant() -> str:
    """A tenant no other test (or earlier run) has used."""
    return f"e2e-visits-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def ops(stack: Stack, tenant: str) -> dict[str, str]:
    headers: dict[str, str] = stack.headers(tenant=tenant, role=Role.OPS)
    return headers


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"name": "王\u0000五"}, "name"),
        ({"region": "广\u0000东"}, "region"),
        ({"languages": ["zh-CN\u0000"]}, "languages.0"),
        ({"days_off": ["0001-01-01"]}, "days_off.0.date"),
        ({"days_off": ["mon", "9999-12-31"]}, "days_off.1.date"),
    ],
)
async def test_an_agent_with_a_nul_or_a_day_off_out_of_range_is_refused_and_not_saved(
    http: dict[str, httpx.AsyncClient], ops: dict[str, str], change: dict[str, Any], field: str
) -> None:
    visits = http["visits"]

    response = await visits.put("/v1/agents/a1", json={**agent("a1"), **change}, headers=ops)

    assert refused(response) == {field}
    assert (await visits.get("/v1/agents/a1", headers=ops)).status_code == 404


async def test_list_filters_plans_and_reports_refuse_what_cannot_be_a_query(
    http: dict[str, httpx.AsyncClient], ops: dict[str, str]
) -> None:
    visits = http["visits"]
    overflowing = base64.urlsafe_b64encode(orjson.dumps([BEFORE_YEAR_ONE, str(uuid.uuid4())])).decode()

    async def get(path: str, **params: str) -> httpx.Response:
        return await visits.get(path, params=params, headers=ops)

    assert refused(await get("/v1/visits", state="permitted\u0000")) == {"query.state"}
    assert refused(await get("/v1/visits", crew_id="c1\u0000")) == {"query.crew_id"}
    assert refused(await get("/v1/visits", date="0001-01-01")) == {"query.date"}
    assert refused(await get("/v1/visits", cursor=overflowing.rstrip("=")), 400) == {"cursor"}
    assert refused(await get("/v1/crews/c1/plan", date="9999-12-31")) == {"query.date"}
    assert refused(await get("/v1/reports/visits", **{"from": "0001-01-01", "to": "0001-06-01"})) == {
        "query.from",
        "query.to",
    }
    built = await visits.post("/v1/plans:build", json={"date": "9999-12-31"}, headers=ops)
    assert refused(built) == {"date"}
    built = await visits.post(
        "/v1/plans:build", json={"date": days_ahead(1), "region": "广\u0000东"}, headers=ops
    )
    assert refused(built) == {"region"}


async def test_a_visit_and_its_door_outcome_refuse_bad_text_and_dates_and_keep_nothing(
    stack: Stack, http: dict[str, httpx.AsyncClient], tenant: str, ops: dict[str, str]
) -> None:
    visits = http["visits"]
    lender = Lender(stack=stack, http=http["intake"], tenant=tenant)
    # Ten days overdue: the strategy does not escalate it; ops asks for the visit.
    placement = b.account_placed(phone=b.unique_cn_mobile(), email=f"{b.fresh('v')}@example.com")
    placement["account"]["due_date"] = b.past_due_date(10)
    account_id = await lender.accept(placement)
    good = {"account_id": account_id, "reason": "no answer to calls or messages"}

    for body, field in (
        ({**good, "reason": "no\u0000answer"}, "reason"),
        ({**good, "date": "9999-12-31"}, "date"),
        ({**good, "date": days_ahead(400)}, "date"),
    ):
        assert refused(await visits.post("/v1/visits", json=body, headers=ops)) == {field}

    async def opened() -> httpx.Response | None:
        response = await visits.post("/v1/visits", json=good, headers=ops)
        return response if response.status_code != 404 else None  # visits has not read the placement yet

    case = await until(opened, timeout_s=60)
    assert case.status_code == 201, case.text  # a first case: none of the refused requests opened one
    visit = case.json()
    assert visit["reason"] == good["reason"]

    crew = stack.headers(tenant=tenant, role=Role.AGENT, sub="a1")
    at_door = {"crew_id": "c1", "at": datetime.now(UTC).isoformat(), **DOOR, "id_shown": True}
    promise = {"amount_minor": 50_000}
    receipt = {"client_id": "r-1", "amount_minor": 1_000, "method": "cash"}
    attempts: list[tuple[str, dict[str, Any], str]] = [
        ("check-in", {**at_door, "at": BEFORE_YEAR_ONE}, "at"),
        ("check-in", {**at_door, "recording_id": "rec\u00001"}, "recording_id"),
        ("outcome", {"outcome": "not_home", "notes": "dog\u0000at the gate"}, "notes"),
        (
            "outcome",
            {"outcome": "met_promise", "promise": {**promise, "due_date": "9999-12-31"}},
            "promise.due_date",
        ),
        (
            "outcome",
            {"outcome": "met_promise", "promise": {**promise, "due_date": days_ahead(730)}},
            "promise.due_date",
        ),
        (
            "outcome",
            {"outcome": "met_promise", "promise": {**promise, "due_date": days_ahead(-2)}},
            "promise.due_date",
        ),
        ("outcome", {"outcome": "met_paid", "receipt": {**receipt, "number": "N\u00001"}}, "receipt.number"),
    ]
    for step, body, field in attempts:
        response = await visits.post(f"/v1/visits/{visit['visit_id']}/{step}", json=body, headers=crew)
        assert refused(response) == {field}, (step, body)

    after = (await visits.get(f"/v1/visits/{visit['visit_id']}", headers=ops)).json()
    assert (after["check_in"], after["outcome"], after["promise"]) == (None, None, None)
