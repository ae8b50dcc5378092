"""The audit trail is append-only for the service's roles, and verify names the first entry a
superuser altered, removed or reordered behind the trigger's back.

The chain is shared by every test and every later run: each tampering is undone (the original rows
put back, trigger disabled only inside that one transaction) and verify must be clean again after.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
import pytest

from common.testing.stack import Stack
from tests.e2e.compliance.desk import Desk
from tests.e2e.intake import builders as b

pytestmark = pytest.mark.e2e

AUDIT = "compliance.audit_log"
COLUMNS = ("seq", "prev_hash", "kind", "recorded_at", "tenant", "content", "content_sha256", "hash")
# Far enough below the head that entries appended meanwhile never touch the rows under test.
DEPTH = 5


async def verify(desk: Desk) -> dict[str, Any]:
    response = await desk.compliance.get("/v1/audit/verify", headers=desk.headers())
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


async def behind_the_trigger(
    pg: asyncpg.Pool, change: Callable[[asyncpg.Connection], Awaitable[None]]
) -> None:
    """Run `change` as the superuser with the append-only trigger off, in one transaction: nobody
    else ever sees the trigger disabled."""
    async with pg.acquire() as conn, conn.transaction():
        await conn.execute(f"ALTER TABLE {AUDIT} DISABLE TRIGGER USER")
        await change(conn)
        await conn.execute(f"ALTER TABLE {AUDIT} ENABLE TRIGGER USER")


async def rows(pg: asyncpg.Pool, *seqs: int) -> list[dict[str, Any]]:
    found = await pg.fetch(
        f"SELECT {', '.join(COLUMNS)} FROM {AUDIT} WHERE seq = ANY($1::bigint[]) ORDER BY seq", list(seqs)
    )
    return [dict(r) for r in found]


async def put_back(conn: asyncpg.Connection, originals: list[dict[str, Any]]) -> None:
    """Every original row exactly as it was, whatever was done to it (changed, moved or removed)."""
    seqs = [r["seq"] for r in originals]
    hashes = [r["hash"] for r in originals]
    await conn.execute(
        f"DELETE FROM {AUDIT} WHERE seq = ANY($1::bigint[]) OR hash = ANY($2::text[])", seqs, hashes
    )
    await conn.executemany(
        f"INSERT INTO {AUDIT} ({', '.join(COLUMNS)}) VALUES ({', '.join(f'${i}' for i in range(1, 9))})",
        [tuple(r[c] for c in COLUMNS) for r in originals],
    )


@pytest.fixture
async def target(desk: Desk, pg: asyncpg.Pool) -> int:
    """A seq a few entries below the head (the chain is lengthened first if it is too short)."""
    while (await pg.fetchval(f"SELECT coalesce(max(seq), 0) FROM {AUDIT}")) < DEPTH + 2:
        await desk.place(b.account_placed(national_id=None))  # each placement is one audit entry
    return int(await pg.fetchval(f"SELECT max(seq) FROM {AUDIT}")) - DEPTH


async def tamper_and_restore(
    desk: Desk,
    pg: asyncpg.Pool,
    originals: list[dict[str, Any]],
    change: Callable[[asyncpg.Connection], Awaitable[None]],
) -> dict[str, Any]:
    """Apply `change`, return what verify says, then put the original rows back and insist the chain
    verifies clean again, whatever happened in between."""
    seqs = [r["seq"] for r in originals]
    try:
        await behind_the_trigger(pg, change)
        return await verify(desk)
    finally:
        await behind_the_trigger(pg, lambda conn: put_back(conn, originals))
        assert await rows(pg, *seqs) == originals
        restored = await verify(desk)
        assert restored["ok"] is True, restored
        assert restored["first_bad_seq"] is None


def _tampered_content(row: dict[str, Any]) -> str:
    content = json.loads(row["content"])
    content["tampered"] = True
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


async def _alter_content(conn: asyncpg.Connection, row: dict[str, Any]) -> None:
    await conn.execute(f"UPDATE {AUDIT} SET content = $2 WHERE seq = $1", row["seq"], _tampered_content(row))


async def _alter_content_and_its_digest(conn: asyncpg.Connection, row: dict[str, Any]) -> None:
    content = _tampered_content(row)
    digest = hashlib.sha256(content.encode()).hexdigest()
    await conn.execute(
        f"UPDATE {AUDIT} SET content = $2, content_sha256 = $3 WHERE seq = $1", row["seq"], content, digest
    )


ALTERATIONS = {"content": _alter_content, "content and its digest": _alter_content_and_its_digest}


async def test_the_untouched_chain_verifies_to_its_head(desk: Desk, pg: asyncpg.Pool, target: int) -> None:
    known = int(await pg.fetchval(f"SELECT max(seq) FROM {AUDIT}"))

    found = await verify(desk)

    assert found["ok"] is True, found
    assert (found["first_bad_seq"], found["problem"]) == (None, None)
    assert found["entries"] >= known > target
    # Entries appended meanwhile only move the head on: it is the hash of the last entry counted.
    assert found["head"] == await pg.fetchval(f"SELECT hash FROM {AUDIT} WHERE seq = $1", found["entries"])


@pytest.mark.parametrize("alteration", list(ALTERATIONS))
async def test_an_altered_entry_is_the_first_bad_seq(
    desk: Desk, pg: asyncpg.Pool, target: int, alteration: str
) -> None:
    originals = await rows(pg, target - 1, target)
    previous, original = originals

    found = await tamper_and_restore(
        desk, pg, [original], lambda conn: ALTERATIONS[alteration](conn, original)
    )

    assert found["ok"] is False, found
    assert found["first_bad_seq"] == target, found
    assert found["entries"] == target - 1, found
    assert found["head"] == previous["hash"], found


async def test_a_removed_entry_breaks_the_chain_at_the_next_seq(
    desk: Desk, pg: asyncpg.Pool, target: int
) -> None:
    async def remove(conn: asyncpg.Connection) -> None:
        await conn.execute(f"DELETE FROM {AUDIT} WHERE seq = $1", target)

    found = await tamper_and_restore(desk, pg, await rows(pg, target), remove)

    assert found["ok"] is False, found
    assert found["first_bad_seq"] == target + 1, found
    assert f"seq {target} missing" in found["problem"], found
    assert found["entries"] == target - 1, found


async def test_two_swapped_entries_are_found_at_the_first_position(
    desk: Desk, pg: asyncpg.Pool, target: int
) -> None:
    originals = await rows(pg, target, target + 1)

    async def swap(conn: asyncpg.Connection) -> None:
        await conn.execute(f"UPDATE {AUDIT} SET seq = -seq WHERE seq = $1", target)
        await conn.execute(f"UPDATE {AUDIT} SET seq = $1 WHERE seq = $2", target, target + 1)
        await conn.execute(f"UPDATE {AUDIT} SET seq = $1 WHERE seq = $2", target + 1, -target)
        moved = await conn.fetch(
            f"SELECT hash FROM {AUDIT} WHERE seq = ANY($1::bigint[]) ORDER BY seq", [target, target + 1]
        )
        assert [r["hash"] for r in moved] == [originals[1]["hash"], originals[0]["hash"]]

    found = await tamper_and_restore(desk, pg, originals, swap)

    assert found["ok"] is False, found
    assert found["first_bad_seq"] == target, found
    assert found["entries"] == target - 1, found


async def test_the_runtime_role_may_not_change_the_trail_and_the_trigger_refuses_even_the_owner(
    stack: Stack, pg: asyncpg.Pool, target: int
) -> None:
    runtime = await asyncpg.connect(stack.role_dsn("compliance"))
    try:
        assert await runtime.fetchval(f"SELECT count(*) FROM {AUDIT} WHERE seq = $1", target) == 1
        for statement in (
            f"UPDATE {AUDIT} SET content = content WHERE seq = {target}",
            f"DELETE FROM {AUDIT} WHERE seq = {target}",
            f"TRUNCATE {AUDIT}",
            "UPDATE compliance.audit_checkpoints SET head = head WHERE id = (SELECT min(id) FROM compliance.audit_checkpoints)",
        ):
            with pytest.raises(asyncpg.InsufficientPrivilegeError, match="permission denied"):
                await runtime.execute(statement)
    finally:
        await runtime.close()

    owner = await asyncpg.connect(stack.role_dsn("compliance_owner"))
    try:
        for statement in (
            f"UPDATE {AUDIT} SET content = content WHERE seq = {target}",
            f"DELETE FROM {AUDIT} WHERE seq = {target}",
            f"TRUNCATE {AUDIT}",
        ):
            with pytest.raises(asyncpg.InsufficientPrivilegeError, match="append-only"):
                await owner.execute(statement)
    finally:
        await owner.close()
    triggers = await pg.fetch(
        "SELECT tgname, tgenabled FROM pg_trigger WHERE tgrelid = $1::regclass AND NOT tgisinternal", AUDIT
    )
    assert {(t["tgname"], t["tgenabled"]) for t in triggers} == {
        ("audit_log_append_only", b"O"),  # "O": enabled, in origin and local sessions
        ("audit_log_no_truncate", b"O"),
    }
