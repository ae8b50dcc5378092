"""Compliance decision throughput: permit requests published straight onto reminders.v1 for accounts
compliance already knows, until every one is decided (ledger and audit in PostgreSQL)."""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import asyncpg
import httpx

import common.contracts.contact as k
from common.devstack import stack as devstack
from common.devstack.layout import Layout
from common.messaging.envelope import encode_payload, new_envelope
from common.messaging.producer import make_producer
from tests.bench.common import post_ndjson, token, wait_for_count
from tests.bench.data import placement
from tests.support.kafka import group_state

KNOWN = "SELECT count(*) FROM compliance.accounts WHERE tenant = $1"
DECIDED = "SELECT count(*) FROM compliance.decisions WHERE tenant = $1 AND requester = 'ops'"


async def run(*, accounts: int = 500, requests: int = 5_000, timeout_s: float = 600) -> dict[str, Any]:
    layout = Layout()
    run_id = f"dec{uuid.uuid4().hex[:8]}"
    tenant = f"bench-{run_id}"
    rng = random.Random(11)
    today = datetime.now(UTC).date()
    tok = token(layout, tenant)
    async with httpx.AsyncClient(timeout=120) as client:
        for i in range(0, accounts, 1_000):
            events = [
                placement(n, run=run_id, rng=rng, today=today) for n in range(i, min(i + 1_000, accounts))
            ]
            await post_ndjson(client, layout.service_url("intake"), tok, events)
    await wait_for_count(layout.superuser_dsn(), KNOWN, tenant, target=accounts, timeout_s=timeout_s)
    conn = await asyncpg.connect(layout.superuser_dsn())
    try:
        rows = await conn.fetch(
            "SELECT account_id, borrower_id FROM compliance.accounts WHERE tenant = $1", tenant
        )
    finally:
        await conn.close()
    producer = make_producer(layout.kafka_bootstrap, client_id="bench-decisions")
    await producer.start()
    start = time.perf_counter()
    try:
        for n in range(requests):
            row = rows[n % len(rows)]
            data = k.PermitRequested(
                request_id=f"{run_id}-{n}",
                requester="ops",
                account_id=str(row["account_id"]),
                borrower_id=str(row["borrower_id"]),
                channel="sms",
                at=datetime.now(UTC),
            )
            env = new_envelope(
                ce_type="permit.requested",
                version=1,
                source="bench",
                tenant=tenant,
                subject=str(row["account_id"]),
            )
            await producer.send(
                "reminders.v1",
                value=encode_payload(data),
                key=str(row["borrower_id"]).encode(),
                headers=[(h, v.encode()) for h, v in env.to_headers().items()],
            )
        await producer.flush()
    finally:
        await producer.stop()
    decided, _ = await wait_for_count(
        layout.superuser_dsn(), DECIDED, tenant, target=requests, timeout_s=timeout_s
    )
    elapsed = time.perf_counter() - start
    return {
        "requests": requests,
        "accounts": accounts,
        "decided": decided,
        "seconds": round(elapsed, 2),
        "decisions_per_s": round(decided / elapsed, 1),
        "target_per_s": 10_000,
    }


# The group of compliance's consumer of reminders.v1, which the permit requests arrive on.
GROUP = "compliance.reminders.v1"


async def scale_out(*, requests: int = 5_000, timeout_s: float = 120) -> list[dict[str, Any]]:
    """The same run with one compliance process, then with a second one sharing its groups."""
    layout = Layout()
    rows = [{"processes": 1, **await run(requests=requests)}]
    await asyncio.to_thread(devstack.start_service, layout, "compliance", replica=1)
    try:
        await _members(layout, 2, timeout_s=timeout_s)
        rows.append({"processes": 2, **await run(requests=requests)})
    finally:
        await asyncio.to_thread(devstack.stop_service, layout, "compliance", replica=1)
        await _members(layout, 1, timeout_s=timeout_s)
    for row in rows:
        row["gain"] = round(row["decisions_per_s"] / rows[0]["decisions_per_s"], 2)
    return rows


async def _members(layout: Layout, n: int, *, timeout_s: float) -> None:
    """Wait until the group is stable with `n` members (a rebalance would stall the measurement)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if await group_state(layout.kafka_bootstrap, GROUP) == ("Stable", n):
            return
        await asyncio.sleep(0.5)
    raise TimeoutError(f"{GROUP} did not settle on {n} members within {timeout_s:.0f}s")
