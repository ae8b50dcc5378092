"""Reads and writes of the visits schema (SQLAlchemy Core; the caller owns the transaction)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from visits.tables import accounts, agents, crews, plans, receipts, visits

OPEN = (
    "awaiting_account",
    "awaiting_address",
    "awaiting_permit",
    "permitted",
    "planned",
)  # a visit not made yet
FINAL = ("completed", "cancelled", "denied")

# --- accounts -------------------------------------------------------------------------------------


async def upsert_accounts(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    """A run's placements in one statement compiled once and sent for every row (a replayed
    placement overwrites the account with what intake said)."""
    if not rows:
        return
    stmt = insert(accounts)
    stmt = stmt.on_conflict_do_update(
        index_elements=[accounts.c.account_id],
        set_={k: stmt.excluded[k] for k in rows[0] if k != "account_id"},
    )
    await session.execute(stmt, list(rows))


async def account(session: AsyncSession, account_id: uuid.UUID, *, lock: bool = False) -> Any:
    stmt = select(accounts).where(accounts.c.account_id == account_id)
    if lock:
        stmt = stmt.with_for_update()
    return (await session.execute(stmt)).first()


async def accounts_by_id(session: AsyncSession, account_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, Any]:
    ids = list(set(account_ids))
    if not ids:
        return {}
    rows = await session.execute(select(accounts).where(accounts.c.account_id.in_(ids)))
    return {r.account_id: r for r in rows}


async def accounts_of_borrower(session: AsyncSession, borrower_id: uuid.UUID) -> list[Any]:
    stmt = select(accounts).where(accounts.c.borrower_id == borrower_id).with_for_update()
    return list((await session.execute(stmt)).all())


async def update_accounts(session: AsyncSession, account_ids: Sequence[uuid.UUID], **values: Any) -> None:
    if account_ids:
        stmt = update(accounts).where(accounts.c.account_id.in_(list(account_ids)))
        await session.execute(stmt.values(**values, updated_at=func.now()))


# --- agents and crews -----------------------------------------------------------------------------


async def put_agent(session: AsyncSession, values: dict[str, Any]) -> None:
    stmt = insert(agents).values(**values, updated_at=func.now())
    keys = {"tenant", "agent_id"}
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=[agents.c.tenant, agents.c.agent_id],
            set_={k: stmt.excluded[k] for k in [*values, "updated_at"] if k not in keys},
        )
    )


async def agent(session: AsyncSession, tenant: str, agent_id: str) -> Any:
    stmt = select(agents).where(agents.c.tenant == tenant, agents.c.agent_id == agent_id)
    return (await session.execute(stmt)).first()


async def agents_of(session: AsyncSession, tenant: str, agent_ids: Iterable[str]) -> dict[str, Any]:
    stmt = select(agents).where(agents.c.tenant == tenant, agents.c.agent_id.in_(list(agent_ids)))
    return {r.agent_id: r for r in await session.execute(stmt)}


async def put_crew(session: AsyncSession, tenant: str, crew_id: str, agent_ids: list[str]) -> None:
    stmt = insert(crews).values(tenant=tenant, crew_id=crew_id, agent_ids=agent_ids)
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=[crews.c.tenant, crews.c.crew_id],
            set_={"agent_ids": stmt.excluded.agent_ids, "updated_at": func.now()},
        )
    )


async def crew(session: AsyncSession, tenant: str, crew_id: str) -> Any:
    stmt = select(crews).where(crews.c.tenant == tenant, crews.c.crew_id == crew_id)
    return (await session.execute(stmt)).first()


async def crews_of(session: AsyncSession, tenant: str) -> list[Any]:
    stmt = select(crews).where(crews.c.tenant == tenant).order_by(crews.c.crew_id)
    return list((await session.execute(stmt)).all())


async def all_agents(session: AsyncSession, tenant: str) -> dict[str, Any]:
    return {r.agent_id: r for r in await session.execute(select(agents).where(agents.c.tenant == tenant))}


# --- visits ---------------------------------------------------------------------------------------


async def insert_visit(session: AsyncSession, values: dict[str, Any]) -> bool:
    """A new case; False when the account already has an open one."""
    stmt = insert(visits).values(**values).on_conflict_do_nothing().returning(visits.c.visit_id)
    return (await session.execute(stmt)).first() is not None


async def visit(session: AsyncSession, visit_id: uuid.UUID, *, lock: bool = False) -> Any:
    stmt = select(visits).where(visits.c.visit_id == visit_id)
    if lock:
        stmt = stmt.with_for_update()
    return (await session.execute(stmt)).first()


async def open_visit_of(session: AsyncSession, account_id: uuid.UUID) -> Any:
    stmt = select(visits).where(visits.c.account_id == account_id, visits.c.state.not_in(FINAL))
    return (await session.execute(stmt.with_for_update())).first()


async def visits_by_request(session: AsyncSession, request_ids: Sequence[str]) -> dict[str, Any]:
    if not request_ids:
        return {}
    stmt = (
        select(visits)
        .where(visits.c.request_id.in_(list(request_ids)))
        .order_by(visits.c.visit_id)
        .with_for_update()
    )
    return {r.request_id: r for r in await session.execute(stmt)}


async def visits_of_accounts(
    session: AsyncSession, account_ids: Sequence[uuid.UUID], *, states: Sequence[str]
) -> list[Any]:
    if not account_ids:
        return []
    stmt = (
        select(visits)
        .where(visits.c.account_id.in_(list(account_ids)), visits.c.state.in_(list(states)))
        .order_by(visits.c.visit_id)
        .with_for_update()
    )
    return list((await session.execute(stmt)).all())


async def update_visit(session: AsyncSession, visit_id: uuid.UUID, **values: Any) -> None:
    stmt = update(visits).where(visits.c.visit_id == visit_id)
    await session.execute(stmt.values(**values, updated_at=func.now()))


async def visits_of_day(session: AsyncSession, tenant: str, day: date, *, lock: bool = False) -> list[Any]:
    """Every case of the day that is permitted, planned or already made."""
    stmt = (
        select(visits)
        .where(
            visits.c.tenant == tenant,
            visits.c.date == day,
            visits.c.state.in_(["permitted", "planned", "checked_in", "completed"]),
        )
        .order_by(visits.c.visit_id)
    )
    if lock:
        stmt = stmt.with_for_update()
    return list((await session.execute(stmt)).all())


async def list_visits(
    session: AsyncSession,
    tenant: str,
    *,
    state: str | None,
    day: date | None,
    crew_id: str | None,
    after: tuple[datetime, uuid.UUID] | None,
    limit: int,
) -> list[Any]:
    stmt = select(visits).where(visits.c.tenant == tenant)
    if state is not None:
        stmt = stmt.where(visits.c.state == state)
    if day is not None:
        stmt = stmt.where(visits.c.date == day)
    if crew_id is not None:
        stmt = stmt.where(visits.c.crew_id == crew_id)
    if after is not None:
        stmt = stmt.where(
            (visits.c.created_at > after[0])
            | ((visits.c.created_at == after[0]) & (visits.c.visit_id > after[1]))
        )
    stmt = stmt.order_by(visits.c.created_at, visits.c.visit_id).limit(limit)
    return list((await session.execute(stmt)).all())


async def visits_between(session: AsyncSession, tenant: str, start: date, end: date) -> list[Any]:
    stmt = select(visits).where(visits.c.tenant == tenant, visits.c.date >= start, visits.c.date < end)
    return list((await session.execute(stmt)).all())


async def visits_with_promise(session: AsyncSession, promise_id: str) -> Any:
    stmt = select(visits).where(visits.c.promise_id == uuid.UUID(promise_id)).with_for_update()
    return (await session.execute(stmt)).first()


# --- plans ----------------------------------------------------------------------------------------


async def save_plan(
    session: AsyncSession, tenant: str, crew_id: str, day: date, document: dict[str, Any], solver: str
) -> None:
    stmt = insert(plans).values(tenant=tenant, crew_id=crew_id, date=day, document=document, solver=solver)
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=[plans.c.tenant, plans.c.crew_id, plans.c.date],
            set_={"document": stmt.excluded.document, "solver": stmt.excluded.solver, "built_at": func.now()},
        )
    )


async def plan(session: AsyncSession, tenant: str, crew_id: str, day: date, *, lock: bool = False) -> Any:
    stmt = select(plans).where(plans.c.tenant == tenant, plans.c.crew_id == crew_id, plans.c.date == day)
    if lock:
        stmt = stmt.with_for_update()
    return (await session.execute(stmt)).first()


async def plans_between(session: AsyncSession, tenant: str, start: date, end: date) -> list[Any]:
    stmt = select(plans).where(plans.c.tenant == tenant, plans.c.date >= start, plans.c.date < end)
    return list((await session.execute(stmt)).all())


# --- receipts -------------------------------------------------------------------------------------


async def receipt_by_client_id(session: AsyncSession, tenant: str, client_id: str) -> Any:
    stmt = select(receipts).where(receipts.c.tenant == tenant, receipts.c.client_id == client_id)
    return (await session.execute(stmt)).first()


async def insert_receipt(session: AsyncSession, values: dict[str, Any]) -> bool:
    stmt = insert(receipts).values(**values).on_conflict_do_nothing().returning(receipts.c.receipt_id)
    return (await session.execute(stmt)).first() is not None
