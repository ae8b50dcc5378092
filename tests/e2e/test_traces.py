"""One lender event is one trace: a placement posted with a `traceparent` and sent as a first SMS
reminder leaves spans of that trace in the span files of intake, compliance, reminders and visits
(.devstack/traces/<service>.jsonl), from intake's request through compliance's decision and
reminders' send to the provider call, every span's parent in the trace or the lender's own span."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from common import tracefiles
from common.logging import new_traceparent
from common.testing.stack import Stack
from tests.e2e.reminders.conftest import new_tenant
from tests.e2e.reminders.desk import Clients, Desk, Placed
from tests.e2e.reminders.placements import DAYTIME, placement, steady_zone
from tests.support.waiting import eventually

pytestmark = pytest.mark.e2e

# (service, kind, name) of the spans the story must leave, in the order it happens.
STORY = (
    ("intake", "server", "POST /v1/events"),
    ("intake", "producer", "publish account.placed"),
    ("compliance", "consumer", "consume account.placed"),
    ("reminders", "consumer", "consume account.placed"),
    ("visits", "consumer", "consume account.placed"),
    ("reminders", "internal", "dispatch reminder"),
    ("reminders", "producer", "publish permit.requested"),
    ("compliance", "consumer", "consume permit.requested"),
    ("compliance", "producer", "publish permit.decided"),
    ("reminders", "consumer", "consume permit.decided"),
    ("reminders", "internal", "send reminder"),
    ("reminders", "client", "POST /v1/sms"),
    ("reminders", "producer", "publish contact.attempted"),
    ("compliance", "consumer", "consume contact.attempted"),
)


@pytest.fixture
async def desk(stack: Stack) -> AsyncIterator[Desk]:
    async with (
        httpx.AsyncClient(base_url=stack.service_urls["intake"], timeout=20) as intake,
        httpx.AsyncClient(base_url=stack.service_urls["reminders"], timeout=30) as reminders,
        httpx.AsyncClient(base_url=stack.service_urls["compliance"], timeout=30) as compliance,
        httpx.AsyncClient(base_url=stack.sandbox_url, timeout=20) as sandbox,
    ):
        clients = Clients(intake=intake, reminders=reminders, compliance=compliance, sandbox=sandbox)
        yield Desk(stack=stack, http=clients, tenant=new_tenant())


def unknown_parents(spans: list[dict[str, Any]], caller_span: str) -> list[dict[str, Any]]:
    ids = {s["spanId"] for s in spans}
    return [s for s in spans if s["parentSpanId"] not in ids and s["parentSpanId"] != caller_span]


async def test_a_placement_to_its_first_reminder_is_one_trace_across_the_services(
    stack: Stack, desk: Desk
) -> None:
    if stack.mode not in ("launched", "reused"):
        pytest.fail(f"this test reads the local launcher's span files; the stack came from {stack.mode}")
    traces = stack.layout.traces
    caller = new_traceparent()
    _, trace_id, caller_span, _ = caller.split("-")
    # A CN borrower staying where it is daytime, one day overdue: the first SMS goes out at once.
    home = placement("CN", steady_zone(DAYTIME))
    answer = await desk.http.intake.post(
        "/v1/events", json=home.event, headers={**desk.lender.headers, "traceparent": caller}
    )
    assert answer.status_code == 202, answer.text
    assert answer.headers["traceparent"].split("-")[1] == trace_id
    placed = Placed(account_id=answer.json()["account_id"], placement=home)
    job = await desk.first_reminder_sent(placed)
    assert job["delivery"] == "accepted", job

    def story_told() -> list[tuple[str, str, str]]:
        spans = tracefiles.read_trace(traces, trace_id)
        seen = {(s["service"], s["kind"], s["name"]) for s in spans}
        missing = [step for step in STORY if step not in seen]
        return missing or [("parents not exported yet", str(len(unknown_parents(spans, caller_span))), "")]

    async def complete() -> bool:
        spans = tracefiles.read_trace(traces, trace_id)
        seen = {(s["service"], s["kind"], s["name"]) for s in spans}
        return set(STORY) <= seen and not unknown_parents(spans, caller_span)

    try:
        await eventually(complete, timeout_s=60, interval_s=0.5)
    except AssertionError:
        exported = sorted(p.name for p in tracefiles.trace_files(traces)) if traces.is_dir() else []
        pytest.fail(
            f"trace {trace_id} is incomplete in {traces} (files: {exported}); still missing: {story_told()}."
            " Services started before tracing existed export nothing: restart the stack (make down; make up)."
        )

    spans = tracefiles.read_trace(traces, trace_id)
    assert {s["service"] for s in spans} >= {"intake", "compliance", "reminders", "visits"}
    (server,) = [s for s in spans if s["parentSpanId"] == caller_span]  # the only child of the lender's
    assert (server["service"], server["name"], server["parentIsRemote"]) == (
        "intake",
        "POST /v1/events",
        True,
    )
    assert server["attributes"]["http.response.status_code"] == 202
    assert placed.account_id not in str(server)  # the route's template, never the path
    assert all(s["parentSpanId"] is not None for s in spans)  # nothing here starts a trace of its own
    by_id = {s["spanId"]: s for s in spans}

    def parent(span: dict[str, Any]) -> dict[str, Any]:
        return by_id[span["parentSpanId"]]

    # Each reader's consume span is a child of the publish span whose record it read.
    for span in spans:
        if span["kind"] == "consumer":
            publish = parent(span)
            assert publish["kind"] == "producer", span
            assert publish["name"].removeprefix("publish ") == span["name"].removeprefix("consume "), span
    (sms,) = [s for s in spans if s["name"] == "POST /v1/sms"]
    assert parent(sms)["name"] == "send reminder"
    assert sms["attributes"]["reminders.idempotency_key"] == job["job_id"]
    assert sms["attributes"]["http.response.status_code"] in (200, 201)
    assert home.phone not in str(spans)  # no personal data in any span
    # Statements ran inside the traced work: intake's request wrote the placement and its outbox row.
    assert {s["name"] for s in spans if s["service"] == "intake" and s["kind"] == "client"} >= {"COPY"}
