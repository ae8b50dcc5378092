"""Promises to pay and repayment plans: tracked against payments, kept, broken or missed."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

import common.contracts.reminders as r
from reminders import repository as repo
from reminders.outgoing import publish

GRACE = timedelta(days=2)


async def make_promise(
    session: AsyncSession, account: Any, *, amount_minor: int, due_date: date, source: str, at: datetime
) -> uuid.UUID:
    promise_id = uuid.uuid4()
    await repo.insert_promise(
        session,
        promise_id=promise_id,
        tenant=account.tenant,
        account_id=account.account_id,
        amount_minor=amount_minor,
        due_date=due_date,
        source=source,
    )
    await _publish(
        session,
        account,
        r.PromiseMade(
            **_ids(account, at),
            promise_id=str(promise_id),
            amount_minor=amount_minor,
            currency=account.currency,
            due_date=due_date,
            source=source,
        ),
    )
    return promise_id


async def make_plan(
    session: AsyncSession, account: Any, *, installments: list[tuple[date, int]], at: datetime
) -> uuid.UUID:
    plan_id = uuid.uuid4()
    await repo.insert_plan(
        session,
        plan_id=plan_id,
        tenant=account.tenant,
        account_id=account.account_id,
        installments=[
            {"due_date": d.isoformat(), "amount_minor": a, "paid_minor": 0, "state": "open"}
            for d, a in installments
        ],
    )
    await _publish(
        session,
        account,
        r.PlanCreated(
            **_ids(account, at),
            plan_id=str(plan_id),
            currency=account.currency,
            installments=[r.Installment(due_date=d, amount_minor=a) for d, a in installments],
        ),
    )
    return plan_id


async def apply_payment(session: AsyncSession, account: Any, *, amount_minor: int, at: datetime) -> None:
    """A payment counts towards active promises first, then the open installments of active plans."""
    left = amount_minor
    for promise in await repo.promises_of(session, account.account_id):
        if promise.state != "active" or left <= 0:
            continue
        paid = promise.paid_minor + left
        left = max(paid - promise.amount_minor, 0)
        if paid >= promise.amount_minor:
            await repo.update_promise(
                session, promise.promise_id, paid_minor=promise.amount_minor, state="kept"
            )
            await _publish(
                session, account, r.PromiseKept(**_ids(account, at), promise_id=str(promise.promise_id))
            )
        else:
            await repo.update_promise(session, promise.promise_id, paid_minor=paid)
    for plan in await repo.plans_of(session, account.account_id):
        if plan.state != "active":
            continue
        installments = [dict(i) for i in plan.installments]
        for inst in installments:
            if left <= 0 or inst["state"] == "paid":
                continue
            take = min(inst["amount_minor"] - inst["paid_minor"], left)
            inst["paid_minor"] += take
            left -= take
            if inst["paid_minor"] >= inst["amount_minor"]:
                inst["state"] = "paid"
        completed = all(i["state"] == "paid" for i in installments)
        await repo.update_plan(
            session, plan.plan_id, installments=installments, state="completed" if completed else "active"
        )
        if completed:
            await _publish(session, account, r.PlanCompleted(**_ids(account, at), plan_id=str(plan.plan_id)))


async def sweep(session: AsyncSession, *, now: datetime) -> None:
    """Mark promises broken and installments missed once their date plus grace has passed."""
    today = now.date()
    for promise in await repo.due_promises(session, before=now - GRACE):
        account = await repo.account(session, promise.account_id)
        await repo.update_promise(session, promise.promise_id, state="broken")
        await _publish(
            session, account, r.PromiseBroken(**_ids(account, now), promise_id=str(promise.promise_id))
        )
    for plan in await repo.active_plans(session):
        installments = [dict(i) for i in plan.installments]
        missed = [
            i
            for i in installments
            # today - GRACE, not due + GRACE: an installment dated 9999-12-31 (stored before dates
            # were bounded) would overflow and stop the sweep for every tenant
            if i["state"] == "open" and date.fromisoformat(i["due_date"]) < today - GRACE
        ]
        if not missed:
            continue
        account = await repo.account(session, plan.account_id)
        for inst in missed:
            inst["state"] = "missed"
            await _publish(
                session,
                account,
                r.PlanInstallmentMissed(
                    **_ids(account, now),
                    plan_id=str(plan.plan_id),
                    due_date=date.fromisoformat(inst["due_date"]),
                    amount_minor=inst["amount_minor"],
                ),
            )
        await repo.update_plan(session, plan.plan_id, installments=installments)


def _ids(account: Any, at: datetime) -> dict[str, Any]:
    return {"account_id": str(account.account_id), "borrower_id": str(account.borrower_id), "at": at}


async def _publish(session: AsyncSession, account: Any, data: Any) -> None:
    await publish(
        session, data, tenant=account.tenant, borrower_id=account.borrower_id, account_id=account.account_id
    )
