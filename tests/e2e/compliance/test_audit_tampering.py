"""The audit trail is append-only for the service's roles, and verify names the first entry a
superuser altered, removed or reordered behind the trigger's back.

Each test tampers with the chain of its own fresh tenant, and undoes it (the original rows put back,
trigger disabled only inside that one transaction): verify must be clean again after.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
import httpx
import pytest

from common.auth import Role
from common.testing.stack import Stack
from tests.e2e.compliance.desk import Desk
from tests.e2e.intake import builders as b

pytestmark = pytest.mark.e2e

AUDIT = "compliance.audit_log"
COLUMNS = ("chain", "seq", "prev_hash", "kind", "recorded_at", "tenant", "content", "content_sha256", "hash")
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


async def rows(pg: asyncpg.Pool, chain: str, *seqs: int) -> list[dict[str, Any]]:
    found = await pg.fetch(
        f"SELECT {', '.join(COLUMNS)} FROM {AUDIT} WHERE chain = $1 AND seq = ANY($2::bigint[]) ORDER BY seq",
        chain,
        list(seqs),
    )
    return [dict(r) for r in found]


async def put_back(conn: asyncpg.Connection, originals: list[dict[str, Any]]) -> None:
    """Every original row exactly as it was, whatever was done to it (changed, moved or removed)."""
    chain = originals[0]["chain"]
    seqs = [r["seq"] for r in originals]
    hashes = [r["hash"] for r in originals]
    await conn.execute(
        f"DELETE FROM {AUDIT} WHERE chain = $1 AND (seq = ANY($2::bigint[]) OR hash = ANY($3::text[]))",
        chain,
        seqs,
        hashes,
    )
    values = ", ".join(f"${i}" for i in range(1, len(COLUMNS) + 1))
    await conn.executemany(
        f"INSERT INTO {AUDIT} ({', '.join(COLUMNS)}) VALUES ({values})",
        [tuple(r[c] for c in COLUMNS) for r in originals],
    )


@pytest.fixture
async def target(desk: Desk, pg: asyncpg.Pool) -> int:
    """A seq a few entries below the head of the tenant's chain (lengthened first)."""
    while (await head_seq(pg, desk.tenant)) < DEPTH + 2:
        await desk.place(b.account_placed(national_id=None))  # each placement is one audit entry
    return await head_seq(pg, desk.tenant) - DEPTH


async def head_seq(pg: asyncpg.Pool, chain: str) -> int:
    return int(await pg.fetchval(f"SELECT coalesce(max(seq), 0) FROM {AUDIT} WHERE chain = $1", chain))


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
        assert await rows(pg, originals[0]["chain"], *seqs) == originals
        restored = await verify(desk)
        assert restored["ok"] is True, restored
        assert restored["first_bad_seq"] is None


def _tampered_content(row: dict[str, Any]) -> str:
    content = json.loads(row["content"])
    content["tampered"] = True
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


async def _alter_content(conn: asyncpg.Connection, row: dict[str, Any]) -> None:
    await conn.execute(
        f"UPDATE {AUDIT} SET content = $3 WHERE chain = $1 AND seq = $2",
        row["chain"],
        row["seq"],
        _tampered_content(row),
    )


async def _alter_content_and_its_digest(conn: asyncpg.Connection, row: dict[str, Any]) -> None:
    content = _tampered_content(row)
    digest = hashlib.sha256(content.encode()).hexdigest()
    await conn.execute(
        f"UPDATE {AUDIT} SET content = $3, content_sha256 = $4 WHERE chain = $1 AND seq = $2",
        row["chain"],
        row["seq"],
        content,
        digest,
    )


ALTERATIONS = {"content": _alter_content, "content and its digest": _alter_content_and_its_digest}


async def test_the_untouched_chain_verifies_to_its_head(desk: Desk, pg: asyncpg.Pool, target: int) -> None:
    known = await head_seq(pg, desk.tenant)

    found = await verify(desk)

    assert found["ok"] is True, found
    assert (found["first_bad_seq"], found["problem"]) == (None, None)
    assert found["entries"] >= known > target
    # Entries appended meanwhile only move the head on: it is the hash of the last entry counted.
    assert found["chain"] == desk.tenant
    assert found["head"] == await pg.fetchval(
        f"SELECT hash FROM {AUDIT} WHERE chain = $1 AND seq = $2", desk.tenant, found["entries"]
    )


@pytest.mark.parametrize("alteration", list(ALTERATIONS))
async def test_an_altered_entry_is_the_first_bad_seq(
    desk: Desk, pg: asyncpg.Pool, target: int, alteration: str
) -> None:
    originals = await rows(pg, desk.tenant, target - 1, target)
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
        await conn.execute(f"DELETE FROM {AUDIT} WHERE chain = $1 AND seq = $2", desk.tenant, target)

    found = await tamper_and_restore(desk, pg, await rows(pg, desk.tenant, target), remove)

    assert found["ok"] is False, found
    assert found["first_bad_seq"] == target + 1, found
    assert f"seq {target} missing" in found["problem"], found
    assert found["entries"] == target - 1, found


async def test_two_swapped_entries_are_found_at_the_first_position(
    desk: Desk, pg: asyncpg.Pool, target: int
) -> None:
    chain = desk.tenant
    originals = await rows(pg, chain, target, target + 1)

    async def swap(conn: asyncpg.Connection) -> None:
        move = f"UPDATE {AUDIT} SET seq = $2 WHERE chain = $1 AND seq = $3"
        await conn.execute(move, chain, -target, target)
        await conn.execute(move, chain, target, target + 1)
        await conn.execute(move, chain, target + 1, -target)
        moved = await conn.fetch(
            f"SELECT hash FROM {AUDIT} WHERE chain = $1 AND seq = ANY($2::bigint[]) ORDER BY seq",
            chain,
            [target, target + 1],
        )
        assert [r["hash"] for r in moved] == [originals[1]["hash"], originals[0]["hash"]]

    found = await tamper_and_restore(desk, pg, originals, swap)

    assert found["ok"] is False, found
    assert found["first_bad_seq"] == target, found
    assert found["entries"] == target - 1, found


async def test_the_runtime_role_may_not_change_the_trail_and_the_trigger_refuses_even_the_owner(
    stack: Stack, desk: Desk, pg: asyncpg.Pool, target: int
) -> None:
    where = f"chain = '{desk.tenant}' AND seq = {target}"
    runtime = await asyncpg.connect(stack.role_dsn("compliance"))
    try:
        assert await runtime.fetchval(f"SELECT count(*) FROM {AUDIT} WHERE {where}") == 1
        for statement in (
            f"UPDATE {AUDIT} SET content = content WHERE {where}",
            f"DELETE FROM {AUDIT} WHERE {where}",
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
            f"UPDATE {AUDIT} SET content = content WHERE {where}",
            f"DELETE FROM {AUDIT} WHERE {where}",
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


async def test_verify_reads_only_the_callers_chain_and_an_admin_reads_every_chain(
    desk: Desk, other: Desk, pg: asyncpg.Pool, target: int
) -> None:
    await other.place(b.account_placed(national_id=None))

    async def as_(d: Desk, role: Role, **params: str) -> httpx.Response:
        return await d.compliance.get("/v1/audit/verify", params=params, headers=d.headers(role))

    # Another tenant's chain answers 404, as any other tenant's resource does; ops may verify its own.
    assert (await as_(other, Role.COMPLIANCE, tenant=desk.tenant)).status_code == 404
    mine = (await as_(desk, Role.OPS)).json()
    assert (mine["ok"], mine["chain"], mine["chains"]) == (True, desk.tenant, 1)
    everything = (await as_(desk, Role.ADMIN)).json()
    assert everything["ok"] is True, everything
    assert everything["chains"] >= 2 and everything["entries"] > mine["entries"]

    original = (await rows(pg, desk.tenant, target))[0]

    async def alter(conn: asyncpg.Connection) -> None:
        await _alter_content(conn, original)
        # While one tenant's chain is broken, another's verifies clean; an admin is told whose it is.
        assert (await as_(other, Role.COMPLIANCE)).json()["ok"] is True

    found = await tamper_and_restore(desk, pg, [original], alter)
    assert (found["ok"], found["chain"], found["first_bad_seq"]) == (False, desk.tenant, target)
