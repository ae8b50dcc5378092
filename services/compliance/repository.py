"""Every SQL statement of the compliance service except the audit trail's (audit_store.py)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, insert, select, text, tuple_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from common.db import copy_rows, json_text
from compliance.tables import accounts, borrowers, decisions, ledger, violations

# Long enough for the widest rule window (US-MA: one visit per 30 days) plus quiet-hour slack.
LEDGER_LOOKBACK = timedelta(days=40)


async def upsert_borrowers(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    """Several borrowers (one row each, all with the same columns) in one statement; an existing
    borrower takes the new values, except its tenant."""
    if not rows:
        return
    stmt = pg_insert(borrowers)
    changes = {k: stmt.excluded[k] for k in rows[0] if k not in ("borrower_id", "tenant")}
    await session.execute(
        stmt.on_conflict_do_update(index_elements=[borrowers.c.borrower_id], set_=changes), list(rows)
    )


async def insert_accounts(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    if rows:
        await session.execute(pg_insert(accounts).on_conflict_do_nothing(), list(rows))


_ADVANCE_SEQS = text(
    "UPDATE compliance.borrowers b SET intake_seq = w.seq"
    " FROM unnest(CAST(:ids AS uuid[]), CAST(:seqs AS bigint[])) AS w(borrower_id, seq)"
    " WHERE b.borrower_id = w.borrower_id AND b.intake_seq < w.seq"
)


async def advance_intake_seqs(session: AsyncSession, seqs: dict[uuid.UUID, int]) -> None:
    """`advance_intake_seq` for several borrowers in one statement."""
    if seqs:
        ids = sorted(seqs)
        await session.execute(_ADVANCE_SEQS, {"ids": ids, "seqs": [seqs[i] for i in ids]})


async def account(session: AsyncSession, account_id: uuid.UUID) -> Any:
    return (await session.execute(select(accounts).where(accounts.c.account_id == account_id))).first()


async def borrower(session: AsyncSession, borrower_id: uuid.UUID, *, lock: bool = False) -> Any:
    stmt = select(borrowers).where(borrowers.c.borrower_id == borrower_id)
    if lock:
        stmt = stmt.with_for_update()
    return (await session.execute(stmt)).first()


async def borrowers_by_id(
    session: AsyncSession, borrower_ids: Sequence[uuid.UUID], *, lock: bool = False
) -> dict[uuid.UUID, Any]:
    """Borrowers by id; locked in id order, so runs of different consumers never deadlock."""
    if not borrower_ids:
        return {}
    stmt = (
        select(borrowers).where(borrowers.c.borrower_id.in_(borrower_ids)).order_by(borrowers.c.borrower_id)
    )
    if lock:
        stmt = stmt.with_for_update()
    return {r.borrower_id: r for r in await session.execute(stmt)}


async def accounts_by_id(session: AsyncSession, account_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Any]:
    if not account_ids:
        return {}
    rows = await session.execute(select(accounts).where(accounts.c.account_id.in_(account_ids)))
    return {r.account_id: r for r in rows}


async def attempts_of(
    session: AsyncSession, borrower_ids: Sequence[uuid.UUID], *, since: datetime, until: datetime
) -> list[Any]:
    """The ledger rows of these borrowers in (since, until + 1 day], oldest first."""
    stmt = (
        select(ledger)
        .where(
            ledger.c.borrower_id.in_(borrower_ids),
            ledger.c.at > since,
            ledger.c.at <= until + timedelta(days=1),
        )
        .order_by(ledger.c.at)
    )
    return list((await session.execute(stmt)).all())


async def outstanding_permits_of(
    session: AsyncSession, borrower_ids: Sequence[uuid.UUID], *, at: datetime
) -> list[Any]:
    """Allowed permits of these borrowers not used yet and not expired at `at`."""
    stmt = select(
        decisions.c.borrower_id,
        decisions.c.request,
        decisions.c.channel,
        decisions.c.account_id,
        decisions.c.expires_at,
    ).where(
        decisions.c.borrower_id.in_(borrower_ids),
        decisions.c.outcome == "allow",
        decisions.c.used_at.is_(None),
        decisions.c.expires_at > at,
    )
    return list((await session.execute(stmt)).all())


async def decided_requests(session: AsyncSession, request_ids: Sequence[str]) -> set[str]:
    if not request_ids:
        return set()
    stmt = select(decisions.c.request_id).where(decisions.c.request_id.in_(request_ids))
    return {r.request_id for r in await session.execute(stmt)}


_DECISION_COLUMNS = (
    "permit_id",
    "request_id",
    "tenant",
    "account_id",
    "borrower_id",
    "requester",
    "channel",
    "request",
    "outcome",
    "not_before",
    "expires_at",
    "reasons",
    "evaluated_rules",
    "policy",
    "snapshot",
    "decided_at",
)
_JSON_COLUMNS = frozenset({"request", "reasons", "evaluated_rules", "snapshot"})


async def insert_decisions(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    """A run's decisions in one COPY."""
    records = [
        tuple(json_text(row[c]) if c in _JSON_COLUMNS else row[c] for c in _DECISION_COLUMNS) for row in rows
    ]
    await copy_rows(session, decisions, _DECISION_COLUMNS, records)


async def update_account(session: AsyncSession, account_id: uuid.UUID, **values: Any) -> None:
    await session.execute(update(accounts).where(accounts.c.account_id == account_id).values(**values))


async def update_borrower(session: AsyncSession, borrower_id: uuid.UUID, **values: Any) -> None:
    await session.execute(
        update(borrowers)
        .where(borrowers.c.borrower_id == borrower_id)
        .values(updated_at=func.now(), **values)
    )


async def advance_intake_seq(session: AsyncSession, borrower_id: uuid.UUID, seq: int) -> None:
    """Remember that intake's events of this borrower up to `seq` are applied (never moves back)."""
    await session.execute(
        update(borrowers)
        .where(borrowers.c.borrower_id == borrower_id, borrowers.c.intake_seq < seq)
        .values(intake_seq=seq)
    )


async def attempts(session: AsyncSession, borrower_id: uuid.UUID, *, until: datetime) -> list[Any]:
    stmt = (
        select(ledger)
        .where(
            ledger.c.borrower_id == borrower_id,
            ledger.c.at > until - LEDGER_LOOKBACK,
            ledger.c.at <= until + timedelta(days=1),
        )
        .order_by(ledger.c.at)
    )
    return list((await session.execute(stmt)).all())


async def record_attempt(session: AsyncSession, **values: Any) -> bool:
    """False when this attempt id was already recorded."""
    stmt = pg_insert(ledger).values(**values).on_conflict_do_nothing().returning(ledger.c.attempt_id)
    return (await session.execute(stmt)).first() is not None


async def decision_by_request(session: AsyncSession, request_id: str) -> Any:
    return (await session.execute(select(decisions).where(decisions.c.request_id == request_id))).first()


async def decision(session: AsyncSession, permit_id: uuid.UUID, *, lock: bool = False) -> Any:
    stmt = select(decisions).where(decisions.c.permit_id == permit_id)
    if lock:
        stmt = stmt.with_for_update()
    return (await session.execute(stmt)).first()


async def decisions_between(
    session: AsyncSession,
    tenant: str | None,
    start: datetime,
    end: datetime,
    *,
    after: Any = None,
    limit: int,
) -> list[Any]:
    """Decisions made in [start, end), oldest first, of one tenant (None: every tenant), after a
    (decided_at, permit_id) cursor."""
    stmt = select(decisions).where(decisions.c.decided_at >= start, decisions.c.decided_at < end)
    if tenant is not None:
        stmt = stmt.where(decisions.c.tenant == tenant)
    if after is not None:
        stmt = stmt.where(tuple_(decisions.c.decided_at, decisions.c.permit_id) > tuple_(*after))
    stmt = stmt.order_by(decisions.c.decided_at, decisions.c.permit_id).limit(limit)
    return list((await session.execute(stmt)).all())


async def use_permit(session: AsyncSession, permit_id: uuid.UUID, *, at: datetime, by: str) -> None:
    await session.execute(
        update(decisions).where(decisions.c.permit_id == permit_id).values(used_at=at, used_by=by)
    )


async def release_job_permits(
    session: AsyncSession,
    borrower_id: uuid.UUID,
    job_id: str,
    *,
    at: datetime,
    by: str,
    keep: uuid.UUID,
) -> None:
    """A job made its one contact: its other unused allows stop holding the borrower's budget."""
    await session.execute(
        update(decisions)
        .where(
            decisions.c.borrower_id == borrower_id,
            decisions.c.outcome == "allow",
            decisions.c.used_at.is_(None),
            decisions.c.request["job_id"].astext == job_id,
            decisions.c.permit_id != keep,
        )
        .values(used_at=at, used_by=f"released:{by}")
    )


async def decisions_of(
    session: AsyncSession, account_id: uuid.UUID, *, limit: int, before: Any = None
) -> list[Any]:
    stmt = select(decisions).where(decisions.c.account_id == account_id)
    if before is not None:
        stmt = stmt.where(tuple_(decisions.c.decided_at, decisions.c.permit_id) < tuple_(*before))
    stmt = stmt.order_by(decisions.c.decided_at.desc(), decisions.c.permit_id.desc()).limit(limit)
    return list((await session.execute(stmt)).all())


async def insert_violation(session: AsyncSession, **values: Any) -> None:
    await session.execute(insert(violations).values(**values))


async def violations_of(session: AsyncSession, tenant: str | None, *, limit: int) -> list[Any]:
    stmt = select(violations).order_by(violations.c.detected_at.desc()).limit(limit)
    if tenant is not None:
        stmt = stmt.where(violations.c.tenant == tenant)
    return list((await session.execute(stmt)).all())


_PERIOD = "decided_at >= :start AND decided_at < :end AND (CAST(:tenant AS text) IS NULL OR tenant = :tenant)"
_OUTCOMES = text(f"SELECT outcome, count(*) AS n FROM compliance.decisions WHERE {_PERIOD} GROUP BY outcome")  # noqa: S608
_RULES = text(
    "SELECT outcome, r->>'rule' AS rule, count(*) AS n FROM compliance.decisions, "  # noqa: S608
    f"jsonb_array_elements(reasons) r WHERE {_PERIOD} AND outcome <> 'allow' "
    "GROUP BY outcome, rule ORDER BY n DESC, rule"
)
_VIOLATIONS = text(
    "SELECT kind, count(*) AS n FROM compliance.violations WHERE detected_at >= :start "
    "AND detected_at < :end AND (CAST(:tenant AS text) IS NULL OR tenant = :tenant) "
    "GROUP BY kind ORDER BY kind"
)


async def denial_report(
    session: AsyncSession, tenant: str | None, start: datetime, end: datetime
) -> dict[str, Any]:
    """Decisions per outcome, per rule for each outcome that was not an allow, and violations
    detected per kind, in [start, end)."""
    params = {"start": start, "end": end, "tenant": tenant}
    outcomes = await session.execute(_OUTCOMES, params)
    rules = await session.execute(_RULES, params)
    violations = await session.execute(_VIOLATIONS, params)
    return {
        "outcomes": {r.outcome: r.n for r in outcomes},
        "rules": [{"outcome": r.outcome, "rule": r.rule, "count": r.n} for r in rules],
        "violations": {r.kind: r.n for r in violations},
    }


async def outstanding_permits(session: AsyncSession, borrower_id: uuid.UUID, *, at: datetime) -> list[Any]:
    """Allowed permits of a borrower not used yet and not expired at `at`: contacts that may still happen."""
    stmt = select(
        decisions.c.request, decisions.c.channel, decisions.c.account_id, decisions.c.decided_at
    ).where(
        decisions.c.borrower_id == borrower_id,
        decisions.c.outcome == "allow",
        decisions.c.used_at.is_(None),
        decisions.c.expires_at > at,
    )
    return list((await session.execute(stmt)).all())
