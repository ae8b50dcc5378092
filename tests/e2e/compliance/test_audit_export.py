"""An audit export is NDJSON ending in a signed checkpoint: verifiable offline with the public key,
tamper-evident, and showing a tenant's officer only that tenant's content."""

from __future__ import annotations

import hashlib

import asyncpg
import orjson
import pytest

from common.auth import Role
from common.testing.stack import Stack
from compliance.domain.audit import canonical_json, verify_export
from tests.e2e.compliance.desk import Desk, Placed, unreachable_by_reminders
from tests.e2e.intake import builders as b
from tests.support.waiting import eventually

pytestmark = pytest.mark.e2e


async def export(
    desk: Desk, first: int, last: int, *, tenant: str, role: Role = Role.COMPLIANCE
) -> list[bytes]:
    response = await desk.compliance.get(
        "/v1/audit/export", params={"from": first, "to": last}, headers=desk.headers(role, tenant=tenant)
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/x-ndjson")
    return response.content.splitlines(keepends=True)


async def holds_applied(desk: Desk, placed: Placed, holds: list[str]) -> None:
    """Wait until compliance has applied (and so audited, in the same transaction) the lender's events."""

    async def applied() -> bool:
        return bool((await desk.state(placed.account_id))["holds"] == holds)

    await eventually(applied, timeout_s=60, interval_s=0.1)


async def audited_events(pg: asyncpg.Pool, tenant: str) -> dict[int, str | None]:
    """seq -> ce_type of every entry audited for `tenant` (None for decisions and violations); the
    reminders service adds some of its own beside the test's."""
    rows = await pg.fetch(
        "SELECT seq, content::jsonb ->> 'ce_type' AS ce_type FROM compliance.audit_log "
        "WHERE tenant = $1 ORDER BY seq",
        tenant,
    )
    return {r["seq"]: r["ce_type"] for r in rows}


async def test_an_export_verifies_offline_shows_only_the_readers_content_and_exposes_tampering(
    stack: Stack, desk: Desk, other: Desk, pg: asyncpg.Pool
) -> None:
    mine = await desk.place(unreachable_by_reminders(b.account_placed()))
    await other.place(unreachable_by_reminders(b.account_placed()))
    opened = {"received_at": b.now_iso(), "written": False, "reason": "amount is wrong"}
    await desk.lender.accept(b.lender_event("dispute.opened", mine.external_account_id, dispute=opened))
    await holds_applied(desk, mine, ["dispute"])
    my_events, their_events = await audited_events(pg, desk.tenant), await audited_events(pg, other.tenant)
    (first,) = [seq for seq, ce_type in my_events.items() if ce_type == "account.placed"]
    (last,) = [seq for seq, ce_type in my_events.items() if ce_type == "dispute.opened"]
    (theirs,) = [seq for seq, ce_type in their_events.items() if ce_type == "account.placed"]
    assert first < theirs < last  # the other tenant's placement was audited in between
    my_seqs = [seq for seq in my_events if first <= seq <= last]
    their_seqs = [seq for seq in their_events if first <= seq <= last]

    lines = await export(desk, first, last, tenant=desk.tenant)
    public_key = stack.layout.audit_public_key.read_bytes()

    result = verify_export(lines, public_key)
    assert result.ok, result
    assert result.entries == last - first + 1
    *entries, checkpoint = [orjson.loads(line) for line in lines]
    assert [e["seq"] for e in entries] == list(range(first, last + 1))
    assert checkpoint["checkpoint"]["seq"] == last
    assert checkpoint["checkpoint"]["head"] == entries[-1]["hash"] == result.head
    for entry in entries:
        if entry["body"]["tenant"] == desk.tenant:
            # What the reader sees is exactly what the chain committed to.
            digest = hashlib.sha256(canonical_json(entry["content"])).hexdigest()
            assert digest == entry["body"]["content_sha256"]
        else:
            assert "content" not in entry, entry
    shown = {e["seq"]: e["content"] for e in entries if "content" in e}
    assert set(shown) == set(my_seqs)
    assert shown[first]["ce_type"] == "account.placed"
    assert shown[first]["ce_subject"] == mine.account_id
    assert shown[last]["ce_type"] == "dispute.opened"

    their_export = [orjson.loads(line) for line in await export(other, first, last, tenant=other.tenant)]
    assert {e["seq"] for e in their_export[:-1] if "content" in e} == set(their_seqs)
    everything = [
        orjson.loads(line) for line in await export(desk, first, last, tenant="ops", role=Role.ADMIN)
    ]
    assert all("content" in e for e in everything[:-1])

    middle = (last - first) // 2
    for field, value in (("tenant", "someone-else"), ("content_sha256", "0" * 64)):
        forged = [orjson.loads(line) for line in lines]
        forged[middle]["body"][field] = value
        result = verify_export([canonical_json(r) + b"\n" for r in forged], public_key)
        assert not result.ok, field
        assert result.first_bad_seq == first + middle, (field, result)
    resigned = [orjson.loads(line) for line in lines]
    resigned[-1]["checkpoint"]["at"] = "2000-01-01T00:00:00+00:00"
    assert not verify_export([canonical_json(r) + b"\n" for r in resigned], public_key).ok
