"""The audit store on the real PostgreSQL, inside a transaction that is rolled back: one chain per
tenant, appends of one transaction spread over several chains, and verify reading a chain page by
page finds a removal or an alteration wherever it falls, on a page boundary included."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from common.db import run_before_commit
from common.testing.stack import Stack
from compliance import audit_store
from tests.support.rollback import rolled_back

pytestmark = pytest.mark.integration

AT = datetime(2026, 12, 3, tzinfo=UTC)


@pytest.fixture
async def session(stack: Stack) -> AsyncIterator[AsyncSession]:
    async with rolled_back(stack) as conn:
        yield AsyncSession(bind=conn)


async def append(session: AsyncSession, entries: list[tuple[str, int]]) -> None:
    """(tenant, n) pairs appended in one transaction, written as the commit would write them."""
    for tenant, n in entries:
        audit_store.append(session, kind="event", tenant=tenant, content={"n": n}, at=AT)
    await run_before_commit(session)


async def test_each_tenant_has_a_chain_of_its_own_from_seq_one(session: AsyncSession) -> None:
    await append(session, [("it-a", 1), ("it-b", 1), ("it-a", 2)])
    await append(session, [("it-b", 2), ("it-a", 3)])

    found = (
        await session.execute(
            text(
                "SELECT chain, seq, tenant FROM compliance.audit_log"
                " WHERE chain IN ('it-a', 'it-b') ORDER BY chain, seq"
            )
        )
    ).all()
    assert [tuple(r) for r in found] == [
        ("it-a", 1, "it-a"),
        ("it-a", 2, "it-a"),
        ("it-a", 3, "it-a"),
        ("it-b", 1, "it-b"),
        ("it-b", 2, "it-b"),
    ]
    for chain, count in (("it-a", 3), ("it-b", 2)):
        result = await audit_store.verify(session, chain)
        assert (result.ok, result.entries) == (True, count)
    assert {"it-a", "it-b"} <= set(await audit_store.chains(session))


@pytest.mark.parametrize("page", [3, 5, 100])
@pytest.mark.parametrize(
    ("tamper", "bad", "entries"),
    [
        ("DELETE FROM compliance.audit_log WHERE chain = 'it-p' AND seq = 6", 7, 5),
        ("DELETE FROM compliance.audit_log WHERE chain = 'it-p' AND seq = 5", 6, 4),
        ("UPDATE compliance.audit_log SET content = content || ' ' WHERE chain = 'it-p' AND seq = 6", 6, 5),
        ("UPDATE compliance.audit_log SET hash = repeat('0', 64) WHERE chain = 'it-p' AND seq = 4", 4, 3),
        ("DELETE FROM compliance.audit_log WHERE chain = 'it-p' AND seq = 1", 2, 0),
    ],
)
async def test_verify_page_by_page_finds_the_first_bad_entry(
    session: AsyncSession, monkeypatch: pytest.MonkeyPatch, page: int, tamper: str, bad: int, entries: int
) -> None:
    monkeypatch.setattr(audit_store, "VERIFY_PAGE", page)
    # Off for this transaction only (rolled back): the superuser who tampers behind the trigger.
    await session.execute(text("ALTER TABLE compliance.audit_log DISABLE TRIGGER USER"))
    await append(session, [("it-p", n) for n in range(1, 13)])
    intact = await audit_store.verify(session, "it-p")
    assert (intact.ok, intact.entries) == (True, 12)

    await session.execute(text(tamper))

    result = await audit_store.verify(session, "it-p")
    assert (result.ok, result.first_bad_seq, result.entries) == (False, bad, entries), result
