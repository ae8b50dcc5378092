"""Turning a strategy into reminder jobs for an account as its days past due grow, and escalating."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

import common.contracts.reminders as r
from reminders import repository as repo
from reminders.domain.jobs import pausing_holds
from reminders.domain.strategy import (
    Strategy,
    assign_variant,
    due_steps,
    escalation_due,
    load_default,
    spaced,
    steps_for,
)
from reminders.outgoing import publish

BUILTIN = "builtin"
# A promise or plan pauses the ladder until its date plus this grace.
PROMISE_GRACE = timedelta(days=2)


def local_today(timezones: list[str], now: datetime) -> date:
    zone = timezones[0] if timezones else "UTC"
    try:
        return now.astimezone(ZoneInfo(zone)).date()
    except (KeyError, ValueError):
        return now.date()


def days_past_due(due: date, today: date) -> int:
    return max((today - due).days, 0)


async def strategy_for(session: AsyncSession, *, tenant: str, name: str, jurisdiction: str) -> Strategy:
    if name != BUILTIN:
        row = await repo.strategy(session, tenant, name)
        if row is not None:
            return Strategy.model_validate(row.document)
    return load_default(jurisdiction)


async def choose_strategy(
    session: AsyncSession, *, tenant: str, account_id: uuid.UUID, jurisdiction: str
) -> tuple[str, str]:
    """The tenant's own `default` strategy when it saved one, else the jurisdiction's built-in one."""
    # The tenant's own default applies to accounts of its jurisdiction; others get the built-in one.
    own = await repo.strategy(session, tenant, "default")
    country = jurisdiction.split("-")[0]
    name = BUILTIN
    if own is not None and str(own.document.get("jurisdiction", "")).split("-")[0] == country:
        name = "default"
    strategy = await strategy_for(session, tenant=tenant, name=name, jurisdiction=jurisdiction)
    return name, assign_variant(strategy, str(account_id)).name


# The validation notice's states on the account: the ladder waits while it is pending.
NOTICE_FINAL = frozenset({"sent", "failed", "denied", "cancelled"})


def next_planning(account: Any, now: datetime) -> datetime:
    """When the account needs planning again if nothing happens to it: just after the next midnight
    where its days past due are counted (rungs, escalation and promise grace all move by the day).
    Events that change it (a payment, a hold, a promise kept or broken) plan it at once."""
    zone_name = account.timezones[0] if account.timezones else "UTC"
    try:
        zone = ZoneInfo(zone_name)
    except (KeyError, ValueError):
        zone = ZoneInfo("UTC")
    tomorrow = now.astimezone(zone).date() + timedelta(days=1)
    return datetime.combine(tomorrow, datetime.min.time(), tzinfo=zone) + timedelta(minutes=1)


async def plan(session: AsyncSession, account: Any, *, now: datetime, spacing: timedelta) -> int:
    """Plan the jobs now due for an open account, and when to look at it again; returns how many
    jobs were added."""
    added = await _plan(session, account, now=now, spacing=spacing)
    if account.status == "open":
        await repo.update_account(session, account.account_id, next_plan_at=next_planning(account, now))
    return added


async def _plan(session: AsyncSession, account: Any, *, now: datetime, spacing: timedelta) -> int:
    """Plan the jobs now due for an open account; returns how many were added.

    A US account's validation notice goes first (12 CFR 1006.34(a)(1)); the ladder starts once it has
    gone, or once it turned out it cannot. A GB account flagged vulnerable is paused for review.
    Several rungs due at once are spaced `spacing` apart, never sent in one burst.
    """
    if account.status != "open":
        return 0
    if account.notice_state == "pending" and not await _notice_settled(session, account, now=now):
        return 0
    if pausing_holds(account.jurisdiction, frozenset(account.holds)):
        return 0
    strategy = await strategy_for(
        session, tenant=account.tenant, name=account.strategy, jurisdiction=account.jurisdiction
    )
    dpd = days_past_due(account.due_date, local_today(list(account.timezones), now))
    promises = await repo.promises_of(session, account.account_id)
    plans = await repo.plans_of(session, account.account_id)
    paused = any(p.state == "active" and now.date() <= p.due_date + PROMISE_GRACE for p in promises)
    active_plan = any(p.state == "active" for p in plans)
    added = 0
    if not paused and not active_plan:
        variant = next((v for v in strategy.variants if v.name == account.variant), strategy.variants[0])
        steps = due_steps(steps_for(strategy, variant), dpd=dpd, done=set(account.steps_done))
        rows = [
            {
                "job_id": uuid.uuid4(),
                "tenant": account.tenant,
                "account_id": account.account_id,
                "borrower_id": account.borrower_id,
                "step_dpd": step.dpd,
                "channel": step.channel,
                "purpose": step.purpose,
                "state": "planned",
                "due_at": due_at,
            }
            for step, due_at in spaced(steps, start=now, spacing=spacing)
        ]
        added = await repo.plan_jobs(session, rows)
        if steps:
            done = sorted(set(account.steps_done) | {s.dpd for s in steps})
            await repo.update_account(session, account.account_id, steps_done=done)
    balance = account.amount_due_minor - account.paid_minor
    target = escalation_due(
        strategy,
        dpd=dpd,
        amount_minor=balance,
        active_promise=any(p.state == "active" for p in promises),
        active_plan=active_plan,
    )
    # FCA CONC 7.3.4R: a GB account is offered forbearance (and the offer sent) before a field visit.
    gb_visit = target == "visit" and account.jurisdiction.startswith("GB")
    if gb_visit and not await repo.has_sent(session, account.account_id, purpose="forbearance_offer"):
        target = None
    if target is not None and account.escalated_at is None:
        await repo.update_account(session, account.account_id, escalated_at=now)
        await escalate(
            session,
            account,
            to=target,
            at=now,
            dpd=dpd,
            reason=f"DPD {dpd}, {balance} {account.currency} outstanding, no active promise or plan",
        )
    return added


async def escalate(
    session: AsyncSession, account: Any, *, to: str, at: datetime, dpd: int, reason: str
) -> None:
    balance = account.amount_due_minor - account.paid_minor
    await publish(
        session,
        r.CollectionEscalated(
            account_id=str(account.account_id),
            borrower_id=str(account.borrower_id),
            at=at,
            to=to,
            reason=reason,
            dpd=dpd,
            amount_minor=balance,
        ),
        tenant=account.tenant,
        borrower_id=account.borrower_id,
        account_id=account.account_id,
    )


async def _notice_settled(session: AsyncSession, account: Any, *, now: datetime) -> bool:
    """Whether the validation notice no longer holds the ladder back: planned now if it is not yet."""
    job = await repo.notice_job(session, account.account_id)
    if job is None:
        channel = notice_channel(account)
        if channel is None:
            await repo.update_account(session, account.account_id, notice_state="unavailable")
            return True
        await repo.plan_jobs(
            session,
            [
                {
                    "job_id": uuid.uuid4(),
                    "tenant": account.tenant,
                    "account_id": account.account_id,
                    "borrower_id": account.borrower_id,
                    "step_dpd": 0,
                    "channel": channel,
                    "purpose": "validation_notice",
                    "state": "planned",
                    "due_at": now,
                }
            ],
        )
        return False
    if job.state not in NOTICE_FINAL:
        return False
    await repo.update_account(
        session, account.account_id, notice_state="sent" if job.state == "sent" else "failed"
    )
    return True


def notice_channel(account: Any) -> str | None:
    """E-mail where the borrower consented to electronic delivery (12 CFR 1006.42), else a letter."""
    contacts = account.contacts or {}
    if "email" not in account.opted_out and any(
        e.get("consent") and not e.get("employer") for e in contacts.get("emails", [])
    ):
        return "email"
    if "letter" not in account.opted_out and contacts.get("addresses"):
        return "letter"
    return None
