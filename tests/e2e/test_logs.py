"""Following one lender event by its trace through the services' logs, as an ops engineer would at
3 a.m.: the placement's request line in intake and its `event consumed` line in compliance, reminders
and visits carry the trace id the lender sent, and every line the services wrote meanwhile is JSON."""

from __future__ import annotations

import secrets
from typing import Any

import httpx
import orjson
import pytest

from common.auth import Role
from common.logging import new_traceparent
from common.testing.stack import Stack
from tests.e2e.intake import builders as b
from tests.support.logs import Tail
from tests.support.waiting import eventually

pytestmark = pytest.mark.e2e

READERS = ("compliance", "reminders", "visits")


async def test_one_placement_is_one_trace_through_four_services_and_every_line_is_json(stack: Stack) -> None:
    if stack.mode not in ("launched", "reused"):
        pytest.fail(f"this test reads the local launcher's logs; the stack came from {stack.mode}")
    tails = {s: Tail(stack.layout.logs / f"{s}.log") for s in ("intake", *READERS)}
    traceparent = new_traceparent()
    trace_id = traceparent.split("-")[1]
    tenant = f"e2e-logs-{secrets.token_hex(5)}"
    headers = {**stack.headers(tenant=tenant, role=Role.LENDER), "traceparent": traceparent}
    async with httpx.AsyncClient(base_url=stack.service_urls["intake"], timeout=30) as intake:
        answer = await intake.post("/v1/events", json=b.account_placed(), headers=headers)
    assert answer.status_code == 202, answer.text
    assert answer.headers["traceparent"].split("-")[1] == trace_id
    account_id = answer.json()["account_id"]

    def consumed(service: str) -> list[dict[str, Any]]:
        return [
            r
            for r in tails[service].records()
            if r.get("event") == "event consumed"
            and r.get("type") == "account.placed"
            and r.get("trace_id") == trace_id
        ]

    await eventually(lambda: all(consumed(s) for s in READERS), timeout_s=60, interval_s=0.5)
    (request,) = [
        r for r in tails["intake"].records() if r.get("event") == "request" and r.get("trace_id") == trace_id
    ]
    assert (request["method"], request["route"], request["status"]) == ("POST", "/v1/events", 202)
    assert account_id not in orjson.dumps(request).decode()  # the route's template, not the path
    for service in READERS:
        (line,) = consumed(service)
        assert line["topic"] == "intake.v1" and line["outcome"] == "applied", line
        assert {"ce_id", "partition", "offset", "duration_ms", "span_id", "consumer"} <= set(line), line
        assert line["service"] == service
    # Every line any of them wrote meanwhile parses (records() fails on the first that does not).
    for tail in tails.values():
        tail.records()
