"""Pipeline: placements posted to intake until compliance has decided every first-reminder permit
(intake → reminders plans and asks → compliance decides), and decision throughput on its own."""

from __future__ import annotations

import random
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import httpx

from common.devstack.layout import Layout
from tests.bench.common import post_ndjson, token, wait_for_count
from tests.bench.data import placement

# Distinct jobs with a decision: a job that asked twice (a re-request) counts once.
DECIDED = (
    "SELECT count(DISTINCT request->>'job_id') FROM compliance.decisions"
    " WHERE tenant = $1 AND requester = 'reminders' AND policy <> 'none'"
)


async def run(*, accounts: int, batch: int = 1_000, timeout_s: float = 900) -> dict[str, Any]:
    layout = Layout()
    run_id = f"pipe{uuid.uuid4().hex[:8]}"
    tenant = f"bench-{run_id}"
    rng = random.Random(7)
    today = datetime.now(UTC).date()
    events = [placement(n, run=run_id, rng=rng, today=today) for n in range(accounts)]
    tok = token(layout, tenant)
    start = time.perf_counter()
    async with httpx.AsyncClient(timeout=120) as client:
        for i in range(0, accounts, batch):
            await post_ndjson(client, layout.service_url("intake"), tok, events[i : i + batch])
    posted_s = time.perf_counter() - start
    decided, waited = await wait_for_count(
        layout.superuser_dsn(), DECIDED, tenant, target=accounts, timeout_s=timeout_s
    )
    total = posted_s + waited
    return {
        "accounts": accounts,
        "posted_s": round(posted_s, 2),
        "decided": decided,
        "total_s": round(total, 2),
        "decided_per_s": round(decided / total, 1),
        "target": "100,000 in 60 s",
    }
