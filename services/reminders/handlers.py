"""Reminders' event handlers: keep its view of accounts from intake.v1, plan first reminders on
placement, stop everything the moment a debt is paid, recalled, disputed or held, and move jobs
along as compliance decides their permits."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

import common.contracts.contact as k
import common.contracts.intake as c
import common.contracts.reminders as r
from common.clock import Clock
from common.messaging.consumer import EventRouter, NotYet
from common.messaging.envelope import Event
from common.tracing import traceparent_of
from reminders import planner, wake
from reminders import repository as repo
from reminders.domain.jobs import PAUSING_HOLDS, STOPPING_HOLDS
from reminders.promises import apply_payment

# hold.set kinds that stop reminders (the others narrow visits only).
_STOPPING_HOLD_EVENTS = STOPPING_HOLDS - {"dispute", "closed"}


IntakeHandler = Callable[[AsyncSession, Event[Any]], Awaitable[None]]


# Stop events: the priority lane applies them ahead of a backlog of placements when it may.
PRIORITY = frozenset({"payment.received", "account.closed", "dispute.opened", "hold.set", "borrower.erased"})


def build_routers(clock: Clock, *, spacing: timedelta) -> tuple[EventRouter, EventRouter]:
    """The ordered consumers' router, and the priority lane's (stop events only)."""
    router, lane = EventRouter(), EventRouter()

    def on_intake(ce_type: str) -> Callable[[IntakeHandler], IntakeHandler]:
        """An intake.v1 handler that also records how far into the borrower's events we are."""

        def register(handler: IntakeHandler) -> IntakeHandler:
            async def handle(session: AsyncSession, event: Event[Any]) -> None:
                await handler(session, event)
                if event.data.seq:
                    await repo.advance_intake_seq(session, uuid.UUID(event.data.borrower_id), event.data.seq)

            async def ahead(session: AsyncSession, event: Event[Any]) -> None:
                await _next_in_line(session, event.data)
                await handle(session, event)

            router.on(ce_type)(handle)
            if ce_type in PRIORITY:
                lane.on(ce_type)(ahead)
            return handler

        return register

    @on_intake("contact.reported")
    async def reported(session: AsyncSession, event: Event[c.ContactReported]) -> None:
        """Compliance counts the lender's own contacts; here only the borrower's event count moves."""

    @router.on_batch("account.placed")
    async def placed(session: AsyncSession, events: list[Event[c.AccountPlaced]]) -> None:
        await _placed(session, events, clock.now(), spacing=spacing)
        seqs: dict[uuid.UUID, int] = {}
        for event in events:
            borrower_id = uuid.UUID(event.data.borrower_id)
            seqs[borrower_id] = max(seqs.get(borrower_id, 0), event.data.seq or 0)
        await repo.advance_intake_seqs(session, {b: n for b, n in seqs.items() if n})

    @on_intake("account.updated")
    async def updated(session: AsyncSession, event: Event[c.AccountUpdated]) -> None:
        d = event.data
        await repo.update_account(
            session, uuid.UUID(d.account_id), amount_due_minor=d.amount_due_minor, due_date=d.due_date
        )

    @on_intake("payment.received")
    async def paid(session: AsyncSession, event: Event[c.PaymentReceived]) -> None:
        await _payment(session, event, clock.now())

    @on_intake("account.closed")
    async def closed(session: AsyncSession, event: Event[c.AccountClosed]) -> None:
        d = event.data
        await _stop(
            session,
            d,
            hold="closed",
            status="closed",
            reason=f"account closed: {d.reason}",
            closed=(d.reason, d.occurred_at),
        )

    @on_intake("dispute.opened")
    async def disputed(session: AsyncSession, event: Event[c.DisputeOpened]) -> None:
        await _stop(
            session, event.data, hold="dispute", reason="a dispute was opened", sparing=("validation_notice",)
        )

    @on_intake("dispute.resolved")
    async def resolved(session: AsyncSession, event: Event[c.DisputeResolved]) -> None:
        await _lift(session, [uuid.UUID(event.data.account_id)], "dispute")

    @on_intake("hold.set")
    async def hold_set(session: AsyncSession, event: Event[c.HoldSet]) -> None:
        await _hold_set(session, event.data, clock.now())

    @on_intake("hold.cleared")
    async def hold_cleared(session: AsyncSession, event: Event[c.HoldCleared]) -> None:
        d = event.data
        accounts = [a.account_id for a in await repo.accounts_of_borrower(session, uuid.UUID(d.borrower_id))]
        if d.hold == "channel_opt_out" and d.channel:
            for account_id in accounts:
                row = await repo.account(session, account_id, lock=True)
                await repo.update_account(
                    session, account_id, opted_out=sorted(set(row.opted_out) - {d.channel})
                )
        else:
            await _lift(session, accounts, d.hold)

    @on_intake("borrower.contact_changed")
    async def contact_changed(session: AsyncSession, event: Event[c.ContactChanged]) -> None:
        d = event.data
        for a in await repo.accounts_of_borrower(session, uuid.UUID(d.borrower_id)):
            contacts = _contacts(d.phones, d.emails, d.addresses, name=(a.contacts or {}).get("name"))
            await repo.update_account(session, a.account_id, contacts=contacts, timezones=d.timezones)
            await repo.add_contact_points(
                session, _points(a.tenant, a.account_id, a.borrower_id, d.phones, d.emails)
            )

    @on_intake("borrower.preferences_changed")
    async def preferences(session: AsyncSession, event: Event[c.PreferencesChanged]) -> None:
        d = event.data
        for a in await repo.accounts_of_borrower(session, uuid.UUID(d.borrower_id)):
            await repo.update_account(session, a.account_id, language=d.language or a.language)

    @on_intake("borrower.erased")
    async def erased(session: AsyncSession, event: Event[c.BorrowerErased]) -> None:
        accounts = [
            a.account_id for a in await repo.accounts_of_borrower(session, uuid.UUID(event.data.borrower_id))
        ]
        for account_id in accounts:
            await repo.update_account(session, account_id, contacts={})
        await repo.cancel_pending(session, accounts, reason="the borrower's personal data was erased")

    @router.on_batch("permit.decided")
    async def decided(session: AsyncSession, events: list[Event[k.PermitDecided]]) -> None:
        answers = [e.data for e in events if e.data.requester == "reminders"]
        # the job goes on in its decision's trace (the sender, or the next request after a deferral)
        traces = {e.data.request_id: traceparent_of(e) for e in events}
        await _decided(session, answers, clock.now(), spacing=spacing, traces=traces)

    @router.on("promise.made")
    async def door_promise(session: AsyncSession, event: Event[r.PromiseMade]) -> None:
        """A promise made at the door (visits.v1): tracked here like one made on a call, so the
        ladder pauses until it is due and a payment keeps it."""
        await _door_promise(session, event)

    return router, lane


async def _door_promise(session: AsyncSession, event: Event[r.PromiseMade]) -> None:
    d = event.data
    if d.source != "visit":
        return
    account = await repo.account(session, uuid.UUID(d.account_id), lock=True)
    if account is None:
        return
    await repo.insert_promise(
        session,
        promise_id=uuid.UUID(d.promise_id),
        tenant=account.tenant,
        account_id=account.account_id,
        amount_minor=d.amount_minor,
        due_date=d.due_date,
        source="visit",
    )


async def _next_in_line(session: AsyncSession, data: Any) -> None:
    """The priority lane may apply an intake event only when every earlier event of the borrower has
    been applied here (intake numbers them per borrower), so nothing is applied out of order; else
    the ordered consumer applies it in its turn."""
    if not data.seq:
        raise NotYet
    accounts = await repo.accounts_of_borrower(session, uuid.UUID(data.borrower_id))
    if not accounts or any(a.intake_seq != data.seq - 1 for a in accounts):
        raise NotYet


def _contacts(
    phones: list[c.Phone], emails: list[c.Email], addresses: list[c.Address], *, name: str | None
) -> dict[str, Any]:
    """The sealed contact points (and name, for the validation notice) reminders may use."""
    return {
        "name": name,
        "phones": [
            {"id": p.id, "number": p.number, "consent_sms": p.consent_sms, "is_mobile": p.is_mobile}
            for p in phones
        ],
        "emails": [
            {"id": e.id, "address": e.address, "consent": e.consent, "employer": e.employer} for e in emails
        ],
        "addresses": [
            {"id": a.id, "sealed": a.sealed, "country": a.country, "region": a.region, "type": a.type}
            for a in addresses
        ],
    }


def _points(
    tenant: str, account_id: uuid.UUID, borrower_id: uuid.UUID, phones: list[c.Phone], emails: list[c.Email]
) -> list[dict[str, Any]]:
    rows = [{"contact_point_id": p.id, "channel": "phone"} for p in phones]
    rows += [{"contact_point_id": e.id, "channel": "email"} for e in emails]
    return [{**r, "account_id": account_id, "tenant": tenant, "borrower_id": borrower_id} for r in rows]


async def _placed(
    session: AsyncSession, events: list[Event[c.AccountPlaced]], now: datetime, *, spacing: timedelta
) -> None:
    """A run of placements: the accounts in one statement, their contact points in another, and the
    new ones planned together (a replayed placement changes nothing)."""
    strategies = planner.Strategies(session)
    # Holds the borrower already has (a second debt of a deceased borrower) apply at once, and so do
    # the channels they opted out of (a STOP stays a STOP for their next debt); an earlier placement
    # in the same run counts as already there.
    earlier = await repo.accounts_of_borrowers(session, (uuid.UUID(e.data.borrower_id) for e in events))
    rows: list[dict[str, Any]] = []
    points: list[dict[str, Any]] = []
    for event in events:
        d, tenant = event.data, event.envelope.tenant
        account_id, borrower_id = uuid.UUID(d.account_id), uuid.UUID(d.borrower_id)
        strategy, variant = await strategies.choose(
            tenant=tenant, account_id=account_id, jurisdiction=d.account.jurisdiction
        )
        before = earlier[borrower_id]
        row = {
            "account_id": account_id,
            "tenant": tenant,
            "borrower_id": borrower_id,
            "external_account_id": d.account.external_account_id,
            "jurisdiction": d.account.jurisdiction,
            "currency": d.account.currency,
            "amount_due_minor": d.account.amount_due_minor,
            "due_date": d.account.due_date,
            "timezones": d.borrower.timezones,
            "language": d.borrower.language,
            "contacts": _contacts(
                d.borrower.phones, d.borrower.emails, d.borrower.addresses, name=d.borrower.name
            ),
            "third_parties": [
                {"id": t.id, "relationship": t.relationship, "phone_id": t.phone_id} for t in d.third_parties
            ],
            "itemization": d.account.itemization.model_dump(mode="json") if d.account.itemization else None,
            "product": d.account.product,
            # A US account's validation notice goes before anything else (12 CFR 1006.34(a)(1)).
            "notice_state": "pending" if d.account.jurisdiction.startswith("US") else "none",
            "strategy": strategy,
            "variant": variant,
            "holds": sorted({h for a in before for h in a["holds"] if h in _STOPPING_HOLD_EVENTS}),
            "opted_out": sorted({channel for a in before for channel in a["opted_out"]}),
        }
        rows.append(row)
        before.append(row)
        points += _points(tenant, account_id, borrower_id, d.borrower.phones, d.borrower.emails)
    fresh = await repo.insert_accounts(session, rows)
    new = {a.account_id for a in fresh}
    await repo.add_contact_points(session, [p for p in points if p["account_id"] in new])
    await planner.plan_many(session, fresh, now=now, spacing=spacing, strategies=strategies, fresh=True)


async def _payment(session: AsyncSession, event: Event[c.PaymentReceived], now: datetime) -> None:
    d = event.data
    account_id = uuid.UUID(d.account_id)
    row = await repo.account(session, account_id, lock=True)
    if row is None:
        return
    await repo.update_account(session, account_id, paid_minor=row.paid_minor + d.amount_minor)
    await apply_payment(session, row, amount_minor=d.amount_minor, at=d.paid_at or now)
    if d.balance_minor <= 0:
        await _stop(
            session,
            d,
            hold="closed",
            status="closed",
            reason="the debt was paid in full",
            closed=("paid", d.paid_at or now),
        )


async def _stop(
    session: AsyncSession,
    data: Any,
    *,
    hold: str,
    reason: str,
    status: str | None = None,
    sparing: tuple[str, ...] = (),
    closed: tuple[str, datetime] | None = None,
) -> None:
    """Put the account on `hold` and cancel its pending jobs; `closed` is why and when it closed
    (the first word counts: intake follows a payment in full with an account.closed of its own)."""
    account_id = uuid.UUID(data.account_id)
    row = await repo.account(session, account_id, lock=True)
    if row is None:
        return
    values: dict[str, Any] = {"holds": sorted(set(row.holds) | {hold})}
    if status:
        values["status"] = status
    if closed is not None and row.closed_reason is None:
        values["closed_reason"], values["closed_at"] = closed
    await repo.update_account(session, account_id, **values)
    await repo.cancel_pending(session, [account_id], reason=reason, sparing=sparing)


async def _lift(session: AsyncSession, account_ids: list[uuid.UUID], hold: str) -> None:
    for account_id in account_ids:
        row = await repo.account(session, account_id, lock=True)
        if row is not None:
            await repo.update_account(session, account_id, holds=sorted(set(row.holds) - {hold}))


async def _hold_set(session: AsyncSession, d: c.HoldSet, now: datetime) -> None:
    accounts = await repo.accounts_of_borrower(session, uuid.UUID(d.borrower_id))
    ids = [a.account_id for a in accounts]
    if d.hold == "channel_opt_out":
        if d.channel:
            for a in accounts:
                await repo.update_account(
                    session, a.account_id, opted_out=sorted(set(a.opted_out) | {d.channel})
                )
            channels = ["call_task", "voice"] if d.channel == "voice_call" else [d.channel]
            await repo.cancel_pending(
                session, ids, reason=f"the borrower opted out of {d.channel}", channels=channels
            )
        return
    for a in accounts:
        await repo.update_account(session, a.account_id, holds=sorted(set(a.holds) | {d.hold}))
    if d.hold in _STOPPING_HOLD_EVENTS:
        await repo.cancel_pending(session, ids, reason=f"hold: {d.hold}")
    for a in accounts:
        if d.hold in PAUSING_HOLDS.get(a.jurisdiction.split("-", 1)[0], frozenset()) and a.status == "open":
            await repo.cancel_pending(session, [a.account_id], reason=f"paused for review: {d.hold}")
            await planner.escalate(
                session,
                a,
                to="review",
                at=now,
                dpd=planner.days_past_due(a.due_date, planner.local_today(list(a.timezones), now)),
                reason=f"the customer is flagged {d.hold}: a person reviews the account before any contact",
            )


async def _decided(
    session: AsyncSession,
    answers: list[k.PermitDecided],
    now: datetime,
    *,
    spacing: timedelta,
    traces: dict[str, str | None],
) -> None:
    """A run of compliance's answers, applied in the order compliance gave them (one borrower's arrive
    in order, so the latest word counts: an allow after a deferral, say "placement not read yet"
    while compliance caught up, is taken). An answer to an earlier request of a job that asked again
    (compliance was slow) is still an answer for that job, and taking it ends the wait."""
    if not answers:
        return
    found = await repo.jobs_answered(
        session,
        [d.request_id for d in answers],
        [uuid.UUID(d.job_id) for d in answers if d.job_id is not None],
    )
    by_request = {j.request_id: j for j in found if j.request_id}
    by_id = {j.job_id: j for j in found}
    state = {j.job_id: j.state for j in found}
    changes: dict[uuid.UUID, dict[str, Any]] = {}
    denied: list[Any] = []
    for d in answers:
        job = by_request.get(d.request_id) or (by_id.get(uuid.UUID(d.job_id)) if d.job_id else None)
        if job is None or state[job.job_id] not in ("awaiting_permit", "deferred"):
            continue  # cancelled, or answered and acted on meanwhile
        reasons = [r.model_dump() for r in d.reasons]
        if d.outcome == "allow":
            change = {
                "state": "sending",
                "permit_id": uuid.UUID(d.permit_id),
                "permit_expires_at": d.expires_at,
                "reasons": reasons,
            }
        elif d.outcome == "defer":
            change = {
                "state": "deferred",
                "not_before": d.not_before or datetime.now(UTC),
                "reasons": reasons,
            }
        else:
            change = {"state": "denied", "reasons": reasons}
            denied.append(job)
        if traces.get(d.request_id):
            change["traceparent"] = traces[d.request_id]
        state[job.job_id] = change["state"]
        changes[job.job_id] = {**changes.get(job.job_id, {}), **change}
    await repo.update_jobs(session, changes)
    if any(c["state"] == "sending" for c in changes.values()):
        await wake.jobs_sendable(session)
    for job in denied:
        await settled(session, job, now=now, spacing=spacing)


async def settled(session: AsyncSession, job: Any, *, now: datetime, spacing: timedelta) -> None:
    """A job reached a final state: if it was the validation notice, the ladder may start now."""
    if job.purpose != "validation_notice":
        return
    account = await repo.account(session, job.account_id, lock=True)
    if account is not None:
        await planner.plan(session, account, now=now, spacing=spacing)
