"""Bulk intake: 100,000 placements as NDJSON batches of 1,000, against the running intake service,
next to a raw asyncpg COPY of the same rows in the same run (SPEC section 9)."""

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

from common.auth import Role, issue_token
from common.devstack.layout import Layout
from common.messaging.outbox import OUTBOX_COLUMNS
from intake.handlers import ACCOUNT_COLUMNS, BORROWER_COLUMNS, LENDER_EVENT_COLUMNS
from tests.bench.data import placement


async def post_batches(url: str, token: str, batches: list[bytes], *, concurrency: int) -> tuple[float, int]:
    queue: asyncio.Queue[bytes] = asyncio.Queue()
    for b in batches:
        queue.put_nowait(b)
    accepted = 0

    async def worker(client: httpx.AsyncClient) -> None:
        nonlocal accepted
        while not queue.empty():
            body = queue.get_nowait()
            r = await client.post(
                f"{url}/v1/events",
                content=body,
                headers={"Authorization": f"Bearer {token}", "content-type": "application/x-ndjson"},
            )
            r.raise_for_status()
            accepted += r.json()["accepted"]

    start = time.perf_counter()
    async with httpx.AsyncClient(timeout=120) as client:
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
    return time.perf_counter() - start, accepted


async def raw_copy(layout: Layout, rows: int, batch: int) -> float:
    """The same number of borrower, account, lender-event and outbox rows, COPYed raw into a scratch schema."""
    conn = await asyncpg.connect(layout.superuser_dsn())
    try:
        await conn.execute(
            """
            DROP SCHEMA IF EXISTS bench_copy CASCADE; CREATE SCHEMA bench_copy;
            CREATE TABLE bench_copy.borrowers (LIKE intake.borrowers INCLUDING ALL);
            CREATE TABLE bench_copy.accounts (LIKE intake.accounts INCLUDING ALL);
            CREATE TABLE bench_copy.lender_events (LIKE intake.lender_events INCLUDING ALL);
            CREATE TABLE bench_copy.outbox (LIKE intake.outbox INCLUDING ALL);
            """
        )
        sealed = "enc:v1:k1:" + "A" * 600
        payload = b"x" * 2200
        today = datetime.now(UTC).date()
        start = time.perf_counter()
        for offset in range(0, rows, batch):
            n = min(batch, rows - offset)
            b_ids = [uuid.uuid4() for _ in range(n)]
            a_ids = [uuid.uuid4() for _ in range(n)]
            async with conn.transaction():
                await conn.copy_records_to_table(
                    "borrowers",
                    schema_name="bench_copy",
                    columns=list(BORROWER_COLUMNS),
                    records=[
                        (
                            b,
                            "bench",
                            f"b{offset + i}",
                            sealed,
                            "h" * 64,
                            ["Asia/Shanghai"],
                            "zh-CN",
                            "{}",
                            [],
                            "Asia/Shanghai",
                            '{"Asia/Shanghai": ["declared", "address", "phone"]}',
                        )
                        for i, b in enumerate(b_ids)
                    ],
                )
                await conn.copy_records_to_table(
                    "accounts",
                    schema_name="bench_copy",
                    columns=list(ACCOUNT_COLUMNS),
                    records=[
                        (
                            a,
                            "bench",
                            f"a{offset + i}",
                            b_ids[i],
                            "consumer_installment",
                            "CNY",
                            100,
                            100,
                            today,
                            "CN",
                        )
                        for i, a in enumerate(a_ids)
                    ],
                )
                await conn.copy_records_to_table(
                    "lender_events",
                    schema_name="bench_copy",
                    columns=list(LENDER_EVENT_COLUMNS),
                    records=[
                        ("bench", f"e{offset + i}", "h" * 64, "account.placed", a)
                        for i, a in enumerate(a_ids)
                    ],
                )
                await conn.copy_records_to_table(
                    "outbox",
                    schema_name="bench_copy",
                    columns=list(OUTBOX_COLUMNS),
                    records=[
                        (uuid.uuid4(), "intake.v1", str(b_ids[i]), '{"ce_type": "account.placed"}', payload)
                        for i in range(n)
                    ],
                )
        elapsed = time.perf_counter() - start
        await conn.execute("DROP SCHEMA bench_copy CASCADE")
        return elapsed
    finally:
        await conn.close()


async def run(*, accounts: int = 100_000, batch: int = 1_000, concurrency: int = 2) -> dict[str, Any]:
    layout = Layout()
    run_id = f"bench{uuid.uuid4().hex[:8]}"
    tenant = f"bench-{run_id}"
    rng = random.Random(42)
    today = datetime.now(UTC).date()
    lines = [orjson.dumps(placement(n, run=run_id, rng=rng, today=today)) for n in range(accounts)]
    batches = [b"\n".join(lines[i : i + batch]) for i in range(0, accounts, batch)]
    token = issue_token(
        layout.jwt_private_key.read_bytes(), sub="bench", role=Role.LENDER, tenant=tenant, ttl_s=3600
    )
    elapsed, accepted = await post_batches(
        layout.service_url("intake"), token, batches, concurrency=concurrency
    )
    copy_s = await raw_copy(layout, accounts, batch)
    return {
        "accounts": accounts,
        "batch": batch,
        "concurrency": concurrency,
        "accepted": accepted,
        "intake_s": round(elapsed, 2),
        "intake_per_s": round(accepted / elapsed),
        "raw_copy_s": round(copy_s, 2),
        "raw_copy_per_s": round(accounts / copy_s),
        "ratio_to_raw_copy": round((accepted / elapsed) / (accounts / copy_s), 3),
        "target_per_s": 20_000,
    }
