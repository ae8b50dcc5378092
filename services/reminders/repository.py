"""Every SQL statement of the reminders service. Nothing here commits: the unit of work does."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, bindparam, func, or_, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from common.tracing import traceparent_for
from reminders import wake
from reminders.domain.jobs import PENDING
from reminders.tables import (
    accounts,
    call_tasks,
    contact_points,
    inbound_messages,
    jobs,
    plans,
    promises,
    strategies,
    tenant_settings,
)


async def insert_accounts(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> list[Any]:
    """Insert a run's accounts in one statement; returns the rows that are new (a replayed placement
    inserts nothing), whole, as later reads would return them."""
    if not rows:
        return []
    # One statement compiled once and sent for all rows (executemany with RETURNING), not a
    # multi-row VALUES that would be compiled anew for every size of run.
    stmt = insert(accounts).on_conflict_do_nothing().returning(*accounts.c)
    return list((await session.execute(stmt, list(rows))).all())


async def accounts_of_borrowers(
    session: AsyncSession, borrower_ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, list[Any]]:
    ids = sorted(set(borrower_ids))
    found: dict[uuid.UUID, list[Any]] = defaultdict(list)
    if ids:
        for row in await session.execute(select(accounts).where(accounts.c.borrower_id.in_(ids))):
            found[row.borrower_id].append(row._mapping)
    return found


def _prefixed(values: Mapping[str, Any]) -> dict[str, Any]:
    """Parameters of an executemany UPDATE (a column's own name is reserved for SQLAlchemy)."""
    return {f"v_{k}": v for k, v in values.items()}


async def update_accounts(session: AsyncSession, changes: Mapping[uuid.UUID, Mapping[str, Any]]) -> None:
    """Several accounts' changes: one statement (executed for many rows) per set of columns changed."""
    await _update_many(session, accounts, accounts.c.account_id, changes)


async def _update_many(
    session: AsyncSession,
    table: Any,
    key: Any,
    changes: Mapping[uuid.UUID, Mapping[str, Any]],
    always: Mapping[str, Any] | None = None,
) -> None:
    """Rows' changes by key: one UPDATE per set of columns changed, sent for all its rows at once
    (`always` is set on every row, e.g. updated_at)."""
    by_columns: dict[tuple[str, ...], list[dict[str, Any]]] = defaultdict(list)
    for row_key, values in changes.items():
        if values:
            by_columns[tuple(sorted(values))].append({"_id": row_key, **_prefixed(values)})
    for columns, params in by_columns.items():
        stmt = (
            update(table)
            .where(key == bindparam("_id"))
            .values({**(always or {}), **{c: bindparam(f"v_{c}") for c in columns}})
        )
        await session.execute(stmt.execution_options(synchronize_session=False), params)


async def account(session: AsyncSession, account_id: uuid.UUID, *, lock: bool = False) -> Any:
    stmt = select(accounts).where(accounts.c.account_id == account_id)
    if lock:
        stmt = stmt.with_for_update()
    return (await session.execute(stmt)).first()


async def accounts_by_id(session: AsyncSession, account_ids: set[uuid.UUID]) -> dict[uuid.UUID, Any]:
    if not account_ids:
        return {}
    rows = await session.execute(select(accounts).where(accounts.c.account_id.in_(account_ids)))
    return {r.account_id: r for r in rows}


async def accounts_of_borrower(session: AsyncSession, borrower_id: uuid.UUID) -> list[Any]:
    return list((await session.execute(select(accounts).where(accounts.c.borrower_id == borrower_id))).all())


async def update_account(session: AsyncSession, account_id: uuid.UUID, **values: Any) -> None:
    await session.execute(update(accounts).where(accounts.c.account_id == account_id).values(**values))


async def accounts_to_plan(session: AsyncSession, *, now: datetime, limit: int) -> list[Any]:
    """Open accounts whose next planning time has come, locked (replicas take different ones)."""
    stmt = (
        select(accounts)
        .where(accounts.c.status == "open", accounts.c.next_plan_at <= now)
        .order_by(accounts.c.next_plan_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return list((await session.execute(stmt)).all())


async def add_contact_points(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    if rows:
        await session.execute(insert(contact_points).on_conflict_do_nothing(), list(rows))


async def accounts_by_contact_point(session: AsyncSession, contact_point_id: str) -> list[Any]:
    stmt = select(contact_points).where(contact_points.c.contact_point_id == contact_point_id)
    return list((await session.execute(stmt)).all())


async def plan_jobs(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> int:
    """Insert jobs, ignoring steps already planned for the account; returns how many are new. Each
    keeps the trace it was planned in (a placement's: in a run of them, its own account's)."""
    if not rows:
        return 0
    traced = [{"traceparent": traceparent_for(str(r["account_id"])), **r} for r in rows]
    stmt = insert(jobs).on_conflict_do_nothing().returning(jobs.c.job_id)
    added = len((await session.execute(stmt, traced)).all())
    if added:
        await wake.jobs_due(session)
    return added


async def cancel_pending(
    session: AsyncSession,
    account_ids: Sequence[uuid.UUID],
    *,
    reason: str,
    channels: Sequence[str] | None = None,
    sparing: Sequence[str] = (),
) -> int:
    """Cancel every pending job (and open call task) of these accounts, except jobs of the `sparing`
    purposes; returns the jobs cancelled."""
    cond = and_(jobs.c.account_id.in_(account_ids), jobs.c.state.in_(PENDING))
    if channels is not None:
        cond = and_(cond, jobs.c.channel.in_(channels))
    if sparing:
        cond = and_(cond, jobs.c.purpose.not_in(sparing))
    result = await session.execute(
        update(jobs)
        .where(cond)
        .values(
            state="cancelled",
            reasons=[{"rule": "reminders.stopped", "message": reason}],
            updated_at=func.now(),
        )
        .returning(jobs.c.job_id)
    )
    cancelled = len(result.all())
    task_cond = and_(call_tasks.c.account_id.in_(account_ids), call_tasks.c.state == "open")
    if channels is None or "call_task" in channels:
        await session.execute(update(call_tasks).where(task_cond).values(state="cancelled"))
    return cancelled


async def claim_due_jobs(
    session: AsyncSession, *, now: datetime, stale_after: timedelta, limit: int
) -> list[Any]:
    """Jobs due to ask for a permit: planned and due, deferred past not_before, or waiting longer than
    `stale_after` by the database's clock (the wait is real time, whatever the service's clock says).

    Three claims, one per state, each read through its own index (one statement with an OR of the
    three reads the whole table once the book is large); the earliest due come first in each."""
    ready = (
        (jobs.c.state == "planned", jobs.c.due_at <= now, jobs.c.due_at),
        (jobs.c.state == "deferred", jobs.c.not_before <= now, jobs.c.not_before),
        (jobs.c.state == "awaiting_permit", jobs.c.updated_at < func.now() - stale_after, jobs.c.updated_at),
    )
    claimed: list[Any] = []
    for state, due, order in ready:
        if len(claimed) >= limit:
            break
        stmt = (
            select(jobs)
            .where(state, due)
            .order_by(order)
            .limit(limit - len(claimed))
            .with_for_update(skip_locked=True)
        )
        claimed.extend((await session.execute(stmt)).all())
    return claimed


async def claim_sendable_job(session: AsyncSession) -> Any:
    stmt = (
        select(jobs)
        .where(jobs.c.state == "sending")
        .order_by(jobs.c.updated_at)
        .limit(1)
        .with_for_update(skip_locked=True)
    )
    return (await session.execute(stmt)).first()


async def job_by_request(session: AsyncSession, request_id: str) -> Any:
    stmt = select(jobs).where(jobs.c.request_id == request_id).with_for_update()
    return (await session.execute(stmt)).first()


async def jobs_answered(
    session: AsyncSession, request_ids: Sequence[str], job_ids: Sequence[uuid.UUID]
) -> list[Any]:
    """The jobs these permit answers are for (by the request, or by the job that asked), locked in
    id order."""
    if not request_ids and not job_ids:
        return []
    stmt = (
        select(jobs)
        .where(or_(jobs.c.request_id.in_(request_ids), jobs.c.job_id.in_(job_ids)))
        .order_by(jobs.c.job_id)
        .with_for_update()
    )
    return list((await session.execute(stmt)).all())


async def job(session: AsyncSession, job_id: uuid.UUID, *, lock: bool = False) -> Any:
    stmt = select(jobs).where(jobs.c.job_id == job_id)
    if lock:
        stmt = stmt.with_for_update()
    return (await session.execute(stmt)).first()


async def update_job(session: AsyncSession, job_id: uuid.UUID, **values: Any) -> None:
    await session.execute(update(jobs).where(jobs.c.job_id == job_id).values(updated_at=func.now(), **values))


async def jobs_of(session: AsyncSession, account_id: uuid.UUID) -> list[Any]:
    stmt = select(jobs).where(jobs.c.account_id == account_id).order_by(jobs.c.created_at, jobs.c.step_dpd)
    return list((await session.execute(stmt)).all())


async def notice_job(session: AsyncSession, account_id: uuid.UUID) -> Any:
    """The account's validation-notice job, if one was planned."""
    stmt = select(jobs).where(jobs.c.account_id == account_id, jobs.c.purpose == "validation_notice")
    return (await session.execute(stmt)).first()


async def notice_jobs(session: AsyncSession, account_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Any]:
    if not account_ids:
        return {}
    stmt = select(jobs).where(jobs.c.account_id.in_(account_ids), jobs.c.purpose == "validation_notice")
    return {r.account_id: r for r in await session.execute(stmt)}


async def promises_of_accounts(
    session: AsyncSession, account_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[Any]]:
    found: dict[uuid.UUID, list[Any]] = defaultdict(list)
    if account_ids:
        stmt = select(promises).where(promises.c.account_id.in_(account_ids)).order_by(promises.c.created_at)
        for row in await session.execute(stmt):
            found[row.account_id].append(row)
    return found


async def plans_of_accounts(
    session: AsyncSession, account_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[Any]]:
    found: dict[uuid.UUID, list[Any]] = defaultdict(list)
    if account_ids:
        stmt = select(plans).where(plans.c.account_id.in_(account_ids)).order_by(plans.c.created_at)
        for row in await session.execute(stmt):
            found[row.account_id].append(row)
    return found


async def has_sent(session: AsyncSession, account_id: uuid.UUID, *, purpose: str) -> bool:
    stmt = select(jobs.c.job_id).where(
        jobs.c.account_id == account_id, jobs.c.purpose == purpose, jobs.c.state == "sent"
    )
    return (await session.execute(stmt.limit(1))).first() is not None


async def advance_intake_seq(session: AsyncSession, borrower_id: uuid.UUID, seq: int) -> None:
    """Every account of the borrower has seen intake's events up to `seq` (never moves back)."""
    await session.execute(
        update(accounts)
        .where(accounts.c.borrower_id == borrower_id, accounts.c.intake_seq < seq)
        .values(intake_seq=seq)
    )


_ADVANCE_SEQS = text(
    "UPDATE reminders.accounts a SET intake_seq = w.seq"
    " FROM unnest(CAST(:ids AS uuid[]), CAST(:seqs AS bigint[])) AS w(borrower_id, seq)"
    " WHERE a.borrower_id = w.borrower_id AND a.intake_seq < w.seq"
)


async def advance_intake_seqs(session: AsyncSession, seqs: Mapping[uuid.UUID, int]) -> None:
    """`advance_intake_seq` for several borrowers in one statement."""
    if seqs:
        ids = sorted(seqs)
        await session.execute(_ADVANCE_SEQS, {"ids": ids, "seqs": [seqs[i] for i in ids]})


async def update_jobs(session: AsyncSession, changes: Mapping[uuid.UUID, Mapping[str, Any]]) -> None:
    """Several jobs' changes: one statement (executed for many rows) per set of columns changed."""
    await _update_many(session, jobs, jobs.c.job_id, changes, always={"updated_at": func.now()})


async def insert_call_task(session: AsyncSession, **values: Any) -> None:
    await session.execute(insert(call_tasks).values(**values).on_conflict_do_nothing())


async def assign_call_tasks(session: AsyncSession, tenant: str, agent_id: str, *, up_to: int) -> None:
    """Give an agent open unassigned tasks of the tenant until they hold `up_to`."""
    held = (
        await session.execute(
            select(func.count()).where(call_tasks.c.agent_id == agent_id, call_tasks.c.state == "open")
        )
    ).scalar_one()
    if held >= up_to:
        return
    free = (
        select(call_tasks.c.task_id)
        .where(call_tasks.c.tenant == tenant, call_tasks.c.state == "open", call_tasks.c.agent_id.is_(None))
        .order_by(call_tasks.c.created_at)
        .limit(up_to - held)
        .with_for_update(skip_locked=True)
    )
    await session.execute(update(call_tasks).where(call_tasks.c.task_id.in_(free)).values(agent_id=agent_id))


async def call_tasks_of(session: AsyncSession, tenant: str | None, agent_id: str | None) -> list[Any]:
    stmt = select(call_tasks).where(call_tasks.c.state == "open").order_by(call_tasks.c.created_at).limit(500)
    if tenant is not None:
        stmt = stmt.where(call_tasks.c.tenant == tenant)
    if agent_id is not None:
        stmt = stmt.where(call_tasks.c.agent_id == agent_id)
    return list((await session.execute(stmt)).all())


async def call_task(session: AsyncSession, task_id: uuid.UUID, *, lock: bool = False) -> Any:
    stmt = select(call_tasks).where(call_tasks.c.task_id == task_id)
    if lock:
        stmt = stmt.with_for_update()
    return (await session.execute(stmt)).first()


async def update_call_task(session: AsyncSession, task_id: uuid.UUID, **values: Any) -> None:
    await session.execute(update(call_tasks).where(call_tasks.c.task_id == task_id).values(**values))


async def insert_promise(session: AsyncSession, **values: Any) -> None:
    await session.execute(insert(promises).values(**values))


async def promises_of(session: AsyncSession, account_id: uuid.UUID) -> list[Any]:
    stmt = select(promises).where(promises.c.account_id == account_id).order_by(promises.c.created_at)
    return list((await session.execute(stmt)).all())


async def update_promise(session: AsyncSession, promise_id: uuid.UUID, **values: Any) -> None:
    await session.execute(update(promises).where(promises.c.promise_id == promise_id).values(**values))


async def due_promises(session: AsyncSession, *, before: datetime) -> list[Any]:
    stmt = (
        select(promises).where(promises.c.state == "active", promises.c.due_date < before.date()).limit(500)
    )
    return list((await session.execute(stmt.with_for_update(skip_locked=True))).all())


async def insert_plan(session: AsyncSession, **values: Any) -> None:
    await session.execute(insert(plans).values(**values))


async def plans_of(session: AsyncSession, account_id: uuid.UUID) -> list[Any]:
    stmt = select(plans).where(plans.c.account_id == account_id).order_by(plans.c.created_at)
    return list((await session.execute(stmt)).all())


async def update_plan(session: AsyncSession, plan_id: uuid.UUID, **values: Any) -> None:
    await session.execute(update(plans).where(plans.c.plan_id == plan_id).values(**values))


async def active_plans(session: AsyncSession) -> list[Any]:
    stmt = select(plans).where(plans.c.state == "active").limit(500).with_for_update(skip_locked=True)
    return list((await session.execute(stmt)).all())


async def strategy(session: AsyncSession, tenant: str, name: str) -> Any:
    stmt = select(strategies).where(strategies.c.tenant == tenant, strategies.c.name == name)
    return (await session.execute(stmt)).first()


async def save_strategy(session: AsyncSession, tenant: str, name: str, document: dict[str, Any]) -> int:
    new = insert(strategies).values(tenant=tenant, name=name, document=document)
    upsert = new.on_conflict_do_update(
        index_elements=[strategies.c.tenant, strategies.c.name],
        set_={
            "document": new.excluded.document,
            "version": strategies.c.version + 1,
            "updated_at": func.now(),
        },
    ).returning(strategies.c.version)
    return int((await session.execute(upsert)).scalar_one())


async def tenant_settings_of(session: AsyncSession, tenants: Sequence[str]) -> dict[str, Any]:
    """The saved settings of these tenants, by tenant (a tenant that saved none is absent)."""
    if not tenants:
        return {}
    stmt = select(tenant_settings).where(tenant_settings.c.tenant.in_(sorted(set(tenants))))
    return {row.tenant: row for row in (await session.execute(stmt)).all()}


async def save_tenant_settings(
    session: AsyncSession, tenant: str, values: Mapping[str, Any], *, by: str
) -> Any:
    """Replace a tenant's settings; returns the saved row (its version counts the saves)."""
    new = insert(tenant_settings).values(tenant=tenant, updated_by=by, **values)
    upsert = new.on_conflict_do_update(
        index_elements=[tenant_settings.c.tenant],
        set_={
            **{name: new.excluded[name] for name in values},
            "updated_by": by,
            "version": tenant_settings.c.version + 1,
            "updated_at": func.now(),
        },
    ).returning(*tenant_settings.c)
    return (await session.execute(upsert)).one()


async def insert_inbound(session: AsyncSession, **values: Any) -> None:
    await session.execute(insert(inbound_messages).values(**values))


async def record_receipt(
    session: AsyncSession, provider: str, provider_message_id: str, *, status: str, tenant: str | None
) -> bool:
    """Record a delivery receipt on the job of that provider's message, within `tenant` unless it is
    None."""
    cond = and_(jobs.c.provider == provider, jobs.c.provider_message_id == provider_message_id)
    if tenant is not None:
        cond = and_(cond, jobs.c.tenant == tenant)
    result = await session.execute(
        update(jobs).where(cond).values(delivery=status, updated_at=func.now()).returning(jobs.c.job_id)
    )
    return result.first() is not None
