"""Reminders' event handlers: keep its view of accounts from intake.v1, plan first reminders on
placement, stop everything the moment a debt is paid, recalled, disputed or held, and move jobs
along as compliance decides their permits."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

import common.contracts.contact as k
import common.contracts.intake as c
from common.clock import Clock
from common.messaging.consumer import EventRouter
from common.messaging.envelope import Event
from reminders import planner
from reminders import repository as repo
from reminders.domain.jobs import STOPPING_HOLDS
from reminders.promises import apply_payment

# hold.set kinds that stop reminders (the others narrow visits only).
_STOPPING_HOLD_EVENTS = STOPPING_HOLDS - {"dispute", "closed"}


def build_router(clock: Clock) -> EventRouter:
    router = EventRouter()

    @router.on("account.placed")
    async def placed(session: AsyncSession, event: Event[c.AccountPlaced]) -> None:
        await _placed(session, event, clock.now())

    @router.on("account.updated")
    async def updated(session: AsyncSession, event: Event[c.AccountUpdated]) -> None:
        d = event.data
        await repo.update_account(
            session, uuid.UUID(d.account_id), amount_due_minor=d.amount_due_minor, due_date=d.due_date
        )

    @router.on("payment.received")
    async def paid(session: AsyncSession, event: Event[c.PaymentReceived]) -> None:
        await _payment(session, event, clock.now())

    @router.on("account.closed")
    async def closed(session: AsyncSession, event: Event[c.AccountClosed]) -> None:
        await _stop(
            session, event.data, hold="closed", status="closed", reason=f"account closed: {event.data.reason}"
        )

    @router.on("dispute.opened")
    async def disputed(session: AsyncSession, event: Event[c.DisputeOpened]) -> None:
        await _stop(session, event.data, hold="dispute", reason="a dispute was opened")

    @router.on("dispute.resolved")
    async def resolved(session: AsyncSession, event: Event[c.DisputeResolved]) -> None:
        await _lift(session, [uuid.UUID(event.data.account_id)], "dispute")

    @router.on("hold.set")
    async def hold_set(session: AsyncSession, event: Event[c.HoldSet]) -> None:
        await _hold_set(session, event.data)

    @router.on("hold.cleared")
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

    @router.on("borrower.contact_changed")
    async def contact_changed(session: AsyncSession, event: Event[c.ContactChanged]) -> None:
        d = event.data
        for a in await repo.accounts_of_borrower(session, uuid.UUID(d.borrower_id)):
            await repo.update_account(
                session, a.account_id, contacts=_contacts(d.phones, d.emails), timezones=d.timezones
            )
            await repo.add_contact_points(
                session, _points(a.tenant, a.account_id, a.borrower_id, d.phones, d.emails)
            )

    @router.on("borrower.preferences_changed")
    async def preferences(session: AsyncSession, event: Event[c.PreferencesChanged]) -> None:
        d = event.data
        for a in await repo.accounts_of_borrower(session, uuid.UUID(d.borrower_id)):
            await repo.update_account(session, a.account_id, language=d.language or a.language)

    @router.on("borrower.erased")
    async def erased(session: AsyncSession, event: Event[c.BorrowerErased]) -> None:
        accounts = [
            a.account_id for a in await repo.accounts_of_borrower(session, uuid.UUID(event.data.borrower_id))
        ]
        for account_id in accounts:
            await repo.update_account(session, account_id, contacts={})
        await repo.cancel_pending(session, accounts, reason="the borrower's personal data was erased")

    @router.on("permit.decided")
    async def decided(session: AsyncSession, event: Event[k.PermitDecided]) -> None:
        if event.data.requester == "reminders":
            await _decided(session, event.data)

    return router


def _contacts(phones: list[c.Phone], emails: list[c.Email]) -> dict[str, Any]:
    return {
        "phones": [
            {"id": p.id, "number": p.number, "consent_sms": p.consent_sms, "is_mobile": p.is_mobile}
            for p in phones
        ],
        "emails": [
            {"id": e.id, "address": e.address, "consent": e.consent, "employer": e.employer} for e in emails
        ],
    }


def _points(
    tenant: str, account_id: uuid.UUID, borrower_id: uuid.UUID, phones: list[c.Phone], emails: list[c.Email]
) -> list[dict[str, Any]]:
    rows = [{"contact_point_id": p.id, "channel": "phone"} for p in phones]
    rows += [{"contact_point_id": e.id, "channel": "email"} for e in emails]
    return [{**r, "account_id": account_id, "tenant": tenant, "borrower_id": borrower_id} for r in rows]


async def _placed(session: AsyncSession, event: Event[c.AccountPlaced], now: datetime) -> None:
    d = event.data
    tenant = event.envelope.tenant
    account_id, borrower_id = uuid.UUID(d.account_id), uuid.UUID(d.borrower_id)
    strategy, variant = await planner.choose_strategy(
        session, tenant=tenant, account_id=account_id, jurisdiction=d.account.jurisdiction
    )
    # Holds the borrower already has (a second debt of a deceased borrower) apply at once, and so do
    # the channels they opted out of (a STOP stays a STOP for their next debt).
    earlier = await repo.accounts_of_borrower(session, borrower_id)
    inherited = sorted({h for a in earlier for h in a.holds if h in _STOPPING_HOLD_EVENTS})
    opted_out = sorted({channel for a in earlier for channel in a.opted_out})
    fresh = await repo.insert_account(
        session,
        account_id=account_id,
        tenant=tenant,
        borrower_id=borrower_id,
        external_account_id=d.account.external_account_id,
        jurisdiction=d.account.jurisdiction,
        currency=d.account.currency,
        amount_due_minor=d.account.amount_due_minor,
        due_date=d.account.due_date,
        timezones=d.borrower.timezones,
        language=d.borrower.language,
        contacts=_contacts(d.borrower.phones, d.borrower.emails),
        strategy=strategy,
        variant=variant,
        holds=inherited,
        opted_out=opted_out,
    )
    if not fresh:
        return
    await repo.add_contact_points(
        session, _points(tenant, account_id, borrower_id, d.borrower.phones, d.borrower.emails)
    )
    account = await repo.account(session, account_id, lock=True)
    await planner.plan(session, account, now=now)


async def _payment(session: AsyncSession, event: Event[c.PaymentReceived], now: datetime) -> None:
    d = event.data
    account_id = uuid.UUID(d.account_id)
    row = await repo.account(session, account_id, lock=True)
    if row is None:
        return
    await repo.update_account(session, account_id, paid_minor=row.paid_minor + d.amount_minor)
    await apply_payment(session, row, amount_minor=d.amount_minor, at=d.paid_at or now)
    if d.balance_minor <= 0:
        await _stop(session, d, hold="closed", status="closed", reason="the debt was paid in full")


async def _stop(
    session: AsyncSession, data: Any, *, hold: str, reason: str, status: str | None = None
) -> None:
    account_id = uuid.UUID(data.account_id)
    row = await repo.account(session, account_id, lock=True)
    if row is None:
        return
    values: dict[str, Any] = {"holds": sorted(set(row.holds) | {hold})}
    if status:
        values["status"] = status
    await repo.update_account(session, account_id, **values)
    await repo.cancel_pending(session, [account_id], reason=reason)


async def _lift(session: AsyncSession, account_ids: list[uuid.UUID], hold: str) -> None:
    for account_id in account_ids:
        row = await repo.account(session, account_id, lock=True)
        if row is not None:
            await repo.update_account(session, account_id, holds=sorted(set(row.holds) - {hold}))


async def _hold_set(session: AsyncSession, d: c.HoldSet) -> None:
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


async def _decided(session: AsyncSession, d: k.PermitDecided) -> None:
    job = await repo.job_by_request(session, d.request_id)
    if job is None or job.state != "awaiting_permit":
        return  # cancelled meanwhile, or an answer to an earlier request we no longer wait for
    reasons = [r.model_dump() for r in d.reasons]
    if d.outcome == "allow":
        await repo.update_job(
            session,
            job.job_id,
            state="sending",
            permit_id=uuid.UUID(d.permit_id),
            permit_expires_at=d.expires_at,
            reasons=reasons,
        )
    elif d.outcome == "defer":
        await repo.update_job(
            session,
            job.job_id,
            state="deferred",
            not_before=d.not_before or datetime.now(UTC),
            reasons=reasons,
        )
    else:
        await repo.update_job(session, job.job_id, state="denied", reasons=reasons)
