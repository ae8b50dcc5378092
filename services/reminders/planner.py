"""Turning a strategy into reminder jobs for an account as its days past due grow, and escalating."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

import common.contracts.reminders as r
from common.messaging.outbox import savepoint
from reminders import repository as repo
from reminders.domain.jobs import pausing_holds
from reminders.domain.settings import TenantSettings
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

log = structlog.get_logger(__name__)

BUILTIN = "builtin"
# A promise or plan pauses the ladder until its date plus this grace.
PROMISE_GRACE = timedelta(days=2)
# An account whose planning failed (bad data from before a validation existed) is tried again after this.
PLAN_RETRY = timedelta(days=1)


def local_today(timezones: list[str], now: datetime) -> date:
    zone = timezones[0] if timezones else "UTC"
    try:
        return now.astimezone(ZoneInfo(zone)).date()
    except (KeyError, ValueError):
        return now.date()


def days_past_due(due: date, today: date) -> int:
    return max((today - due).days, 0)


class Strategies:
    """The strategies a run of accounts uses, each read and parsed once for the run: a tenant's own
    (by name), or the jurisdiction's built-in one; and the run's tenants' settings, read once."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session
        self._rows: dict[tuple[str, str], Any] = {}
        self._parsed: dict[tuple[str, str, str], Strategy] = {}
        self._settings: dict[str, TenantSettings] = {}

    async def settings(self, *tenants: str) -> dict[str, TenantSettings]:
        """These tenants' settings, those not read yet in one statement."""
        missing = [t for t in set(tenants) if t not in self._settings]
        if missing:
            rows = await repo.tenant_settings_of(self._session, missing)
            self._settings.update({t: TenantSettings.of(rows.get(t)) for t in missing})
        return {t: self._settings[t] for t in tenants}

    async def _row(self, tenant: str, name: str) -> Any:
        key = (tenant, name)
        if key not in self._rows:
            self._rows[key] = await repo.strategy(self._session, tenant, name)
        return self._rows[key]

    async def get(self, *, tenant: str, name: str, jurisdiction: str) -> Strategy:
        key = (tenant, name, jurisdiction)
        found = self._parsed.get(key)
        if found is None:
            row = await self._row(tenant, name) if name != BUILTIN else None
            found = Strategy.model_validate(row.document) if row is not None else load_default(jurisdiction)
            self._parsed[key] = found
        return found

    async def choose(self, *, tenant: str, account_id: uuid.UUID, jurisdiction: str) -> tuple[str, str]:
        """The strategy the tenant's settings name, else its own `default`, when it is saved and
        written for this country; else the built-in one; and the account's variant of it."""
        chosen = (await self.settings(tenant))[tenant].default_strategy
        name = BUILTIN
        if chosen != BUILTIN:
            for candidate in ([chosen] if chosen else []) + ["default"]:
                own = await self._row(tenant, candidate)
                if own is not None and _country(own.document.get("jurisdiction")) == _country(jurisdiction):
                    name = candidate
                    break
        strategy = await self.get(tenant=tenant, name=name, jurisdiction=jurisdiction)
        return name, assign_variant(strategy, str(account_id)).name


def _country(jurisdiction: object) -> str:
    return str(jurisdiction or "").split("-")[0]


async def strategy_for(session: AsyncSession, *, tenant: str, name: str, jurisdiction: str) -> Strategy:
    return await Strategies(session).get(tenant=tenant, name=name, jurisdiction=jurisdiction)


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
    return await plan_many(session, [account], now=now, spacing=spacing)


async def plan_due(session: AsyncSession, *, now: datetime, spacing: timedelta, limit: int) -> int:
    """Plan the open accounts whose day has turned, at most `limit` of them, as one run: what they
    need read once per table, what they add written together. When the run fails, each account is
    planned alone, so one account's bad data holds back only itself (looked at again after
    PLAN_RETRY, not at the head of every pass). Returns how many accounts were due."""
    batch = await repo.accounts_to_plan(session, now=now, limit=limit)
    strategies = Strategies(session)
    try:
        async with savepoint(session):
            await plan_many(session, batch, now=now, spacing=spacing, strategies=strategies)
        return len(batch)
    except Exception as exc:  # noqa: BLE001 - found below, account by account
        log.warning("a run of accounts could not be planned; planning them one by one", error=str(exc))
    for account in batch:
        try:
            async with savepoint(session):
                await plan_many(session, [account], now=now, spacing=spacing, strategies=strategies)
        except Exception as exc:  # noqa: BLE001 - one account's bad data must not stop the others
            log.error("account could not be planned", account_id=str(account.account_id), error=str(exc))
            await repo.update_account(session, account.account_id, next_plan_at=now + PLAN_RETRY)
    return len(batch)


@dataclass
class _Run:
    """What planning a run of accounts writes, gathered and then written one statement per table."""

    now: datetime
    spacing: timedelta
    jobs: list[dict[str, Any]] = field(default_factory=list)
    changes: dict[uuid.UUID, dict[str, Any]] = field(default_factory=dict)

    def job(self, account: Any, *, step_dpd: int, channel: str, purpose: str, due_at: datetime) -> None:
        self.jobs.append(
            {
                "job_id": uuid.uuid4(),
                "tenant": account.tenant,
                "account_id": account.account_id,
                "borrower_id": account.borrower_id,
                "step_dpd": step_dpd,
                "channel": channel,
                "purpose": purpose,
                "state": "planned",
                "due_at": due_at,
            }
        )


async def plan_many(
    session: AsyncSession,
    accounts: Sequence[Any],
    *,
    now: datetime,
    spacing: timedelta,
    strategies: Strategies | None = None,
    fresh: bool = False,
) -> int:
    """Plan the jobs now due for a run of accounts, and when to look at each again; returns how many
    jobs were added. What the run needs is read once per table (`fresh`: accounts just placed, which
    have no jobs, promises or plans yet), and what it plans is written together.

    A US account's validation notice goes first (12 CFR 1006.34(a)(1)); the ladder starts once it has
    gone, or once it turned out it cannot. A GB account flagged vulnerable is paused for review.
    Several rungs due at once are spaced `spacing` apart, never sent in one burst.
    """
    open_ = [a for a in accounts if a.status == "open"]
    if not open_:
        return 0
    strategies = strategies or Strategies(session)
    ids = [a.account_id for a in open_]
    pending = [a.account_id for a in open_ if a.notice_state == "pending"]
    notices = {} if fresh else await repo.notice_jobs(session, pending)
    promises = {} if fresh else await repo.promises_of_accounts(session, ids)
    plans = {} if fresh else await repo.plans_of_accounts(session, ids)
    run = _Run(now=now, spacing=spacing)
    settings = await strategies.settings(*{a.tenant for a in open_})
    for account in open_:
        run.changes[account.account_id] = {"next_plan_at": next_planning(account, now)}
        if account.notice_state == "pending" and not _notice_settled(
            run, account, notices.get(account.account_id)
        ):
            continue
        if pausing_holds(account.jurisdiction, frozenset(account.holds)):
            continue
        strategy = await strategies.get(
            tenant=account.tenant, name=account.strategy, jurisdiction=account.jurisdiction
        )
        await _ladder(
            session,
            run,
            account,
            strategy,
            settings[account.tenant],
            promises.get(account.account_id, []),
            plans.get(account.account_id, []),
        )
    added = await repo.plan_jobs(session, run.jobs)
    await repo.update_accounts(session, run.changes)
    return added


async def _ladder(
    session: AsyncSession,
    run: _Run,
    account: Any,
    strategy: Strategy,
    settings: TenantSettings,
    promises: list[Any],
    plans: list[Any],
) -> None:
    """The rungs now due (unless a promise or plan pauses the ladder), and escalation when it is due,
    as the tenant's settings space and route them."""
    now = run.now
    dpd = days_past_due(account.due_date, local_today(list(account.timezones), now))
    paused = any(p.state == "active" and now.date() <= p.due_date + PROMISE_GRACE for p in promises)
    active_plan = any(p.state == "active" for p in plans)
    if not paused and not active_plan:
        variant = next((v for v in strategy.variants if v.name == account.variant), strategy.variants[0])
        steps = due_steps(steps_for(strategy, variant), dpd=dpd, done=set(account.steps_done))
        for step, due_at in spaced(steps, start=now, spacing=settings.spacing(run.spacing)):
            run.job(account, step_dpd=step.dpd, channel=step.channel, purpose=step.purpose, due_at=due_at)
        if steps:
            run.changes[account.account_id]["steps_done"] = sorted(
                set(account.steps_done) | {s.dpd for s in steps}
            )
    balance = account.amount_due_minor - account.paid_minor
    target = settings.escalation(
        escalation_due(
            strategy,
            dpd=dpd,
            amount_minor=balance,
            active_promise=any(p.state == "active" for p in promises),
            active_plan=active_plan,
        )
    )
    # FCA CONC 7.3.4R: a GB account is offered forbearance (and the offer sent) before a field visit.
    gb_visit = target == "visit" and account.jurisdiction.startswith("GB")
    if gb_visit and not await repo.has_sent(session, account.account_id, purpose="forbearance_offer"):
        target = None
    if target is not None and account.escalated_at is None:
        run.changes[account.account_id]["escalated_at"] = now
        await escalate(
            session,
            account,
            to=target,
            at=now,
            dpd=dpd,
            reason=f"DPD {dpd}, {balance} {account.currency} outstanding, no active promise or plan",
        )


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


def _notice_settled(run: _Run, account: Any, job: Any) -> bool:
    """Whether the validation notice no longer holds the ladder back; planned now if it is not yet."""
    if job is None:
        channel = notice_channel(account)
        if channel is None:
            run.changes[account.account_id]["notice_state"] = "unavailable"
            return True
        run.job(account, step_dpd=0, channel=channel, purpose="validation_notice", due_at=run.now)
        return False
    if job.state not in NOTICE_FINAL:
        return False
    run.changes[account.account_id]["notice_state"] = "sent" if job.state == "sent" else "failed"
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
