"""Small helpers the benchmarks share: tokens, posting batches, polling the database, percentiles."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import asyncpg
import httpx
import orjson

from common.auth import Role, issue_token
from common.devstack.layout import Layout


def token(layout: Layout, tenant: str, role: Role = Role.LENDER) -> str:
    return issue_token(layout.jwt_private_key.read_bytes(), sub="bench", role=role, tenant=tenant, ttl_s=7200)


async def post_ndjson(
    client: httpx.AsyncClient, url: str, tok: str, events: list[dict[str, Any]]
) -> dict[str, Any]:
    body = b"\n".join(orjson.dumps(e) for e in events)
    r = await client.post(
        f"{url}/v1/events",
        content=body,
        headers={"Authorization": f"Bearer {tok}", "content-type": "application/x-ndjson"},
    )
    r.raise_for_status()
    result: dict[str, Any] = r.json()
    return result


async def wait_for_count(dsn: str, sql: str, *args: Any, target: int, timeout_s: float) -> tuple[int, float]:
    """Poll `sql` (a count) until it reaches `target`; returns (count, seconds waited)."""
    start = time.perf_counter()
    conn = await asyncpg.connect(dsn)
    try:
        while True:
            n = int(await conn.fetchval(sql, *args))
            waited = time.perf_counter() - start
            if n >= target or waited > timeout_s:
                return n, waited
            await asyncio.sleep(0.2)
    finally:
        await conn.close()


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]
