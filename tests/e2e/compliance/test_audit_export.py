"""An audit export is one tenant's chain as NDJSON, a page at a time, each page ending in a signed
checkpoint: verifiable offline with the public key, tamper-evident, and nothing of another tenant."""

from __future__ import annotations

import asyncio
import hashlib
import sys
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import orjson
import pytest

from common.auth import Role
from common.testing.stack import Stack
from compliance.domain.audit import canonical_json, verify_export
from tests.e2e.compliance.desk import Desk, Placed, unreachable_by_reminders
from tests.e2e.intake import builders as b
from tests.support.cli import collectctl
from tests.support.waiting import eventually

pytestmark = pytest.mark.e2e


async def export(
    desk: Desk,
    first: int,
    last: int | None = None,
    *,
    tenant: str,
    role: Role = Role.COMPLIANCE,
    **params: Any,
) -> list[bytes]:
    response = await export_response(desk, first, last, tenant=tenant, role=role, **params)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/x-ndjson")
    return response.content.splitlines(keepends=True)


async def export_response(
    desk: Desk,
    first: int,
    last: int | None = None,
    *,
    tenant: str,
    role: Role = Role.COMPLIANCE,
    **params: Any,
) -> httpx.Response:
    if "chain" in params:  # the export's own `tenant` parameter: the chain asked for
        params["tenant"] = params.pop("chain")
    query = {"from": first, **({"to": last} if last else {}), **params}
    return await desk.compliance.get(
        "/v1/audit/export", params=query, headers=desk.headers(role, tenant=tenant)
    )


async def holds_applied(desk: Desk, placed: Placed, holds: list[str]) -> None:
    """Wait until compliance has applied (and so audited, in the same transaction) the lender's events."""

    async def applied() -> bool:
        return bool((await desk.state(placed.account_id))["holds"] == holds)

    await eventually(applied, timeout_s=60, interval_s=0.1)


async def audited_events(pg: asyncpg.Pool, tenant: str) -> dict[int, str | None]:
    """seq -> ce_type of every entry of `tenant`'s chain (None for decisions and violations); the
    reminders service adds some of its own beside the test's."""
    rows = await pg.fetch(
        "SELECT seq, content::jsonb ->> 'ce_type' AS ce_type FROM compliance.audit_log "
        "WHERE chain = $1 ORDER BY seq",
        tenant,
    )
    return {r["seq"]: r["ce_type"] for r in rows}


async def test_a_tenants_export_is_its_own_chain_verifiable_offline_and_exposes_tampering(
    stack: Stack, desk: Desk, other: Desk, pg: asyncpg.Pool
) -> None:
    mine = await desk.place(unreachable_by_reminders(b.account_placed()))
    await other.place(unreachable_by_reminders(b.account_placed()))
    opened = {"received_at": b.now_iso(), "written": False, "reason": "amount is wrong"}
    await desk.lender.accept(b.lender_event("dispute.opened", mine.external_account_id, dispute=opened))
    await holds_applied(desk, mine, ["dispute"])
    my_events = await audited_events(pg, desk.tenant)
    (first,) = [seq for seq, ce_type in my_events.items() if ce_type == "account.placed"]
    (last,) = [seq for seq, ce_type in my_events.items() if ce_type == "dispute.opened"]
    # A new tenant's chain starts at 1 and counts only its own entries.
    assert first == 1 and list(my_events) == list(range(1, len(my_events) + 1))

    lines = await export(desk, first, last, tenant=desk.tenant)
    public_key = stack.layout.audit_public_key.read_bytes()

    result = verify_export(lines, public_key)
    assert result.ok, result
    assert result.entries == last - first + 1
    *entries, checkpoint = [orjson.loads(line) for line in lines]
    assert [e["seq"] for e in entries] == list(range(first, last + 1))
    assert checkpoint["checkpoint"]["seq"] == last and checkpoint["checkpoint"]["chain"] == desk.tenant
    assert checkpoint["checkpoint"]["head"] == entries[-1]["hash"] == result.head
    for entry in entries:
        # Nothing of another tenant, not even its ids or times; and what the reader sees is exactly
        # what the chain committed to.
        assert entry["body"]["tenant"] == desk.tenant
        digest = hashlib.sha256(canonical_json(entry["content"])).hexdigest()
        assert digest == entry["body"]["content_sha256"]
    assert entries[0]["content"]["ce_type"] == "account.placed"
    assert entries[0]["content"]["ce_subject"] == mine.account_id
    assert entries[-1]["content"]["ce_type"] == "dispute.opened"

    theirs = [orjson.loads(line) for line in await export(other, 1, tenant=other.tenant)]
    assert theirs[:-1] and all(e["body"]["tenant"] == other.tenant for e in theirs[:-1])
    # Another tenant's chain is not there for the asking; an admin names the chain it exports.
    assert (await export_response(other, 1, tenant=other.tenant, chain=desk.tenant)).status_code == 404
    admin = await export_response(desk, 1, tenant="ops", role=Role.ADMIN)
    assert admin.status_code == 400, admin.text
    everything = [
        orjson.loads(line)
        for line in await export(desk, first, last, tenant="ops", role=Role.ADMIN, chain=desk.tenant)
    ]
    assert everything[:-1] == [orjson.loads(line) for line in lines[:-1]]

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
    # Presented as another tenant's chain, the checkpoint's signature does not hold.
    relabelled = [orjson.loads(line) for line in lines]
    relabelled[-1]["checkpoint"]["chain"] = other.tenant
    assert not verify_export([canonical_json(r) + b"\n" for r in relabelled], public_key).ok


async def test_an_export_comes_in_pages_each_signed_and_linked_to_the_next(
    stack: Stack, desk: Desk, pg: asyncpg.Pool
) -> None:
    for _ in range(3):
        await desk.place(unreachable_by_reminders(b.account_placed()))

    async def audited() -> bool:
        return len(await audited_events(pg, desk.tenant)) >= 3

    await eventually(audited, timeout_s=60, interval_s=0.2)
    total = len(await audited_events(pg, desk.tenant))
    public_key = stack.layout.audit_public_key.read_bytes()

    seen: list[int] = []
    response = await export_response(desk, 1, tenant=desk.tenant, limit=2)
    while True:
        assert response.status_code == 200, response.text
        lines = response.content.splitlines(keepends=True)
        assert verify_export(lines, public_key).ok
        seen += [orjson.loads(line)["seq"] for line in lines[:-1]]
        link = response.headers.get("link")
        if link is None:
            break
        response = await desk.compliance.get(
            link.split(">")[0].lstrip("<"), headers=desk.headers(Role.COMPLIANCE, tenant=desk.tenant)
        )
    assert seen[:total] == list(range(1, total + 1))


async def test_collectctl_exports_a_chain_in_pages_that_verify_offline_together(
    stack: Stack, desk: Desk, pg: asyncpg.Pool, tmp_path: Path
) -> None:
    for _ in range(3):
        await desk.place(unreachable_by_reminders(b.account_placed()))

    async def audited() -> bool:
        return len(await audited_events(pg, desk.tenant)) >= 3

    await eventually(audited, timeout_s=60, interval_s=0.2)
    env = {"COLLECTCTL_SIGNING_KEY_FILE": str(stack.layout.jwt_private_key)}
    url = ("--url", stack.service_urls["compliance"])
    out = tmp_path / "trail"
    await collectctl("audit", "export", "--of", desk.tenant, "--out", str(out), "--page", "1", *url, env=env)
    pages = sorted(out.glob("page-*.ndjson"))
    entries = sum(len(p.read_bytes().splitlines()) - 1 for p in pages)
    assert len(pages) == entries >= 3
    key = ("--public-key", str(stack.layout.audit_public_key))

    verified = orjson.loads(
        await collectctl("audit", "verify-export", *map(str, pages), *key, "--json", env={})
    )
    assert (verified["ok"], verified["entries"], verified["chains"]) == (True, entries, len(pages)), verified
    table = await collectctl("audit", "verify-export", *map(str, pages), *key, env={})
    assert table.splitlines()[0] == "audit chain OK"
    online = await collectctl("audit", "verify", "--of", desk.tenant, *url, env=env)
    assert online.splitlines()[0] == "audit chain OK"

    # A page left out: each page still verifies, but the pages no longer join.
    gap = await collectctl_fails("audit", "verify-export", str(pages[0]), *map(str, pages[2:]), *key)
    assert "does not start where the page before ended" in gap
    # An entry altered in a page: named, exit 1.
    lines = pages[0].read_bytes().splitlines()
    forged = orjson.loads(lines[0])
    forged["content"]["ce_type"] = "account.recalled"
    pages[0].write_bytes(b"\n".join([canonical_json(forged), *lines[1:]]) + b"\n")
    broken = await collectctl_fails("audit", "verify-export", *map(str, pages), *key)
    assert broken.splitlines()[0] == "audit chain BROKEN" and "content does not match" in broken


async def collectctl_fails(*args: str) -> str:
    """`collectctl args...` that must exit 1; its standard output."""
    cli = await asyncio.create_subprocess_exec(
        str(Path(sys.executable).with_name("collectctl")), *args, stdout=asyncio.subprocess.PIPE
    )
    out, _ = await cli.communicate()
    assert cli.returncode == 1, out.decode()
    return out.decode()
