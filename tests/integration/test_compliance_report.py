"""Compliance's decision report counts the violations detected in its period per kind, for the
caller's tenant (an admin: every tenant), beside its decisions per outcome and rule; against the real
PostgreSQL, in a transaction that is rolled back."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from common.testing.stack import Stack
from compliance import repository as repo
from compliance.tables import violations
from tests.support.rollback import rolled_back

pytestmark = pytest.mark.integration

# A period of the far past, so no violation the stack itself detected falls into it.
START = datetime(1990, 3, 1, tzinfo=UTC)
END = datetime(1990, 4, 1, tzinfo=UTC)


@pytest.fixture
async def session(stack: Stack) -> AsyncIterator[AsyncSession]:
    async with rolled_back(stack) as conn:
        yield AsyncSession(bind=conn)


async def _violation(session: AsyncSession, tenant: str, kind: str, at: datetime) -> None:
    await session.execute(
        insert(violations).values(
            violation_id=uuid.uuid4(),
            tenant=tenant,
            account_id=uuid.uuid4(),
            borrower_id=uuid.uuid4(),
            kind=kind,
            attempt_id=f"job:{uuid.uuid4()}",
            detail="delivered with no unused, unexpired allow",
            detected_at=at,
        )
    )


async def test_violations_per_kind_in_the_period(session: AsyncSession) -> None:
    tenant, other = f"viol-{uuid.uuid4().hex[:8]}", f"viol-{uuid.uuid4().hex[:8]}"
    inside = START + timedelta(days=3)
    await _violation(session, tenant, "delivery_without_permit", inside)
    await _violation(session, tenant, "delivery_without_permit", inside)
    await _violation(session, tenant, "permit_expired", START)
    await _violation(session, tenant, "delivery_without_permit", END)  # the period ends before `to`
    await _violation(session, other, "permit_reused", inside)

    report = await repo.denial_report(session, tenant, START, END)
    assert report == {
        "outcomes": {},
        "rules": [],
        "violations": {"delivery_without_permit": 2, "permit_expired": 1},
    }
    every = await repo.denial_report(session, None, START, END)
    assert every["violations"] == {"delivery_without_permit": 2, "permit_expired": 1, "permit_reused": 1}
