"""A compliance officer's (or a script's) bad input is a 4xx problem naming the field, never a 500: a
cursor compliance did not give out, a report period or a dry-run time that overflows in UTC."""

from __future__ import annotations

import base64

import httpx
import orjson
import pytest

from tests.e2e.compliance.desk import Desk, Placed, unreachable_by_reminders
from tests.e2e.intake import builders as b

pytestmark = pytest.mark.e2e

BEFORE_YEAR_ONE = "0001-01-01T00:00:00+23:59"
AFTER_YEAR_9999 = "9999-12-31T23:59:59-23:59"
SOME_ID = "8f0c1a4e-6f6e-4d0e-9a8e-2f1f6b1c8d7a"


def encoded(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def problem_fields(response: httpx.Response, status: int) -> set[str]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json"), response.text
    return {e["field"] for e in response.json()["errors"]}


async def quiet_account(desk: Desk) -> Placed:
    """An account nobody else asks permits for: no consent to SMS or e-mail, not overdue enough for a visit."""
    placement = unreachable_by_reminders(b.account_placed())
    placement["account"]["due_date"] = b.past_due_date(10)
    return await desk.place(placement)


async def placed_with_decisions(desk: Desk) -> Placed:
    """An account with two stored decisions: enough for a page of one and a cursor."""
    placed = await quiet_account(desk)
    for _ in range(2):
        await desk.permit(placed, channel="voice_call")
    return placed


@pytest.mark.parametrize(
    "cursor",
    [
        encoded(orjson.dumps(["x", "y"])),
        encoded(orjson.dumps([1, 2])),
        encoded(orjson.dumps([BEFORE_YEAR_ONE, SOME_ID])),
        encoded(orjson.dumps(["2026-11-29T08:00:00+08:00", "not-a-uuid"])),
        encoded(f'[{10**30}, "{SOME_ID}"]'.encode()),
    ],
    ids=["words", "numbers", "overflowing time", "bad uuid", "huge number"],
)
async def test_a_decisions_cursor_compliance_did_not_give_out_is_a_400(desk: Desk, cursor: str) -> None:
    placed = await placed_with_decisions(desk)
    path = f"/v1/accounts/{placed.account_id}/decisions"

    response = await desk.compliance.get(path, params={"limit": 1, "cursor": cursor}, headers=desk.headers())

    assert problem_fields(response, 400) == {"cursor"}
    first = await desk.compliance.get(path, params={"limit": 1}, headers=desk.headers())
    given = first.json()["next_cursor"]
    following = await desk.compliance.get(path, params={"limit": 1, "cursor": given}, headers=desk.headers())
    assert following.status_code == 200, following.text
    (one,), (two,) = first.json()["items"], following.json()["items"]
    assert one["permit_id"] != two["permit_id"]


@pytest.mark.parametrize(
    ("period", "field"),
    [
        ({"from": BEFORE_YEAR_ONE}, "query.from"),
        ({"to": AFTER_YEAR_9999}, "query.to"),
        ({"from": "1800-01-01T00:00:00Z"}, "query.from"),
        ({"to": "2026-11-29T08:00:00"}, "query.to"),
    ],
    ids=["from overflows", "to overflows", "from before 1900", "to without an offset"],
)
async def test_a_report_period_out_of_range_is_a_422_naming_the_bound(
    desk: Desk, period: dict[str, str], field: str
) -> None:
    response = await desk.compliance.get("/v1/reports/decisions", params=period, headers=desk.headers())

    assert problem_fields(response, 422) == {field}


@pytest.mark.parametrize("at", [BEFORE_YEAR_ONE, AFTER_YEAR_9999, "2200-01-01T00:00:00Z"])
async def test_a_dry_run_at_a_time_out_of_range_is_a_422_and_records_nothing(desk: Desk, at: str) -> None:
    placed = await quiet_account(desk)
    body = {"account_id": placed.account_id, "channel": "sms", "at": at}

    response = await desk.compliance.post("/v1/permits:evaluate", json=body, headers=desk.headers())

    assert problem_fields(response, 422) == {"at"}
    assert await desk.decisions(placed.account_id) == []
