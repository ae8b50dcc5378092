"""Idle cost: each service's CPU (as a share of one core) and resident memory while nothing is posted,
with however many open accounts the stack holds, read from /proc over a quiet window."""

from __future__ import annotations

import asyncio
import os
import time
from typing import Any

import asyncpg

from common.devstack.layout import SERVICES, Layout
from common.devstack.processes import read_pid

TICKS = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


def _cpu_ticks(pid: int) -> int:
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()  # noqa: SIM115
    return int(fields[11]) + int(fields[12])  # utime + stime


def _rss_mb(pid: int) -> float:
    pages = int(open(f"/proc/{pid}/statm").read().split()[1])  # noqa: SIM115
    return pages * PAGE / 2**20


async def run(*, settle_s: float = 30, window_s: float = 60) -> dict[str, Any]:
    layout = Layout()
    conn = await asyncpg.connect(layout.superuser_dsn())
    try:
        open_accounts = int(
            await conn.fetchval("SELECT count(*) FROM reminders.accounts WHERE status = 'open'")
        )
    finally:
        await conn.close()
    pids = {s: read_pid(layout.run / f"{s}.pid") for s in SERVICES}
    await asyncio.sleep(settle_s)  # what an earlier benchmark left in flight drains first
    before = {s: _cpu_ticks(p) for s, p in pids.items() if p}
    start = time.monotonic()
    await asyncio.sleep(window_s)
    elapsed = time.monotonic() - start
    result: dict[str, Any] = {"open_accounts": open_accounts, "window_s": window_s}
    for service, pid in pids.items():
        if not pid:
            continue
        used = (_cpu_ticks(pid) - before[service]) / TICKS
        result[f"{service}_cpu_pct"] = round(100 * used / elapsed, 2)
        result[f"{service}_rss_mb"] = round(_rss_mb(pid))
    result["target"] = "each service <= 2% of a core, <= 150 MB"
    return result
