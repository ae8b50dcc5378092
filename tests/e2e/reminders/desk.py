"""The reminders story as the tests drive it: a lender places accounts through intake, the
reminders service plans and sends, the sandbox shows what reached the borrower and compliance shows
what it permitted and counted."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from common.auth import Role
from common.testing.stack import Stack
from tests.e2e.compliance.desk import next_local
from tests.e2e.intake import builders as b
from tests.e2e.intake.lender import Lender
from tests.e2e.reminders.placements import Placement
from tests.support.waiting import eventually

PROBLEM_JSON = "application/problem+json"
FINAL = {"sent", "failed", "denied", "cancelled"}
# What the validation notice says on top (reminders.notices.SUBJECTS).
NOTICE_SUBJECTS = {"Important information about your debt", "Información importante sobre su deuda"}


@dataclass(frozen=True)
class Placed:
    account_id: str
    placement: Placement


@dataclass(frozen=True)
class Clients:
    intake: httpx.AsyncClient
    reminders: httpx.AsyncClient
    compliance: httpx.AsyncClient
    sandbox: httpx.AsyncClient


@dataclass
class Desk:
    """One tenant: its lender, its ops staff and agents on reminders, its compliance officer."""

    stack: Stack
    http: Clients
    tenant: str
    lender: Lender = field(init=False)

    def __post_init__(self) -> None:
        self.lender = Lender(stack=self.stack, http=self.http.intake, tenant=self.tenant)

    def headers(
        self, role: Role = Role.OPS, *, sub: str = "test", tenant: str | None = None
    ) -> dict[str, str]:
        found: dict[str, str] = self.stack.headers(tenant=tenant or self.tenant, role=role, sub=sub)
        return found

    # --- the lender ------------------------------------------------------------------------------

    async def place(self, placement: Placement, *, wait: bool = True) -> Placed:
        """Post a placement; unless told not to wait, return once reminders has read it."""
        placed = Placed(account_id=await self.lender.accept(placement.event), placement=placement)

        async def known() -> bool:
            response = await self.http.reminders.get(
                f"/v1/accounts/{placed.account_id}/reminders", headers=self.headers()
            )
            return response.status_code == 200

        if wait:
            await eventually(known, timeout_s=45, interval_s=0.1)
        return placed

    async def lender_event(self, placed: Placed, type_: str, **fields: Any) -> None:
        await self.lender.accept(b.lender_event(type_, placed.placement.external_account_id, **fields))

    async def pay(self, placed: Placed, amount_minor: int) -> None:
        payment = {"amount_minor": amount_minor, "paid_at": b.now_iso(), "reference": b.fresh("pay")}
        await self.lender_event(placed, "payment.received", payment=payment)

    async def account_view(self, placed: Placed) -> dict[str, Any]:
        """Intake's view of the account: masked contact points and third parties, with their ids."""
        response = await self.http.intake.get(
            f"/v1/accounts/{placed.account_id}", headers=self.headers(Role.LENDER)
        )
        assert response.status_code == 200, response.text
        found: dict[str, Any] = response.json()
        return found

    async def point_id(self, placed: Placed, kind: str = "phones") -> str:
        """The id of the borrower's only phone (or emails, addresses) in intake's account view."""
        (point,) = (await self.account_view(placed))["borrower"][kind]
        return str(point["id"])

    # --- reminders -------------------------------------------------------------------------------

    async def jobs(
        self, account_id: str, *, role: Role = Role.OPS, notices: bool = False
    ) -> list[dict[str, Any]]:
        """The account's collection jobs (and its validation notice job, if `notices`)."""
        response = await self.http.reminders.get(
            f"/v1/accounts/{account_id}/reminders", headers=self.headers(role)
        )
        assert response.status_code == 200, response.text
        items: list[dict[str, Any]] = response.json()["items"]
        return [j for j in items if notices or j["purpose"] != "validation_notice"]

    async def notice_job(self, account_id: str) -> dict[str, Any]:
        """The validation notice job of a US account, once it is final."""
        jobs = await self.jobs_when(
            account_id,
            lambda js: any(j["purpose"] == "validation_notice" and j["state"] in FINAL for j in js),
            notices=True,
        )
        (notice,) = [j for j in jobs if j["purpose"] == "validation_notice"]
        return notice

    async def jobs_when(
        self,
        account_id: str,
        expected: Callable[[list[dict[str, Any]]], bool],
        *,
        timeout_s: float = 45,
        notices: bool = False,
    ) -> list[dict[str, Any]]:
        """The account's jobs once there are some and `expected` holds for them (collection jobs only,
        unless `notices`)."""
        jobs: list[dict[str, Any]] = []

        async def settled() -> bool:
            nonlocal jobs
            response = await self.http.reminders.get(
                f"/v1/accounts/{account_id}/reminders", headers=self.headers()
            )
            if response.status_code == 404:
                return False  # reminders has not read the placement yet
            assert response.status_code == 200, response.text
            jobs = [j for j in response.json()["items"] if notices or j["purpose"] != "validation_notice"]
            return bool(jobs) and expected(jobs)

        try:
            await eventually(settled, timeout_s=timeout_s, interval_s=0.1)
        except AssertionError as exc:
            raise AssertionError(f"jobs: {jobs}") from exc
        return jobs

    async def first_reminder_sent(self, placed: Placed) -> dict[str, Any]:
        """The account's only job, once it is sent: the first reminder of a one-day-overdue account."""
        jobs = await self.jobs_when(placed.account_id, lambda js: all(j["state"] in FINAL for j in js))
        assert [(j["step_dpd"], j["channel"], j["state"]) for j in jobs] == [(0, "sms", "sent")], jobs
        return jobs[0]

    # --- the sandbox -----------------------------------------------------------------------------

    async def messages(self, to: str, *, notices: bool = False) -> list[dict[str, Any]]:
        """What the sandbox received for `to`: reminders, and validation notices if `notices`."""
        response = await self.http.sandbox.get("/v1/messages", params={"to": to})
        assert response.status_code == 200, response.text
        found: list[dict[str, Any]] = response.json()["messages"]
        return [m for m in found if notices or m.get("subject") not in NOTICE_SUBJECTS]

    async def messages_to(self, placement: Placement, *, notices: bool = False) -> list[dict[str, Any]]:
        """What reached the borrower, on any channel: reminders, and validation notices if `notices`."""
        return [
            *await self.messages(placement.phone, notices=notices),
            *await self.messages(placement.email, notices=notices),
        ]

    # --- compliance ------------------------------------------------------------------------------

    async def _evaluate(self, account_id: str, body: dict[str, Any]) -> httpx.Response:
        body = {"channel": "voice_call", **body, "account_id": account_id}
        if isinstance(body.get("at"), datetime):
            body["at"] = body["at"].isoformat()
        return await self.http.compliance.post(
            "/v1/permits:evaluate", json=body, headers=self.headers(Role.COMPLIANCE)
        )

    async def evaluate(self, account_id: str, **body: Any) -> dict[str, Any]:
        """A dry-run permit decision (records nothing)."""
        response = await self._evaluate(account_id, body)
        assert response.status_code == 200, response.text
        found: dict[str, Any] = response.json()
        return found

    async def verdict_settles(
        self, account_id: str, expected: Callable[[dict[str, Any]], bool], **body: Any
    ) -> dict[str, Any]:
        """Dry-run until the answer satisfies `expected` (compliance reads events asynchronously)."""
        last: dict[str, Any] = {}

        async def settled() -> bool:
            nonlocal last
            response = await self._evaluate(account_id, body)
            if response.status_code == 404:
                return False  # compliance has not read the placement yet
            assert response.status_code == 200, response.text
            last = response.json()
            return expected(last)

        try:
            await eventually(settled, timeout_s=45, interval_s=0.2)
        except AssertionError as exc:
            raise AssertionError(f"last decision: {last}") from exc
        return last

    async def state(self, account_id: str) -> dict[str, Any]:
        response = await self.http.compliance.get(
            f"/v1/accounts/{account_id}/state", headers=self.headers(Role.COMPLIANCE)
        )
        assert response.status_code == 200, response.text
        found: dict[str, Any] = response.json()
        return found

    async def contact_point(self, account_id: str, kind: str = "phone") -> str:
        """The hashed id of the borrower's only phone (or e-mail), as compliance knows it."""
        consents = (await self.state(account_id))["consents"]
        (point,) = [cp for cp, consent in consents.items() if consent["kind"] == kind]
        return str(point)

    async def decisions(self, account_id: str) -> list[dict[str, Any]]:
        response = await self.http.compliance.get(
            f"/v1/accounts/{account_id}/decisions", headers=self.headers(Role.COMPLIANCE)
        )
        assert response.status_code == 200, response.text
        items: list[dict[str, Any]] = response.json()["items"]
        return items

    async def permit_used(self, account_id: str, permit_id: str) -> dict[str, Any]:
        """The stored decision of `permit_id`, once compliance has counted the attempt that used it."""
        found: dict[str, Any] = {}

        async def used() -> bool:
            nonlocal found
            found = next((d for d in await self.decisions(account_id) if d["permit_id"] == permit_id), {})
            return found.get("used_at") is not None

        try:
            await eventually(used, timeout_s=45, interval_s=0.2)
        except AssertionError as exc:
            raise AssertionError(f"decision: {found}") from exc
        return found

    async def violations_of(self, account_id: str) -> list[dict[str, Any]]:
        response = await self.http.compliance.get(
            "/v1/violations", params={"limit": 1000}, headers=self.headers(Role.COMPLIANCE)
        )
        assert response.status_code == 200, response.text
        return [v for v in response.json()["items"] if v["account_id"] == account_id]


def tomorrow_noon(placement: Placement) -> datetime:
    """Midday in the borrower's zone, more than a day from now: past the one-message-a-day spacing
    of whatever was just sent, inside every pack's hours."""
    return next_local(placement.zone, 12, after=timedelta(hours=25))


def rules_of(decision: dict[str, Any]) -> set[str]:
    return {reason["rule"] for reason in decision["reasons"]}


def now_utc() -> datetime:
    return datetime.now(UTC)
