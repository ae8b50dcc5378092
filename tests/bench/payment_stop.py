"""Payment stop: from posting payment.received (paying the balance) to reminders having cancelled every
pending job of the account (the same transaction closes the account), under background placements."""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import asyncpg
import httpx
import orjson

from common.devstack.layout import Layout
from tests.bench.common import percentile, post_ndjson, token, wait_for_count
from tests.bench.data import placement

KNOWN = "SELECT count(*) FROM reminders.accounts WHERE tenant = $1"


async def run(*, payments: int = 30, background_per_s: int = 25, timeout_s: float = 600) -> dict[str, Any]:
    layout = Layout()
    run_id = f"pay{uuid.uuid4().hex[:8]}"
    tenant = f"bench-{run_id}"
    rng = random.Random(5)
    today = datetime.now(UTC).date()
    events = [placement(n, run=run_id, rng=rng, today=today) for n in range(payments)]
    tok = token(layout, tenant)
    intake = layout.service_url("intake")
    async with httpx.AsyncClient(timeout=120) as client:
        placed = await post_ndjson(client, intake, tok, events)
        ids = [r["account_id"] for r in placed["results"]]
        await wait_for_count(layout.superuser_dsn(), KNOWN, tenant, target=payments, timeout_s=timeout_s)
        stop = asyncio.Event()
        background = asyncio.create_task(_background(client, layout, background_per_s, stop))
        latencies, accepted = await _pay_all(client, layout, tok, events, ids)
        stop.set()
        sent_bg = await background
    return {
        "payments": payments,
        "background_target_per_s": background_per_s,
        "background_posted": sent_bg,
        "p50_ms": round(percentile(latencies, 50) * 1000),
        "p99_ms": round(percentile(latencies, 99) * 1000),
        "max_ms": round(max(latencies) * 1000),
        # of which intake's answer (the HTTP request queued behind the background batches)
        "accepted_p50_ms": round(percentile(accepted, 50) * 1000),
        "accepted_p99_ms": round(percentile(accepted, 99) * 1000),
        "target_p99_ms": 500,
    }


async def _background(client: httpx.AsyncClient, layout: Layout, per_s: int, stop: asyncio.Event) -> int:
    run_id = f"bg{uuid.uuid4().hex[:8]}"
    tok = token(layout, f"bench-{run_id}")
    rng = random.Random(3)
    today = datetime.now(UTC).date()
    sent, n = 0, 0
    while not stop.is_set():
        tick = time.perf_counter()
        batch = [placement(n + i, run=run_id, rng=rng, today=today) for i in range(per_s // 5)]
        n += len(batch)
        await post_ndjson(client, layout.service_url("intake"), tok, batch)
        sent += len(batch)
        await asyncio.sleep(max(0.0, 0.2 - (time.perf_counter() - tick)))
    return sent


async def _pay_all(
    client: httpx.AsyncClient, layout: Layout, tok: str, events: list[dict[str, Any]], ids: list[str]
) -> tuple[list[float], list[float]]:
    """Each payment's time to every pending job cancelled, and its time to intake's 202."""
    conn = await asyncpg.connect(layout.superuser_dsn())
    latencies: list[float] = []
    accepted: list[float] = []
    try:
        for event, account_id in zip(events, ids, strict=True):
            payment = {
                "event_id": f"{event['event_id']}-paid",
                "type": "payment.received",
                "occurred_at": datetime.now(UTC).isoformat(),
                "account": {"external_account_id": event["account"]["external_account_id"]},
                "payment": {
                    "amount_minor": event["account"]["amount_due_minor"],
                    "paid_at": datetime.now(UTC).isoformat(),
                },
            }
            start = time.perf_counter()
            r = await client.post(
                f"{layout.service_url('intake')}/v1/events",
                content=orjson.dumps(payment),
                headers={"Authorization": f"Bearer {tok}", "content-type": "application/json"},
            )
            r.raise_for_status()
            accepted.append(time.perf_counter() - start)
            while True:
                state = await conn.fetchrow(
                    "SELECT a.status, (SELECT count(*) FROM reminders.jobs j WHERE j.account_id = a.account_id "
                    "AND j.state IN ('planned','awaiting_permit','deferred','sending')) AS pending "
                    "FROM reminders.accounts a WHERE a.account_id = $1",
                    uuid.UUID(account_id),
                )
                if state["status"] == "closed" and state["pending"] == 0:
                    break
                if time.perf_counter() - start > 30:
                    break
                await asyncio.sleep(0.005)
            latencies.append(time.perf_counter() - start)
    finally:
        await conn.close()
    return latencies, accepted
