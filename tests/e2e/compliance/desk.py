"""The compliance story as the tests drive it: accounts placed through intake, permit requests and
contact attempts published on reminders.v1 as the reminders service would, answers read back from
compliance.v1 and the compliance API."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from common.auth import Role
from common.contracts import Contract, type_of
from common.contracts.contact import COMPLIANCE_TOPIC, ContactAttempted, PermitRequested
from common.messaging.admin import partitions_of
from common.messaging.envelope import encode_payload, new_envelope
from common.testing.stack import Stack
from tests.e2e.intake.lender import Lender
from tests.support.waiting import eventually
from tests.support.zones import place_at

REMINDERS_TOPIC = "reminders.v1"


def midday_zone(now: datetime | None = None) -> str:
    """A zone whose clock reads between 11:00 and 15:00 now: hours from every quiet-hours edge."""
    return place_at(range(11, 15), now).zone


def next_local(zone: str, hour: int, minute: int = 0, *, after: timedelta = timedelta(minutes=5)) -> datetime:
    """The first instant at least `after` from now at which the clock in `zone` reads hour:minute."""
    earliest = (datetime.now(UTC) + after).astimezone(ZoneInfo(zone))
    candidate = earliest.replace(hour=hour, minute=minute, second=0, microsecond=0)
    if candidate < earliest:
        candidate += timedelta(days=1)
    return candidate


def unreachable_by_reminders(placement: dict[str, Any]) -> dict[str, Any]:
    """The placement of a borrower who consented to neither SMS nor e-mail: the reminders service finds
    no contact point for its first reminder, so only the test's own requests and attempts reach
    compliance for this account (calls, letters and CN e-mail need no such consent)."""
    for phone in placement["borrower"]["phones"]:
        phone["consent_sms"] = False
    for email in placement["borrower"]["emails"]:
        email["consent"] = False
    return placement


def rules_of(decision: dict[str, Any]) -> set[str]:
    return {reason["rule"] for reason in decision["reasons"]}


@dataclass(frozen=True)
class Record:
    """One record of compliance.v1: CloudEvents headers, key and JSON payload."""

    type: str
    key: str
    headers: dict[str, str]
    payload: dict[str, Any]


class ComplianceFeed:
    """Everything compliance publishes from the moment the feed starts (earlier records are skipped)."""

    def __init__(self, bootstrap: str) -> None:
        self._bootstrap = bootstrap
        self._consumer: AIOKafkaConsumer | None = None
        self.records: list[Record] = []

    async def start(self) -> None:
        tps = [
            TopicPartition(COMPLIANCE_TOPIC, p)
            for p in await partitions_of(self._bootstrap, COMPLIANCE_TOPIC)
        ]
        assert tps, f"topic {COMPLIANCE_TOPIC} does not exist"
        self._consumer = AIOKafkaConsumer(
            bootstrap_servers=self._bootstrap, enable_auto_commit=False, group_id=None
        )
        await self._consumer.start()
        self._consumer.assign(tps)
        await self._consumer.seek_to_end(*tps)
        for tp in tps:  # resolve the end offsets now, before any test publishes
            await self._consumer.position(tp)

    async def stop(self) -> None:
        if self._consumer is not None:
            await self._consumer.stop()

    async def _drain(self) -> None:
        assert self._consumer is not None
        batches = await self._consumer.getmany(timeout_ms=200)
        for records in batches.values():
            for r in records:
                headers = {k: v.decode() for k, v in r.headers}
                self.records.append(
                    Record(
                        type=headers["ce_type"],
                        key=r.key.decode(),
                        headers=headers,
                        payload=orjson.loads(r.value),
                    )
                )

    def matching(self, predicate: Callable[[Record], bool]) -> list[Record]:
        return [r for r in self.records if predicate(r)]

    async def wait_for(
        self, predicate: Callable[[Record], bool], *, count: int = 1, timeout_s: float = 60
    ) -> list[Record]:
        """The records matching `predicate` once there are at least `count` of them."""
        deadline = time.monotonic() + timeout_s
        while len(found := self.matching(predicate)) < count:
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"{len(found)} of {count} records on {COMPLIANCE_TOPIC} within {timeout_s}s"
                )
            await self._drain()
        return found


class ReminderSide:
    """Publishes on reminders.v1 exactly as the reminders service's relay would."""

    def __init__(self, producer: AIOKafkaProducer) -> None:
        self._producer = producer

    async def publish(
        self,
        data: Contract,
        *,
        tenant: str,
        account_id: str,
        borrower_id: str,
        event_id: uuid.UUID | None = None,
    ) -> uuid.UUID:
        ce_type, version = type_of(type(data))
        envelope = new_envelope(
            ce_type=ce_type,
            version=version,
            source="reminders",
            tenant=tenant,
            subject=account_id,
            event_id=event_id,
        )
        headers = [(k, v.encode()) for k, v in envelope.to_headers().items()]
        await self._producer.send_and_wait(
            REMINDERS_TOPIC, value=encode_payload(data), key=borrower_id.encode(), headers=headers
        )
        published: uuid.UUID = envelope.id
        return published


@dataclass(frozen=True)
class Placed:
    """An account placed through intake and known to compliance."""

    tenant: str
    account_id: str
    borrower_id: str
    external_account_id: str
    jurisdiction: str


@dataclass
class Desk:
    """One tenant: its lender posts to intake, its compliance officer reads compliance, and it plays
    the reminders service on Kafka."""

    stack: Stack
    intake: httpx.AsyncClient
    compliance: httpx.AsyncClient
    feed: ComplianceFeed
    reminders: ReminderSide
    tenant: str
    lender: Lender = field(init=False)

    def __post_init__(self) -> None:
        self.lender = Lender(stack=self.stack, http=self.intake, tenant=self.tenant)

    def headers(self, role: Role = Role.COMPLIANCE, *, tenant: str | None = None) -> dict[str, str]:
        found: dict[str, str] = self.stack.headers(tenant=tenant or self.tenant, role=role)
        return found

    # --- intake ----------------------------------------------------------------------------------

    async def place(self, placement: dict[str, Any]) -> Placed:
        """Post a placement and wait until compliance has read it."""
        account_id = await self.lender.accept(placement)
        state: dict[str, Any] = {}

        async def known() -> bool:
            nonlocal state
            response = await self.compliance.get(f"/v1/accounts/{account_id}/state", headers=self.headers())
            state = response.json()
            return response.status_code == 200

        await eventually(known, timeout_s=60, interval_s=0.1)
        return Placed(
            tenant=self.tenant,
            account_id=account_id,
            borrower_id=state["borrower_id"],
            external_account_id=placement["account"]["external_account_id"],
            jurisdiction=state["jurisdiction"],
        )

    # --- compliance API --------------------------------------------------------------------------

    async def state(self, account_id: str) -> dict[str, Any]:
        response = await self.compliance.get(f"/v1/accounts/{account_id}/state", headers=self.headers())
        assert response.status_code == 200, response.text
        found: dict[str, Any] = response.json()
        return found

    async def contact_point(self, placed: Placed, kind: str) -> str:
        """The hashed id of the borrower's only `kind` ("phone" or "email") contact point."""
        consents = (await self.state(placed.account_id))["consents"]
        (point,) = [cp for cp, consent in consents.items() if consent["kind"] == kind]
        return str(point)

    async def evaluate(self, account_id: str, **body: Any) -> dict[str, Any]:
        body = {"channel": "voice_call", **body, "account_id": account_id}
        if isinstance(body.get("at"), datetime):
            body["at"] = body["at"].isoformat()
        response = await self.compliance.post("/v1/permits:evaluate", json=body, headers=self.headers())
        assert response.status_code == 200, response.text
        found: dict[str, Any] = response.json()
        return found

    async def decisions(self, account_id: str) -> list[dict[str, Any]]:
        response = await self.compliance.get(f"/v1/accounts/{account_id}/decisions", headers=self.headers())
        assert response.status_code == 200, response.text
        items: list[dict[str, Any]] = response.json()["items"]
        return items

    async def violations(self) -> list[dict[str, Any]]:
        response = await self.compliance.get("/v1/violations", headers=self.headers())
        assert response.status_code == 200, response.text
        items: list[dict[str, Any]] = response.json()["items"]
        return items

    async def verdict_settles(
        self, account_id: str, expected: Callable[[dict[str, Any]], bool], **body: Any
    ) -> dict[str, Any]:
        """Dry-run until the answer satisfies `expected` (compliance reads lender events asynchronously)."""
        last: dict[str, Any] = {}

        async def settled() -> bool:
            nonlocal last
            last = await self.evaluate(account_id, **body)
            return expected(last)

        try:
            await eventually(settled, timeout_s=60, interval_s=0.1)
        except AssertionError as exc:
            raise AssertionError(f"last decision: {last}") from exc
        return last

    # --- the reminders side, on Kafka ------------------------------------------------------------

    def permit_request(
        self, placed: Placed, *, at: datetime, channel: str = "voice_call", **fields: Any
    ) -> PermitRequested:
        return PermitRequested(
            request_id=f"req-{uuid.uuid4().hex}",
            requester="reminders",
            account_id=placed.account_id,
            borrower_id=placed.borrower_id,
            channel=channel,
            at=at,
            **fields,
        )

    async def publish(
        self, placed: Placed, data: Contract, *, event_id: uuid.UUID | None = None
    ) -> uuid.UUID:
        return await self.reminders.publish(
            data,
            tenant=placed.tenant,
            account_id=placed.account_id,
            borrower_id=placed.borrower_id,
            event_id=event_id,
        )

    async def decided_record(self, request_id: str, *, timeout_s: float = 60) -> Record:
        (record,) = await self.feed.wait_for(
            lambda r: r.type == "permit.decided" and r.payload["request_id"] == request_id,
            timeout_s=timeout_s,
        )
        return record

    async def decided(self, request_id: str, *, timeout_s: float = 60) -> dict[str, Any]:
        return (await self.decided_record(request_id, timeout_s=timeout_s)).payload

    async def permit(self, placed: Placed, *, at: datetime | None = None, **fields: Any) -> dict[str, Any]:
        """Ask for a permit over Kafka and wait for compliance's answer."""
        request = self.permit_request(placed, at=at or datetime.now(UTC), **fields)
        await self.publish(placed, request)
        return await self.decided(request.request_id)

    async def attempt(
        self,
        placed: Placed,
        *,
        outcome: str,
        at: datetime | None = None,
        channel: str = "voice_call",
        permit_id: str | None = None,
        **fields: Any,
    ) -> str:
        """Report a contact attempt over Kafka; returns its attempt id."""
        attempted = ContactAttempted(
            attempt_id=f"att-{uuid.uuid4().hex}",
            account_id=placed.account_id,
            borrower_id=placed.borrower_id,
            channel=channel,
            outcome=outcome,
            at=at or datetime.now(UTC),
            permit_id=permit_id,
            **fields,
        )
        await self.publish(placed, attempted)
        return str(attempted.attempt_id)

    async def violation(self, attempt_id: str, *, timeout_s: float = 60) -> Record:
        (record,) = await self.feed.wait_for(
            lambda r: r.type == "violation.detected" and r.payload["attempt_id"] == attempt_id,
            timeout_s=timeout_s,
        )
        return record
