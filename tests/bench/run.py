"""`make bench`: run the benchmarks against the running stack and write the report.

python -m tests.bench.run [--accounts N]
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
from tests.bench import intake_bulk


def _report(results: dict[str, Any]) -> str:
    bulk = results["intake_bulk"]
    lines = [
        "# Benchmark report",
        "",
        f"- when: {results['when']}",
        f"- machine: {results['machine']}",
        "",
        "## Bulk intake (SPEC 9: >= 20,000 placed accounts/s into Postgres and the outbox)",
        "",
        "| accounts | batch | clients | intake s | accounts/s | raw COPY s | raw COPY rows/s | ratio | target |",
        "|---|---|---|---|---|---|---|---|---|",
        f"| {bulk['accounts']} | {bulk['batch']} | {bulk['concurrency']} | {bulk['intake_s']} | "
        f"{bulk['intake_per_s']} | {bulk['raw_copy_s']} | {bulk['raw_copy_per_s']} | {bulk['ratio_to_raw_copy']} | "
        f"{bulk['target_per_s']} |",
        "",
    ]
    return "\n".join(lines)


async def main(args: argparse.Namespace) -> None:
    layout = Layout()
    results: dict[str, Any] = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
    }
    results["intake_bulk"] = await intake_bulk.run(accounts=args.accounts, concurrency=args.concurrency)
    out = layout.devstack / "bench"
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.json").write_text(json.dumps(results, indent=2))
    report = _report(results)
    (out / "report.md").write_text(report)
    print(report)
    print(f"written to {out / 'report.md'}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--concurrency", type=int, default=2)
    asyncio.run(main(parser.parse_args()))
