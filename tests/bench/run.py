"""`make bench`: the benchmarks of SPEC section 9 against the running stack, written to a report.

    python -m tests.bench.run [--only intake_bulk,decisions,pipeline,payment_stop] [--accounts N] ...

Sizes default to what finishes in minutes on the 2-core machine; the report states each size.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
from datetime import UTC, datetime
from typing import Any

from common.devstack.layout import Layout
from tests.bench import ceilings, decisions, intake_bulk, payment_stop, pipeline

# Bulk intake last: its 100,000 placements flood the other services for minutes afterwards.
ALL = ("decisions", "pipeline", "payment_stop", "intake_bulk")
# The figures compared with the minimal consume loop measured in the same run.
AGAINST_LOOP = {"decisions": "decisions_per_s", "pipeline": "decided_per_s"}


def _table(title: str, result: dict[str, Any]) -> list[str]:
    keys = list(result)
    return [
        f"## {title}",
        "",
        "| " + " | ".join(keys) + " |",
        "|" + "---|" * len(keys),
        "| " + " | ".join(str(result[k]) for k in keys) + " |",
        "",
    ]


TITLES = {
    "ceiling": "Ceiling: the minimal consume, one transaction (inbox, result, outbox), commit loop",
    "intake_bulk": "Bulk intake: NDJSON placements into PostgreSQL and the outbox, next to raw COPY (target 20,000/s)",
    "decisions": "Compliance decisions through Kafka with the ledger and audit in PostgreSQL (target 10,000/s)",
    "pipeline": "Placements to decided first-reminder permits (target 100,000 in 60 s)",
    "payment_stop": "payment.received to every pending job cancelled, under background placements (target p99 500 ms)",
}


async def main(args: argparse.Namespace) -> None:
    layout = Layout()
    chosen = [c for c in args.only.split(",") if c] or list(ALL)
    results: dict[str, Any] = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
    }
    if any(name in AGAINST_LOOP for name in chosen):
        print("running the consume-loop ceilings ...", flush=True)
        results["ceiling"] = await ceilings.consume_loop(events=args.ceiling_events, mode="copy")
        results["ceiling_insert"] = await ceilings.consume_loop(events=args.ceiling_events, mode="insert")
        print(json.dumps(results["ceiling"]), json.dumps(results["ceiling_insert"]), flush=True)
    for name in chosen:
        print(f"running {name} ...", flush=True)
        if name == "intake_bulk":
            results[name] = await intake_bulk.run(accounts=args.accounts, concurrency=args.concurrency)
        elif name == "decisions":
            results[name] = await decisions.run(requests=args.decisions)
        elif name == "pipeline":
            results[name] = await pipeline.run(accounts=args.pipeline_accounts)
        elif name == "payment_stop":
            results[name] = await payment_stop.run(payments=args.payments, background_per_s=args.background)
        if name in AGAINST_LOOP:
            figure = results[name][AGAINST_LOOP[name]]
            results[name]["ratio_to_copy_loop"] = round(figure / results["ceiling"]["per_s"], 3)
            results[name]["ratio_to_insert_loop"] = round(figure / results["ceiling_insert"]["per_s"], 3)
        print(json.dumps(results[name]), flush=True)
    lines = ["# Benchmark report", "", f"- when: {results['when']}", f"- machine: {results['machine']}", ""]
    if "ceiling" in results:
        lines += _table(TITLES["ceiling"], results["ceiling"])
        lines += _table(TITLES["ceiling"], results["ceiling_insert"])
    for name in chosen:
        lines += _table(TITLES[name], results[name])
    out = layout.devstack / "bench"
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.json").write_text(json.dumps(results, indent=2))
    (out / "report.md").write_text("\n".join(lines))
    print("\n".join(lines))
    print(f"written to {out / 'report.md'}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--only", default="")
    parser.add_argument("--accounts", type=int, default=100_000, help="bulk intake size")
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--decisions", type=int, default=5_000)
    parser.add_argument("--ceiling-events", type=int, default=20_000)
    parser.add_argument("--pipeline-accounts", type=int, default=5_000)
    parser.add_argument("--payments", type=int, default=30)
    parser.add_argument(
        "--background", type=int, default=25, help="placements per second during payment stop"
    )
    asyncio.run(main(parser.parse_args()))
