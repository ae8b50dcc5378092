"""How the figures grow with size: compliance decisions at 10,000 and 100,000 requests (with the
decisions stored growing by as much), bulk intake at 10,000 and 100,000 placements. A figure that
holds its rate as the tables grow is flat; one that falls is bounded by something that scans."""

from __future__ import annotations

from typing import Any

import asyncpg

from common.devstack.layout import Layout
from tests.bench import decisions, intake_bulk

SIZES = (10_000, 100_000)


async def run(*, sizes: tuple[int, ...] = SIZES) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for size in sizes:
        decided = await decisions.run(requests=size, accounts=max(500, size // 20))
        rows.append(
            {
                "figure": "compliance decisions",
                "size": size,
                "per_s": decided["decisions_per_s"],
                "stored_after": await _stored_decisions(),
                "vs_smallest": None,
                "ratio_to_raw_copy": None,
            }
        )
    for size in sizes:
        bulk = await intake_bulk.run(accounts=size)
        rows.append(
            {
                "figure": "bulk intake",
                "size": size,
                "per_s": bulk["intake_per_s"],
                "stored_after": None,
                "vs_smallest": None,
                "ratio_to_raw_copy": bulk["ratio_to_raw_copy"],
            }
        )
    for figure in ("compliance decisions", "bulk intake"):
        mine = [r for r in rows if r["figure"] == figure]
        for r in mine:
            r["vs_smallest"] = round(r["per_s"] / mine[0]["per_s"], 2)
    return rows


async def _stored_decisions() -> int:
    conn = await asyncpg.connect(Layout().superuser_dsn())
    try:
        return int(await conn.fetchval("SELECT count(*) FROM compliance.decisions"))
    finally:
        await conn.close()
