"""Case analysis for reminders (成功/失败案例): the counts of a cohort (a tenant's accounts placed in a
period) read with one statement each, and the report `reminders.domain.outcomes` makes of them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, distinct, func, or_, select
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.ext.asyncio import AsyncSession

from reminders.domain import outcomes
from reminders.tables import accounts, jobs, promises, strategies


def _cohort(tenant: str, start: datetime, end: datetime) -> ColumnElement[bool]:
    return and_(accounts.c.tenant == tenant, accounts.c.placed_at >= start, accounts.c.placed_at < end)


def _cured() -> ColumnElement[bool]:
    return func.coalesce(accounts.c.closed_reason.in_(sorted(outcomes.CURED_REASONS)), False)


async def facts(session: AsyncSession, tenant: str, start: datetime, end: datetime) -> outcomes.Facts:
    """The counts of the tenant's accounts placed in [start, end), as they stand now."""
    cohort = _cohort(tenant, start, end)
    cured, escalated = _cured().label("cured"), (accounts.c.escalated_at.is_not(None)).label("escalated")
    account_rows = await session.execute(
        select(accounts.c.strategy, accounts.c.variant, cured, escalated, func.count().label("n"))
        .where(cohort)
        .group_by(accounts.c.strategy, accounts.c.variant, cured, escalated)
    )
    promise_rows = await session.execute(
        select(
            accounts.c.strategy,
            accounts.c.variant,
            promises.c.source,
            promises.c.state,
            func.count().label("n"),
        )
        .select_from(promises.join(accounts, promises.c.account_id == accounts.c.account_id))
        .where(cohort)
        .group_by(accounts.c.strategy, accounts.c.variant, promises.c.source, promises.c.state)
    )
    sent = and_(cohort, jobs.c.state == "sent")
    contacted = jobs.join(accounts, jobs.c.account_id == accounts.c.account_id)
    channel_rows = await session.execute(
        select(jobs.c.channel, func.count().label("n"), func.count(distinct(jobs.c.account_id)).label("a"))
        .select_from(contacted)
        .where(sent)
        .group_by(jobs.c.channel)
    )
    reached = await session.scalar(
        select(func.count(distinct(jobs.c.account_id))).select_from(contacted).where(sent)
    )
    # Last touch: each cured account's latest job sent before it closed (or at all, when that is unknown).
    last = (
        select(jobs.c.account_id, jobs.c.channel)
        .ext(distinct_on(jobs.c.account_id))
        .select_from(contacted)
        .where(sent, _cured(), or_(accounts.c.closed_at.is_(None), jobs.c.sent_at <= accounts.c.closed_at))
        .order_by(jobs.c.account_id, jobs.c.sent_at.desc().nulls_last(), jobs.c.updated_at.desc())
        .subquery()
    )
    credited = await session.execute(select(last.c.channel, func.count().label("n")).group_by(last.c.channel))
    account_counts = [
        outcomes.AccountCount(r.strategy, r.variant, bool(r.cured), bool(r.escalated), r.n)
        for r in account_rows
    ]
    return outcomes.Facts(
        accounts=account_counts,
        promises=[outcomes.PromiseCount(r.strategy, r.variant, r.source, r.state, r.n) for r in promise_rows],
        channels=[outcomes.ChannelCount(r.channel, r.n, r.a) for r in channel_rows],
        contacted_accounts=int(reached or 0),
        credited={r.channel: r.n for r in credited},
        variants=await _documented_variants(session, tenant, {a.strategy for a in account_counts}),
    )


async def _documented_variants(session: AsyncSession, tenant: str, names: set[str]) -> dict[str, list[str]]:
    """The variants each saved strategy lists, in order (a built-in strategy has only its champion)."""
    found: dict[str, list[str]] = {}
    if names:
        rows = await session.execute(
            select(strategies.c.name, strategies.c.document).where(
                strategies.c.tenant == tenant, strategies.c.name.in_(sorted(names))
            )
        )
        for row in rows:
            variants = (row.document or {}).get("variants") or [{"name": outcomes.CHAMPION}]
            found[row.name] = [str(v.get("name")) for v in variants if isinstance(v, dict)]
    return found


async def outcomes_report(
    session: AsyncSession, tenant: str, start: datetime, end: datetime
) -> dict[str, Any]:
    """GET /v1/reports/outcomes: the report of the tenant's accounts placed in [start, end)."""
    found = await facts(session, tenant, start, end)
    return {
        "tenant": tenant,
        "from": start.isoformat(),
        "to": end.isoformat(),
        "cohort": "accounts placed in [from, to), followed up to now",
        **outcomes.report(found),
    }
