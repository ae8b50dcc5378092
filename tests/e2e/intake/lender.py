"""A lender's integration as the tests drive it: post events, read accounts, watch intake.v1."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import httpx
import orjson

from common.auth import Role
from common.contracts.intake import TOPIC
from common.testing.stack import Stack
from tests.support.kafka import read_all
from tests.support.waiting import eventually

PROBLEM_JSON = "application/problem+json"
NDJSON = "application/x-ndjson"


def new_tenant() -> str:
    """A tenant id no other test, and no earlier run, has used."""
    return f"e2e-intake-{uuid.uuid4().hex[:10]}"


@dataclass
class Lender:
    """One tenant's lender token against the intake service."""

    stack: Stack
    http: httpx.AsyncClient
    tenant: str

    @property
    def headers(self) -> dict[str, str]:
        headers: dict[str, str] = self.stack.headers(tenant=self.tenant, role=Role.LENDER)
        return headers

    async def post(self, event: dict[str, Any]) -> httpx.Response:
        return await self.http.post("/v1/events", json=event, headers=self.headers)

    async def accept(self, event: dict[str, Any]) -> str:
        """Post an event that must be accepted; returns the account id."""
        response = await self.post(event)
        assert response.status_code == 202, response.text
        assert response.json()["status"] == "accepted", response.text
        return str(response.json()["account_id"])

    async def batch(self, lines: Iterable[dict[str, Any] | bytes]) -> httpx.Response:
        body = b"\n".join(line if isinstance(line, bytes) else orjson.dumps(line) for line in lines)
        return await self.http.post(
            "/v1/events", content=body + b"\n", headers={**self.headers, "Content-Type": NDJSON}
        )

    async def account(self, account_id: str) -> dict[str, Any]:
        response = await self.http.get(f"/v1/accounts/{account_id}", headers=self.headers)
        assert response.status_code == 200, response.text
        found: dict[str, Any] = response.json()
        return found

    async def accounts(self, **params: Any) -> httpx.Response:
        return await self.http.get("/v1/accounts", params=params, headers=self.headers)


@dataclass(frozen=True)
class Published:
    """One intake.v1 record: its CloudEvents headers, key and JSON payload."""

    type: str
    key: str
    headers: dict[str, str]
    payload: dict[str, Any]
    partition: int
    offset: int


def _published(record: Any) -> Published:
    headers = {k: v.decode() for k, v in record.headers}
    return Published(
        type=headers["ce_type"],
        key=record.key.decode(),
        headers=headers,
        payload=orjson.loads(record.value),
        partition=record.partition,
        offset=record.offset,
    )


def subject_of(record: Any) -> str | None:
    return next((v.decode() for k, v in record.headers if k == "ce_subject"), None)


async def published(stack: Stack, account_id: str, *, count: int, timeout_s: float = 15) -> list[Published]:
    """The intake.v1 records about `account_id` in publication order, once at least `count` are there."""
    found: list[Published] = []

    async def enough() -> bool:
        nonlocal found
        records = await read_all(stack.kafka_bootstrap, TOPIC)
        mine = sorted(
            (r for r in records if subject_of(r) == account_id), key=lambda r: (r.partition, r.offset)
        )
        found = [_published(r) for r in mine]
        return len(found) >= count

    await eventually(enough, timeout_s=timeout_s, interval_s=0.25)
    return found


def assert_envelopes(events: list[Published], *, tenant: str, account_id: str, borrower_id: str) -> None:
    """Every record keyed by the borrower, about the account, for the tenant, from intake."""
    for event in events:
        assert event.key == borrower_id, event
        assert event.headers["ce_subject"] == account_id, event
        assert event.headers["ce_tenant"] == tenant, event
        assert event.headers["ce_source"] == "intake", event
        assert event.headers["ce_specversion"] == "1.0", event
        assert event.headers["content-type"] == "application/json", event
        assert event.payload["account_id"] == account_id, event
        assert event.payload["borrower_id"] == borrower_id, event


def error_fields(response: httpx.Response) -> set[str]:
    """The `errors[].field` of a problem+json answer."""
    assert response.headers["content-type"].startswith(PROBLEM_JSON), response.text
    return {e["field"] for e in response.json().get("errors") or []}
