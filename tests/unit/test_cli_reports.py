"""`collectctl report`: the tables and PNG charts drawn from sample reports as the services answer
them, the period each service is asked for, and a failing service named instead of hiding the rest."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import typer

from common.cli_reports import (
    RENDER,
    Period,
    fetch_reports,
    period_of,
    rate_cell,
    render_compliance,
    render_reminders,
    render_visits,
)
from common.report_charts import PNG_NAME, write_png
from reminders.domain.outcomes import AccountCount, ChannelCount, Facts, PromiseCount, report

pytestmark = pytest.mark.unit

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def reminders_report(facts: Facts | None = None) -> dict[str, Any]:
    facts = facts or Facts(
        accounts=[
            AccountCount("default", "champion", True, False, 3),
            AccountCount("default", "champion", False, True, 9),
            AccountCount("default", "email_first", True, False, 1),
            AccountCount("default", "email_first", False, False, 7),
        ],
        promises=[
            PromiseCount("default", "champion", "call", "kept", 1),
            PromiseCount("default", "email_first", "call", "active", 2),
        ],
        channels=[ChannelCount("sms", 12, 12), ChannelCount("email", 8, 8)],
        contacted_accounts=20,
        credited={"sms": 3, "email": 1},
        variants={"default": ["champion", "email_first"]},
    )
    return {
        "tenant": "huabei-demo",
        "from": "2026-12-05T07:59:43+00:00",
        "to": "2026-12-05T08:00:21+00:00",
        **report(facts),
    }


COMPLIANCE = {
    "start": "2026-12-05T07:59:43Z",
    "end": "2026-12-05T08:00:21Z",
    "outcomes": {"allow": 30, "defer": 3, "deny": 1},
    "rules": [
        {"outcome": "defer", "rule": "CN.quiet_hours", "count": 3},
        {"outcome": "deny", "rule": "CN.do_not_visit", "count": 1},
    ],
    "violations": {"delivery_without_permit": 2},
}

VISITS = {
    "from": "2026-12-05",
    "to": "2026-12-07",
    "by_crew": [
        {
            "crew_id": "demo-c1",
            "visits": 4,
            "outcomes": {"met_paid": 1, "met_promise": 2, "not_home": 1},
            "success_rate": 0.75,
            "success_rate_ci95": [0.3006, 0.9544],
        }
    ],
    "by_region": [],
    "door_promises": {
        "made": 2,
        "kept": 1,
        "broken": 0,
        "active": 1,
        "kept_rate": 1.0,
        "kept_rate_ci95": [0.2065, 1.0],
    },
    "travel": {"planned_stops": 4, "distance_m_per_visit": 3575, "travel_s_per_visit": 515},
}


def test_a_rate_reads_with_its_interval() -> None:
    assert rate_cell(0.25, [0.0889, 0.5324]) == "25.0% [8.9-53.2]"
    assert rate_cell(None, None) == "-"
    assert rate_cell(0.5, None) == "50.0%"


def test_the_reminders_tables() -> None:
    text = render_reminders(reminders_report())
    assert "20 accounts placed from 2026-12-05T07:59:43+00:00" in text
    assert "cure rate 20.0% [8.1-41.6]" in text
    lines = text.splitlines()
    (champion,) = [line for line in lines if line.startswith("default   champion")]
    assert champion.split()[:5] == ["default", "champion", "champion", "12", "3"]
    (sms,) = [line for line in lines if line.startswith("sms ")]
    assert sms.split()[:4] == ["sms", "12", "12", "3"]
    (cure,) = [line for line in lines if "cure_rate" in line]
    assert "12.5% (n=8)" in cure and "25.0% (n=12)" in cure and "-12.5 pts [" in cure and cure.endswith("no")
    # the champion's kept promises against none settled for the challenger: no difference to show
    (kept,) = [line for line in lines if "promise_kept_rate" in line]
    assert kept.split()[-2:] == ["-", "-"]


def test_an_empty_cohort_says_so() -> None:
    text = render_reminders(reminders_report(Facts()))
    assert "0 accounts placed" in text and "cure rate -" in text
    assert "(no strategy ran a challenger in this cohort)" in text


def test_the_compliance_and_visits_tables() -> None:
    compliance = render_compliance(COMPLIANCE)
    assert "34 permit decisions" in compliance
    assert any(line.split() == ["deny", "CN.do_not_visit", "1"] for line in compliance.splitlines())
    assert any(line.split() == ["delivery_without_permit", "2"] for line in compliance.splitlines())
    assert "(none)" in render_compliance({**COMPLIANCE, "rules": [], "violations": {}})
    visits = render_visits(VISITS)
    assert "demo-c1  4       75.0% [30.1-95.4]  met_paid 1, met_promise 2, not_home 1" in visits
    assert "(no visit made)" in visits  # no region
    assert "kept rate 100.0% [20.6-100.0]" in visits and "3575 m and 515 s per visit" in visits


@pytest.mark.parametrize(
    ("kind", "sample"),
    [
        ("reminders", reminders_report()),
        ("reminders", reminders_report(Facts())),
        ("compliance", COMPLIANCE),
        ("compliance", {**COMPLIANCE, "rules": [], "violations": {}}),
        ("visits", VISITS),
    ],
)
def test_one_png_per_report(kind: str, sample: dict[str, Any], tmp_path: Path) -> None:
    path = write_png(kind, sample, tmp_path / "charts")
    assert path == tmp_path / "charts" / PNG_NAME[kind]
    data = path.read_bytes()
    assert data.startswith(PNG_SIGNATURE)
    assert len(data) > 10_000  # axes, bars and labels, not an empty canvas
    assert RENDER[kind](sample)  # every report the charts draw also renders as tables


def test_the_period_each_service_is_asked_for() -> None:
    period = period_of("2026-11-01", "2026-12-01T10:30:00+08:00")
    assert period.start == datetime(2026, 11, 1, tzinfo=UTC)
    assert period.params("reminders") == {
        "from": "2026-11-01T00:00:00+00:00",
        "to": "2026-12-01T10:30:00+08:00",
    }
    # visits counts days: those the period touches, `to` excluded
    assert period.params("visits") == {"from": "2026-11-01", "to": "2026-12-02"}
    midnight = Period(datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 11, 3, tzinfo=UTC))
    assert midnight.params("visits") == {"from": "2026-11-01", "to": "2026-11-03"}
    now = datetime(2026, 12, 5, 12, tzinfo=UTC)
    assert period_of(None, None, now=now).start == datetime(2026, 11, 5, 12, tzinfo=UTC)
    for start, end in (("2026-12-01T10:00:00", None), ("tomorrow", None), ("2026-12-02", "2026-12-01")):
        with pytest.raises(typer.BadParameter):
            period_of(start, end, now=now)


async def test_a_failing_service_is_named_and_the_others_still_answer() -> None:
    asked: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        asked.append(request)
        if request.url.path == "/v1/reports/outcomes":
            return httpx.Response(404, json={"detail": "Not Found"})
        return httpx.Response(200, json=COMPLIANCE if "decisions" in request.url.path else VISITS)

    period = period_of("2026-11-01", "2026-12-01")
    urls = {kind: f"http://{kind}" for kind in ("reminders", "compliance", "visits")}
    async with httpx.AsyncClient(transport=httpx.MockTransport(answer)) as client:
        found = await fetch_reports(
            list(urls), period, lambda service: f"token-{service}", urls, client=client
        )
    by_kind = {f.kind: f for f in found}
    assert by_kind["reminders"].report is None and (by_kind["reminders"].error or "").startswith("404")
    assert by_kind["compliance"].report == COMPLIANCE and by_kind["visits"].report == VISITS
    tokens = {r.url.host: r.headers["authorization"] for r in asked}
    assert tokens == {k: f"Bearer token-{k}" for k in urls}
    (visits,) = [r for r in asked if r.url.host == "visits"]
    assert dict(visits.url.params) == {"from": "2026-11-01", "to": "2026-12-01"}
