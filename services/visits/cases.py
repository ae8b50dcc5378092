"""A visit case from escalation to outcome: opened, permitted by compliance, cancelled by a stop
event, checked in and completed. Each function loads what it needs, decides with `visits.domain`,
writes the state and publishes through the outbox in the caller's transaction."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

import common.contracts.contact as k
import common.contracts.reminders as r
import common.contracts.visits as v
from visits import domain
from visits import repository as repo
from visits.outgoing import publish


@dataclass(frozen=True)
class Policy:
    """The settings the cases run under."""

    recording_jurisdictions: frozenset[str]
    default_crew_size: int

    def recording_required(self, jurisdiction: str) -> bool:
        return jurisdiction.split("-")[0] in self.recording_jurisdictions


def next_day(account: Any, now: datetime) -> date:
    """A case with no date is for the borrower's next local day."""
    return domain.local_day(now, domain.zone_of(account.timezones)) + timedelta(days=1)


async def open_case(
    session: AsyncSession,
    policy: Policy,
    *,
    tenant: str,
    account_id: uuid.UUID,
    borrower_id: uuid.UUID,
    source: str,
    reason: str,
    day: date | None,
    priority: int,
    now: datetime,
) -> tuple[uuid.UUID, bool]:
    """The account's open case (False) or a new one (True), its permit asked for at once (or once
    intake's account reaches us, when the escalation overtook it)."""
    existing = await repo.open_visit_of(session, account_id)
    if existing is not None:
        return existing.visit_id, False
    account = await repo.account(session, account_id)
    visit_id = uuid.uuid4()
    values: dict[str, Any] = {
        "visit_id": visit_id,
        "tenant": tenant,
        "account_id": account_id,
        "borrower_id": borrower_id,
        "source": source,
        "reason": reason,
        "state": "awaiting_account",
        "date": day or (next_day(account, now) if account is not None else now.date() + timedelta(days=1)),
        "priority": priority,
    }
    if not await repo.insert_visit(session, values):  # a concurrent request opened one meanwhile
        existing = await repo.open_visit_of(session, account_id)
        return existing.visit_id, False
    if account is not None:
        await ask_permit(session, policy, await repo.visit(session, visit_id, lock=True), account, now=now)
    return visit_id, True


async def ask_permit(
    session: AsyncSession,
    policy: Policy,
    visit: Any,
    account: Any,
    *,
    now: datetime,
    at: datetime | None = None,
    day: date | None = None,
) -> None:
    """Ask compliance whether the visit may happen on its day (or from `at` on): the answer's window
    is where the planner may put it."""
    if account.address is None:  # nowhere to go: the case waits until intake brings an address
        await repo.update_visit(
            session,
            visit.visit_id,
            state="awaiting_address",
            reasons=[{"rule": "visits.no_address", "message": "no home address on file"}],
        )
        return
    day = day or visit.date
    zone = domain.zone_of(account.timezones)
    start, until = domain.permit_window(day, zone, now)
    if start >= until:  # the day is over: the next one
        day = domain.local_day(now, zone) + timedelta(days=1)
        start, until = domain.permit_window(day, zone, now)
    start = max(start, at) if at is not None else start
    request_id = str(uuid.uuid4())
    crew_size = await largest_crew(session, visit.tenant, account.region) or policy.default_crew_size
    recording = policy.recording_required(account.jurisdiction)
    await repo.update_visit(
        session,
        visit.visit_id,
        state="awaiting_permit",
        date=day,
        request_id=request_id,
        permit_id=None,
        window_start=start,
        window_end=until,
        crew_size=crew_size,
        reasons=[],
    )
    await publish(
        session,
        k.PermitRequested(
            request_id=request_id,
            requester="visits",
            account_id=str(account.account_id),
            borrower_id=str(account.borrower_id),
            channel="visit",
            at=start,
            until=until,
            purpose="collection",
            contact_point_id=account.address_id,
            crew_size=crew_size,
            recording=recording,
            id_shown=True,
            intake_seq=account.intake_seq or None,
        ),
        tenant=visit.tenant,
        borrower_id=account.borrower_id,
        account_id=account.account_id,
    )


async def largest_crew(session: AsyncSession, tenant: str, region: str | None) -> int | None:
    """The most agents any of the tenant's crews in the region has: the crew a permit is asked for
    (the planner then sends only crews at least that big)."""
    crews = await repo.crews_of(session, tenant)
    agents = await repo.all_agents(session, tenant)
    sizes = [
        len(c.agent_ids)
        for c in crews
        if c.agent_ids
        and (region is None or agents.get(c.agent_ids[0]) is None or agents[c.agent_ids[0]].region == region)
    ]
    return max(sizes, default=None)


async def permits_decided(
    session: AsyncSession, policy: Policy, decisions: list[k.PermitDecided], *, now: datetime
) -> None:
    """Compliance answered: an allow opens the window, a deferral asks again from when it opens, a
    denial ends the case with compliance's reasons. Answers to superseded requests are ignored."""
    cases = await repo.visits_by_request(session, [d.request_id for d in decisions])
    for d in decisions:
        visit = cases.get(d.request_id)
        if visit is None or visit.state != "awaiting_permit":
            continue
        reasons = [x.model_dump() for x in d.reasons]
        if d.outcome == "allow":
            await repo.update_visit(
                session,
                visit.visit_id,
                state="permitted",
                permit_id=uuid.UUID(d.permit_id),
                window_end=d.expires_at,
                reasons=[],
            )
        elif d.outcome == "defer" and d.not_before is not None:
            account = await repo.account(session, visit.account_id)
            if d.not_before < visit.window_end:
                await ask_permit(session, policy, visit, account, now=now, at=d.not_before)
            else:  # nothing left of this day: the first day compliance opens
                day = domain.local_day(d.not_before, domain.zone_of(account.timezones))
                await ask_permit(session, policy, visit, account, now=now, at=d.not_before, day=day)
        else:
            await repo.update_visit(session, visit.visit_id, state="denied", reasons=reasons)
            detail = "; ".join(x.message for x in d.reasons) or "compliance refused the visit"
            await _publish_cancelled(session, visit, reason="denied", detail=detail, now=now)


async def cancel_open(
    session: AsyncSession, account_ids: list[uuid.UUID], *, reason: str, detail: str, now: datetime
) -> int:
    """End every visit of these accounts not made yet, and take it out of its plan."""
    cancelled = 0
    for visit in await repo.visits_of_accounts(session, account_ids, states=repo.OPEN):
        await repo.update_visit(
            session,
            visit.visit_id,
            state="cancelled",
            reasons=[{"rule": f"visits.{reason}", "message": detail}],
        )
        if visit.state == "planned" and visit.crew_id is not None:
            await _leave_plan(session, visit)
        await _publish_cancelled(session, visit, reason=reason, detail=detail, now=now)
        cancelled += 1
    return cancelled


async def _leave_plan(session: AsyncSession, visit: Any) -> None:
    plan = await repo.plan(session, visit.tenant, visit.crew_id, visit.date, lock=True)
    if plan is None:
        return
    document = dict(plan.document)
    stops = [s for s in document.get("stops", []) if s["visit_id"] != str(visit.visit_id)]
    if len(stops) != len(document.get("stops", [])):
        document["stops"] = stops
        document["cancelled"] = [*document.get("cancelled", []), str(visit.visit_id)]
        await repo.save_plan(session, visit.tenant, visit.crew_id, visit.date, document, plan.solver)


async def _publish_cancelled(
    session: AsyncSession, visit: Any, *, reason: str, detail: str, now: datetime
) -> None:
    await publish(
        session,
        v.VisitCancelled(
            visit_id=str(visit.visit_id),
            account_id=str(visit.account_id),
            borrower_id=str(visit.borrower_id),
            at=now,
            reason=reason,
            detail=detail,
        ),
        tenant=visit.tenant,
        borrower_id=visit.borrower_id,
        account_id=visit.account_id,
    )


def promise_payload(visit: Any, promise: dict[str, Any], currency: str, at: datetime) -> r.PromiseMade:
    return r.PromiseMade(
        account_id=str(visit.account_id),
        borrower_id=str(visit.borrower_id),
        at=at,
        promise_id=promise["promise_id"],
        amount_minor=promise["amount_minor"],
        currency=currency,
        due_date=date.fromisoformat(promise["due_date"]),
        source="visit",
    )


# --- at the door ----------------------------------------------------------------------------------


class Refused(Exception):  # noqa: N818 - reads as what it says
    """A command the visit's state or the law does not allow; `errors` name the fields."""

    def __init__(self, status: int, detail: str, errors: list[dict[str, str]] | None = None) -> None:
        super().__init__(detail)
        self.status, self.detail, self.errors = status, detail, errors or []


@dataclass(frozen=True)
class CheckIn:
    crew_id: str
    crew_size: int
    at: datetime
    lat: float
    lon: float
    recording_id: str | None
    id_shown: bool


async def check_in(
    session: AsyncSession,
    policy: Policy,
    visit: Any,
    account: Any,
    command: CheckIn,
    *,
    place: tuple[float, float] | None,
    flag_distance_m: float,
    now: datetime,
) -> dict[str, Any]:
    """The crew is at the door: refused outside the permit's window or without what the law asks;
    accepted but flagged when it is far from the address on file."""
    if visit.state == "checked_in" and visit.check_in and visit.check_in["crew_id"] == command.crew_id:
        return dict(visit.check_in)  # a retry of the same check-in
    if visit.state != "planned":
        raise Refused(409, f"the visit is {visit.state}, not planned: no check-in")
    if visit.crew_id != command.crew_id:
        raise Refused(409, f"the visit is planned for crew {visit.crew_id}, not {command.crew_id}")
    refusals = domain.check_in_refusals(
        at=command.at,
        window_start=visit.window_start,
        window_end=visit.window_end,
        crew_size=command.crew_size,
        permit_crew_size=visit.crew_size,
        id_shown=command.id_shown,
        recording_required=policy.recording_required(account.jurisdiction),
        recording_id=command.recording_id,
    )
    if refusals:
        raise Refused(
            422, "the check-in is refused", [{"field": x.field, "message": x.message} for x in refusals]
        )
    distance = domain.distance_m(command.lat, command.lon, *place) if place else None
    flagged = distance is None or distance > flag_distance_m
    evidence = [{"kind": "recording", "sha256": sha256(command.recording_id)}] if command.recording_id else []
    record = {
        "crew_id": command.crew_id,
        "crew_size": command.crew_size,
        "at": command.at.isoformat(),
        "distance_m": round(distance) if distance is not None else None,
        "flagged": flagged,
        "id_shown": command.id_shown,
    }
    await repo.update_visit(
        session, visit.visit_id, state="checked_in", check_in=record, evidence=[*visit.evidence, *evidence]
    )
    await publish(
        session,
        v.VisitCheckedIn(
            visit_id=str(visit.visit_id),
            account_id=str(visit.account_id),
            borrower_id=str(visit.borrower_id),
            at=now,
            crew_id=command.crew_id,
            crew_size=command.crew_size,
            checked_in_at=command.at,
            distance_m=round(distance) if distance is not None else -1,
            flagged=flagged,
            id_shown=command.id_shown,
            permit_id=str(visit.permit_id),
            evidence=[v.Evidence(**e) for e in evidence],
        ),
        tenant=visit.tenant,
        borrower_id=visit.borrower_id,
        account_id=visit.account_id,
    )
    return record


@dataclass(frozen=True)
class Outcome:
    outcome: str
    entry_consent: bool
    notes: str | None  # sealed already
    promise: tuple[int, date] | None  # amount, due date
    receipt: dict[str, Any] | None  # client_id, amount_minor, method, number
    evidence: list[dict[str, str]]
    fingerprint: str  # hash of the request body: a retry of the same body changes nothing


async def complete(
    session: AsyncSession, visit: Any, account: Any, command: Outcome, *, agent_id: str | None, now: datetime
) -> bool:
    """The visit's outcome: the attempt reported to compliance, a promise sent to reminders, money
    taken at the door sent to intake as a payment. False when it repeats what is already recorded."""
    existing = None
    if command.receipt is not None:
        existing = await repo.receipt_by_client_id(session, visit.tenant, command.receipt["client_id"])
        if existing is not None and existing.visit_id != visit.visit_id:
            raise Refused(409, "this receipt's client_id is already recorded for another visit")
    if visit.state == "completed":
        # An app that lost signal sends the same outcome again: recorded once, answered the same.
        if visit.outcome_request == command.fingerprint or existing is not None:
            return False
        raise Refused(409, "the visit already has a different outcome")
    if visit.state != "checked_in":
        raise Refused(409, f"the visit is {visit.state}: an outcome needs a check-in first")
    checked_in_at = datetime.fromisoformat(visit.check_in["at"])
    ids = {
        "visit_id": str(visit.visit_id),
        "account_id": str(visit.account_id),
        "borrower_id": str(visit.borrower_id),
    }
    keys = {"tenant": visit.tenant, "borrower_id": visit.borrower_id, "account_id": visit.account_id}
    promise: dict[str, Any] | None = None
    promise_id = None
    if command.promise is not None:
        amount, due = command.promise
        promise_id = uuid.uuid4()
        promise = {"promise_id": str(promise_id), "amount_minor": amount, "due_date": due.isoformat()}
    receipt = None
    if command.receipt is not None:
        receipt_id = uuid.uuid4()
        await repo.insert_receipt(
            session,
            {
                "receipt_id": receipt_id,
                "tenant": visit.tenant,
                "client_id": command.receipt["client_id"],
                "visit_id": visit.visit_id,
                "account_id": visit.account_id,
                "amount_minor": command.receipt["amount_minor"],
                "currency": account.currency,
                "method": command.receipt["method"],
                "number": command.receipt["number"],
                "paid_at": checked_in_at,
            },
        )
        receipt = v.Receipt(
            receipt_id=str(receipt_id),
            amount_minor=command.receipt["amount_minor"],
            currency=account.currency,
            method=command.receipt["method"],
            number=command.receipt["number"],
            paid_at=checked_in_at,
        )
    evidence = [*visit.evidence, *command.evidence]
    await repo.update_visit(
        session,
        visit.visit_id,
        state="completed",
        outcome=command.outcome,
        entry_consent=command.entry_consent,
        notes=command.notes,
        evidence=evidence,
        promise={**promise, "state": "active"} if promise else None,
        promise_id=promise_id,
        outcome_request=command.fingerprint,
        completed_at=now,
    )
    # Every visit made is an attempt in the compliance ledger (US-MA counts one in 30 days).
    await publish(
        session,
        k.ContactAttempted(
            attempt_id=str(uuid.uuid5(visit.visit_id, "visit")),
            account_id=ids["account_id"],
            borrower_id=ids["borrower_id"],
            channel="visit",
            outcome=command.outcome,
            at=checked_in_at,
            permit_id=str(visit.permit_id),
            contact_point_id=account.address_id,
            agent_id=agent_id,
            refused=False,
        ),
        **keys,
    )
    await publish(
        session,
        v.VisitCompleted(
            **ids,
            at=now,
            crew_id=visit.crew_id,
            outcome=command.outcome,
            entry_consent=command.entry_consent,
            checked_in_at=checked_in_at,
            permit_id=str(visit.permit_id),
            notes=command.notes,
            promise_id=promise["promise_id"] if promise else None,
            receipt=receipt,
            evidence=[v.Evidence(**e) for e in evidence],
        ),
        **keys,
    )
    if promise is not None:
        await publish(session, promise_payload(visit, promise, account.currency, now), **keys)
    return True


def sha256(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()
