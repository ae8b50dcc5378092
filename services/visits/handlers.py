"""Visits' event handlers: keep its view of accounts from intake.v1, open cases on escalation,
follow compliance's answers, cancel a visit the moment a debt is paid, closed, disputed or held,
and follow the promises made at the door."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

import common.contracts.contact as k
import common.contracts.intake as c
import common.contracts.reminders as r
from common.clock import Clock
from common.messaging.consumer import EventRouter
from common.messaging.envelope import Event
from visits import cases
from visits import repository as repo
from visits.domain import CANCELLING_HOLDS
from visits.routing.days import priority

IntakeHandler = Callable[[AsyncSession, Event[Any]], Awaitable[None]]


def home_address(addresses: list[c.Address]) -> c.Address | None:
    """The address a crew visits: the home one, else the first on file (never a work address)."""
    homes = [a for a in addresses if a.type == "home"]
    others = [a for a in addresses if a.type not in ("home", "work")]
    found = homes or others
    return found[0] if found else None


def build_router(clock: Clock, policy: cases.Policy) -> EventRouter:
    router = EventRouter()

    def on_intake(ce_type: str) -> Callable[[IntakeHandler], IntakeHandler]:
        """An intake.v1 handler that also records how far into the borrower's events we are."""

        def register(handler: IntakeHandler) -> IntakeHandler:
            async def handle(session: AsyncSession, event: Event[Any]) -> None:
                await handler(session, event)
                if event.data.seq:
                    await repo.update_accounts(
                        session,
                        [
                            a.account_id
                            for a in await repo.accounts_of_borrower(session, _id(event.data.borrower_id))
                        ],
                        intake_seq=event.data.seq,
                    )

            router.on(ce_type)(handle)
            return handler

        return register

    @router.on_batch("account.placed")
    async def placed(session: AsyncSession, events: list[Event[c.AccountPlaced]]) -> None:
        rows: list[dict[str, Any]] = []
        for event in events:
            d = event.data
            address = home_address(d.borrower.addresses)
            rows.append(
                {
                    "account_id": _id(d.account_id),
                    "tenant": event.envelope.tenant,
                    "borrower_id": _id(d.borrower_id),
                    "jurisdiction": d.account.jurisdiction,
                    "currency": d.account.currency,
                    "amount_due_minor": d.account.amount_due_minor,
                    "due_date": d.account.due_date,
                    "timezones": d.borrower.timezones,
                    "address": address.sealed if address else None,
                    "address_id": address.id if address else None,
                    "region": address.region if address else None,
                    "intake_seq": d.seq,
                }
            )
        await repo.upsert_accounts(session, rows)
        # An escalation that overtook the placement (another topic) waits for it here.
        waiting = await repo.visits_of_accounts(
            session, [row["account_id"] for row in rows], states=["awaiting_account"]
        )
        for visit in waiting:
            account = await repo.account(session, visit.account_id)
            await repo.update_visit(session, visit.visit_id, date=cases.next_day(account, clock.now()))
            await cases.ask_permit(
                session, policy, await repo.visit(session, visit.visit_id), account, now=clock.now()
            )

    @on_intake("account.updated")
    async def updated(session: AsyncSession, event: Event[c.AccountUpdated]) -> None:
        d = event.data
        await repo.update_accounts(
            session, [_id(d.account_id)], amount_due_minor=d.amount_due_minor, due_date=d.due_date
        )

    @on_intake("payment.received")
    async def paid(session: AsyncSession, event: Event[c.PaymentReceived]) -> None:
        d = event.data
        account = await repo.account(session, _id(d.account_id), lock=True)
        if account is not None:
            await repo.update_accounts(
                session, [account.account_id], paid_minor=account.paid_minor + d.amount_minor
            )
        # Whoever just paid is not visited: a later escalation opens a new case if one is needed.
        await cases.cancel_open(
            session, [_id(d.account_id)], reason="payment", detail="a payment was received", now=clock.now()
        )

    @on_intake("account.closed")
    async def closed(session: AsyncSession, event: Event[c.AccountClosed]) -> None:
        d = event.data
        await repo.update_accounts(session, [_id(d.account_id)], status="closed")
        reason = "recalled" if d.reason == "recalled" else "closed"
        await cases.cancel_open(
            session, [_id(d.account_id)], reason=reason, detail=f"account closed: {d.reason}", now=clock.now()
        )

    @on_intake("dispute.opened")
    async def disputed(session: AsyncSession, event: Event[c.DisputeOpened]) -> None:
        d = event.data
        account = await repo.account(session, _id(d.account_id), lock=True)
        if account is not None:
            await repo.update_accounts(
                session, [account.account_id], holds=sorted({*account.holds, "dispute"})
            )
        await cases.cancel_open(
            session, [_id(d.account_id)], reason="dispute", detail="a dispute was opened", now=clock.now()
        )

    @on_intake("dispute.resolved")
    async def resolved(session: AsyncSession, event: Event[c.DisputeResolved]) -> None:
        account = await repo.account(session, _id(event.data.account_id), lock=True)
        if account is not None:
            await repo.update_accounts(
                session, [account.account_id], holds=sorted(set(account.holds) - {"dispute"})
            )

    @on_intake("hold.set")
    async def hold_set(session: AsyncSession, event: Event[c.HoldSet]) -> None:
        d = event.data
        stops = d.hold in CANCELLING_HOLDS or (d.hold == "channel_opt_out" and d.channel == "visit")
        hold = "do_not_visit" if d.hold == "channel_opt_out" else d.hold
        accounts = await repo.accounts_of_borrower(session, _id(d.borrower_id))
        for account in accounts:
            await repo.update_accounts(session, [account.account_id], holds=sorted({*account.holds, hold}))
        if stops:
            await cases.cancel_open(
                session,
                [a.account_id for a in accounts],
                reason=hold,
                detail=f"hold set: {d.hold}",
                now=clock.now(),
            )

    @on_intake("hold.cleared")
    async def hold_cleared(session: AsyncSession, event: Event[c.HoldCleared]) -> None:
        d = event.data
        hold = "do_not_visit" if d.hold == "channel_opt_out" else d.hold
        for account in await repo.accounts_of_borrower(session, _id(d.borrower_id)):
            await repo.update_accounts(
                session, [account.account_id], holds=sorted(set(account.holds) - {hold})
            )

    @on_intake("borrower.contact_changed")
    async def contact_changed(session: AsyncSession, event: Event[c.ContactChanged]) -> None:
        d = event.data
        address = home_address(d.addresses)
        accounts = await repo.accounts_of_borrower(session, _id(d.borrower_id))
        await repo.update_accounts(
            session,
            [a.account_id for a in accounts],
            timezones=d.timezones,
            address=address.sealed if address else None,
            address_id=address.id if address else None,
            region=address.region if address else None,
        )
        if address is not None:  # a case that had nowhere to go now has
            waiting = await repo.visits_of_accounts(
                session, [a.account_id for a in accounts], states=["awaiting_address"]
            )
            for visit in waiting:
                account = await repo.account(session, visit.account_id)
                await cases.ask_permit(session, policy, visit, account, now=clock.now())

    @on_intake("borrower.erased")
    async def erased(session: AsyncSession, event: Event[c.BorrowerErased]) -> None:
        accounts = await repo.accounts_of_borrower(session, _id(event.data.borrower_id))
        ids = [a.account_id for a in accounts]
        await repo.update_accounts(session, ids, address=None, address_id=None)
        await cases.cancel_open(
            session, ids, reason="erased", detail="the borrower's data was erased", now=clock.now()
        )

    for ce_type in ("contact.reported", "borrower.preferences_changed"):
        on_intake(ce_type)(_nothing)

    @router.on_batch("permit.decided")
    async def decided(session: AsyncSession, events: list[Event[k.PermitDecided]]) -> None:
        mine = [e.data for e in events if e.data.requester == "visits"]
        if mine:
            await cases.permits_decided(session, policy, mine, now=clock.now())

    @router.on("collection.escalated")
    async def escalated(session: AsyncSession, event: Event[r.CollectionEscalated]) -> None:
        d = event.data
        if d.to != "visit":
            return
        await cases.open_case(
            session,
            policy,
            tenant=event.envelope.tenant,
            account_id=_id(d.account_id),
            borrower_id=_id(d.borrower_id),
            source="escalation",
            reason=d.reason,
            day=None,
            priority=priority(d.amount_minor, d.dpd),
            now=clock.now(),
        )

    @router.on("promise.kept")
    async def kept(session: AsyncSession, event: Event[r.PromiseKept]) -> None:
        await _promise_state(session, event.data.promise_id, "kept")

    @router.on("promise.broken")
    async def broken(session: AsyncSession, event: Event[r.PromiseBroken]) -> None:
        await _promise_state(session, event.data.promise_id, "broken")

    return router


async def _nothing(session: AsyncSession, event: Event[Any]) -> None:
    """Nothing visits keeps; only the borrower's event count moves."""


async def _promise_state(session: AsyncSession, promise_id: str, state: str) -> None:
    visit = await repo.visits_with_promise(session, promise_id)
    if visit is not None:
        await repo.update_visit(session, visit.visit_id, promise={**visit.promise, "state": state})


def _id(value: str) -> uuid.UUID:
    return uuid.UUID(value)
