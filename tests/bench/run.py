"""`make bench`: the benchmarks of SPEC section 9 against the running stack, written to a report.

    python -m tests.bench.run [--only idle,visits,lint,traces,decisions,scale_out,pipeline,payment_stop,intake_bulk,growth] [--accounts N] ...

Sizes default to what finishes in minutes on the 2-core machine; the report states each size. The
report goes to bench/REPORT.md (checked in: the figures the README quotes) unless --out says where,
with the machine and versions it was measured on. Every throughput is also given as a ratio to a
ceiling measured in the same run, because the machine is shared and its absolute speed varies.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg

from common.devstack.layout import KAFKA_VERSION, Layout
from tests.bench import (
    ceilings,
    decisions,
    growth,
    idle,
    intake_bulk,
    lint,
    payment_stop,
    pipeline,
    trace_overhead,
    visits_plan,
)

# Idle first (nothing in flight yet); bulk intake and growth last: their placements flood the others
# for minutes.
ALL = (
    "idle",
    "visits",
    "lint",
    "traces",
    "decisions",
    "scale_out",
    "pipeline",
    "payment_stop",
    "intake_bulk",
    "growth",
)
# Benchmarks run in this process on plain values: they need no stack.
STANDALONE = {"visits", "lint", "traces"}
PACKAGES = ("fastapi", "sqlalchemy", "asyncpg", "aiokafka", "pydantic", "uvicorn", "orjson")
# The figures compared with the minimal consume loop measured in the same run.
AGAINST_LOOP = {"decisions": "decisions_per_s", "pipeline": "decided_per_s"}


def _table(title: str, result: dict[str, Any] | list[dict[str, Any]]) -> list[str]:
    rows = result if isinstance(result, list) else [result]
    keys = list(rows[0])
    return [
        f"## {title}",
        "",
        "| " + " | ".join(keys) + " |",
        "|" + "---|" * len(keys),
        *("| " + " | ".join(str(row.get(k, "")) for k in keys) + " |" for row in rows),
        "",
    ]


TITLES = {
    "idle": "Idle: CPU share of one core and resident memory per service, nothing posted (target <= 2%, <= 150 MB)",
    "ceiling": "Ceiling: the minimal consume, one transaction (inbox, result, outbox), commit loop",
    "intake_bulk": "Bulk intake: NDJSON placements into PostgreSQL and the outbox, next to raw COPY (target 20,000/s)",
    "decisions": "Compliance decisions through Kafka with the ledger and audit in PostgreSQL (target 10,000/s)",
    "growth": "Growth: each figure at 10,000 and 100,000 (vs_smallest 1.0 is flat)",
    "scale_out": "Compliance decisions with one process, then two sharing the consumer groups (gain: what the second adds)",
    "pipeline": "Placements to decided first-reminder permits (target 100,000 in 60 s)",
    "payment_stop": "payment.received to every pending job cancelled, under background placements (target p99 500 ms)",
    "visits": "Day plans for field crews against the nearest-neighbour baseline, in process "
    "(target 1,000 visits / 50 crews in <= 10 s, distance <= 0.8 of greedy, no more dropped)",
    "lint": "Template lint against its labelled corpus, in process (target precision and recall >= 0.95 "
    "overall, >= 0.9 per category, < 1 ms per template)",
    "traces": "What tracing costs a consumed event, in process: CPU with every span kept and exported "
    "to a JSON lines file, against tracing off (no target; compare with a decision's cost above)",
}


async def main(args: argparse.Namespace) -> None:
    layout = Layout()
    chosen = [c for c in args.only.split(",") if c] or list(ALL)
    results: dict[str, Any] = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, {_memory_gib()} GiB",
        "versions": await _versions(layout, stack=not set(chosen) <= STANDALONE),
    }
    if any(name in AGAINST_LOOP for name in chosen):
        print("running the consume-loop ceilings ...", flush=True)
        results["ceiling"] = await ceilings.consume_loop(events=args.ceiling_events, mode="copy")
        results["ceiling_insert"] = await ceilings.consume_loop(events=args.ceiling_events, mode="insert")
        print(json.dumps(results["ceiling"]), json.dumps(results["ceiling_insert"]), flush=True)
    for name in chosen:
        print(f"running {name} ...", flush=True)
        if name == "idle":
            results[name] = await idle.run(window_s=args.idle_window)
        elif name == "intake_bulk":
            results[name] = await intake_bulk.run(accounts=args.accounts, concurrency=args.concurrency)
        elif name == "decisions":
            results[name] = await decisions.run(requests=args.decisions)
        elif name == "growth":
            results[name] = await growth.run()
        elif name == "scale_out":
            results[name] = await decisions.scale_out(requests=args.decisions)
        elif name == "pipeline":
            results[name] = await pipeline.run(accounts=args.pipeline_accounts)
        elif name == "payment_stop":
            results[name] = await payment_stop.run(payments=args.payments, background_per_s=args.background)
        elif name == "visits":
            results[name] = visits_plan.run(time_limit_s=args.visits_time_limit, regions=args.visits_regions)
        elif name == "lint":
            results[name] = lint.run()
        elif name == "traces":
            results[name] = trace_overhead.run()
        if name in AGAINST_LOOP:
            figure = results[name][AGAINST_LOOP[name]]
            results[name]["ratio_to_copy_loop"] = round(figure / results["ceiling"]["per_s"], 3)
            results[name]["ratio_to_insert_loop"] = round(figure / results["ceiling_insert"]["per_s"], 3)
        print(json.dumps(results[name]), flush=True)
    lines = [
        "# Benchmark report",
        "",
        "Written by `make bench` (`python -m tests.bench.run`) against the running dev stack.",
        "",
        f"- when: {results['when']}",
        f"- machine: {results['machine']}",
        f"- versions: {results['versions']}",
        f"- command: `python -m tests.bench.run {args.command_line}`",
        "",
    ]
    if "ceiling" in results:
        lines += _table(TITLES["ceiling"] + " (COPY)", results["ceiling"])
        lines += _table(TITLES["ceiling"] + " (prepared multi-row INSERT)", results["ceiling_insert"])
    for name in chosen:
        lines += _table(TITLES[name], results[name])
    lines += _suite_figures(layout)
    out = Path(args.out) if args.out else layout.root / "bench" / "REPORT.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".json").write_text(json.dumps(results, indent=2) + "\n")
    out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    print(f"written to {out}")


def _suite_figures(layout: Layout) -> list[str]:
    """What the security and fault suites tried in the last test run on this stack, if any."""
    path = layout.devstack / "suite-figures.json"
    if not path.exists():
        return []
    kept = json.loads(path.read_text())
    verdict = "passed" if kept["passed"] else "had failures"
    return [
        f"## Security and fault suites (the last `make test` on this stack, {kept['when']}, {verdict})",
        "",
        *(f"- {line}" for line in kept["figures"]),
        "",
    ]


def _memory_gib() -> int:
    with open("/proc/meminfo") as meminfo:
        kib = int(meminfo.readline().split()[1])
    return round(kib / 2**20)


async def _versions(layout: Layout, *, stack: bool) -> str:
    from importlib.metadata import version

    packages = ", ".join(f"{p} {version(p)}" for p in PACKAGES)
    if not stack:
        return f"Python {platform.python_version()}, {packages}"
    conn = await asyncpg.connect(layout.superuser_dsn())
    try:
        postgres = str(await conn.fetchval("SHOW server_version")).split()[0]
    finally:
        await conn.close()
    return f"Python {platform.python_version()}, PostgreSQL {postgres}, Kafka {KAFKA_VERSION}, {packages}"


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--only", default="")
    parser.add_argument("--out", default="", help="report path (default bench/REPORT.md)")
    parser.add_argument("--idle-window", type=float, default=60.0)
    parser.add_argument("--accounts", type=int, default=20_000, help="bulk intake size")
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--decisions", type=int, default=5_000)
    parser.add_argument("--ceiling-events", type=int, default=20_000)
    parser.add_argument("--pipeline-accounts", type=int, default=5_000)
    parser.add_argument("--payments", type=int, default=30)
    parser.add_argument(
        "--background", type=int, default=25, help="placements per second during payment stop"
    )
    parser.add_argument("--visits-time-limit", type=float, default=5.0, help="solver budget per region")
    parser.add_argument("--visits-regions", type=int, default=10, help="regions of 1,000 visits / 50 crews")
    parsed = parser.parse_args()
    parsed.command_line = " ".join(sys.argv[1:])
    asyncio.run(main(parsed))
