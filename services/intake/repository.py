"""Every SQL statement of the intake service. Nothing here commits: the unit of work does."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, text, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from intake.tables import accounts, borrowers, lender_events, payments


async def known_lender_events(session: AsyncSession, tenant: str, event_ids: Iterable[str]) -> dict[str, Any]:
    ids = list(set(event_ids))
    if not ids:
        return {}
    rows = await session.execute(
        select(lender_events.c.event_id, lender_events.c.payload_hash, lender_events.c.account_id).where(
            lender_events.c.tenant == tenant, lender_events.c.event_id.in_(ids)
        )
    )
    return {r.event_id: r for r in rows}


async def accounts_by_external(
    session: AsyncSession, tenant: str, external_ids: Iterable[str], *, lock: bool = False
) -> dict[str, Any]:
    ids = sorted(set(external_ids))
    if not ids:
        return {}
    stmt = (
        select(
            accounts,
            borrowers.c.holds.label("borrower_holds"),
            borrowers.c.erased_at,
            borrowers.c.language.label("borrower_language"),
            borrowers.c.declared_timezone,
            borrowers.c.preferences.label("borrower_preferences"),
        )
        .join(borrowers, borrowers.c.borrower_id == accounts.c.borrower_id)
        .where(accounts.c.tenant == tenant, accounts.c.external_account_id.in_(ids))
        .order_by(accounts.c.external_account_id)
    )
    if lock:
        stmt = stmt.with_for_update(of=accounts)
    return {r.external_account_id: r for r in await session.execute(stmt)}


async def borrowers_by_external(
    session: AsyncSession, tenant: str, external_ids: Iterable[str]
) -> dict[str, Any]:
    ids = sorted(set(external_ids))
    if not ids:
        return {}
    rows = await session.execute(
        select(borrowers).where(borrowers.c.tenant == tenant, borrowers.c.external_borrower_id.in_(ids))
    )
    return {r.external_borrower_id: r for r in rows}


async def borrower(session: AsyncSession, borrower_id: uuid.UUID, *, lock: bool = False) -> Any:
    stmt = select(borrowers).where(borrowers.c.borrower_id == borrower_id)
    if lock:
        stmt = stmt.with_for_update()
    return (await session.execute(stmt)).one()


async def update_borrower(session: AsyncSession, borrower_id: uuid.UUID, **values: Any) -> None:
    await session.execute(
        update(borrowers)
        .where(borrowers.c.borrower_id == borrower_id)
        .values(updated_at=func.now(), **values)
    )


_ADVANCE_SEQS = text(
    "WITH wanted AS (SELECT * FROM unnest(CAST(:ids AS uuid[]), CAST(:counts AS bigint[]))"
    " AS w(borrower_id, n)),"
    " locked AS (SELECT b.borrower_id FROM intake.borrowers b JOIN wanted USING (borrower_id)"
    " ORDER BY b.borrower_id FOR UPDATE)"
    " UPDATE intake.borrowers b SET event_seq = b.event_seq + w.n FROM wanted w"
    " WHERE b.borrower_id = w.borrower_id AND b.borrower_id IN (SELECT borrower_id FROM locked)"
    " RETURNING b.borrower_id, b.event_seq"
)


async def advance_event_seqs(session: AsyncSession, counts: dict[uuid.UUID, int]) -> dict[uuid.UUID, int]:
    """Add `counts[b]` events to each borrower's sequence (locking the rows in id order, so concurrent
    requests number one borrower's events without gaps or repeats); returns each new last number."""
    if not counts:
        return {}
    ids = sorted(counts)
    rows = await session.execute(_ADVANCE_SEQS, {"ids": ids, "counts": [counts[i] for i in ids]})
    return {r.borrower_id: r.event_seq for r in rows}


async def update_account(session: AsyncSession, account_id: uuid.UUID, **values: Any) -> None:
    await session.execute(
        update(accounts).where(accounts.c.account_id == account_id).values(updated_at=func.now(), **values)
    )


async def add_payment(session: AsyncSession, **values: Any) -> None:
    await session.execute(payments.insert().values(**values))


async def record_lender_event(session: AsyncSession, **values: Any) -> None:
    await session.execute(lender_events.insert().values(**values))


_VIEW = select(
    accounts,
    borrowers.c.external_borrower_id,
    borrowers.c.pii_sealed,
    borrowers.c.timezones,
    borrowers.c.language,
    borrowers.c.holds.label("borrower_holds"),
    borrowers.c.erased_at,
    borrowers.c.preferences,
    borrowers.c.zone_sources,
    borrowers.c.event_seq,
).join(borrowers, borrowers.c.borrower_id == accounts.c.borrower_id)


async def account_view(session: AsyncSession, account_id: uuid.UUID) -> Any | None:
    """An account with its borrower, for the read API."""
    return (await session.execute(_VIEW.where(accounts.c.account_id == account_id))).first()


async def account_views(session: AsyncSession, account_ids: list[uuid.UUID]) -> list[Any]:
    """Several accounts with their borrowers in one query, in the order of `account_ids`."""
    if not account_ids:
        return []
    found = {
        r.account_id: r for r in await session.execute(_VIEW.where(accounts.c.account_id.in_(account_ids)))
    }
    return [found[i] for i in account_ids if i in found]


async def account_id_by_external(
    session: AsyncSession, tenant: str, external_account_id: str
) -> uuid.UUID | None:
    stmt = select(accounts.c.account_id).where(
        accounts.c.tenant == tenant, accounts.c.external_account_id == external_account_id
    )
    found: uuid.UUID | None = (await session.execute(stmt)).scalar()
    return found


async def account_page(
    session: AsyncSession,
    tenant: str,
    *,
    external_account_id: str | None,
    after: tuple[datetime, uuid.UUID] | None,
    limit: int,
) -> list[Any]:
    """Keys of a tenant's accounts in placement order, after a cursor position."""
    stmt = select(accounts.c.account_id, accounts.c.placed_at).where(accounts.c.tenant == tenant)
    if external_account_id is not None:
        stmt = stmt.where(accounts.c.external_account_id == external_account_id)
    if after is not None:
        stmt = stmt.where(tuple_(accounts.c.placed_at, accounts.c.account_id) > tuple_(*after))
    stmt = stmt.order_by(accounts.c.placed_at, accounts.c.account_id).limit(limit)
    return list((await session.execute(stmt)).all())
