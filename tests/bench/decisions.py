"""Compliance decision throughput: permit requests published straight onto reminders.v1 for accounts
compliance already knows, until every one is decided (ledger and audit in PostgreSQL)."""

from __future__ import annotations

import random
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import asyncpg
import httpx

import common.contracts.contact as k
from common.devstack.layout import Layout
from common.messaging.envelope import encode_payload, new_envelope
from common.messaging.producer import make_producer
from tests.bench.common import post_ndjson, token, wait_for_count
from tests.bench.data import placement

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
