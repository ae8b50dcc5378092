"""`collectctl trace <trace_id>`: one trace out of the services' span files, as a tree: when each
span started (from the first), how long it took, which service, what it was, and failures."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import orjson
import typer

from common import tracefiles
from common.devstack.layout import Layout

_TRACE_ID = re.compile(r"[0-9a-f]{32}")
# What a line shows beside the span's name, when the span has it.
_SHOWN = {
    "http.response.status_code": "status",
    "messaging.destination.name": "topic",
    "messaging.destination.partition.id": "partition",
    "messaging.kafka.offset": "offset",
    "collections.outcome": "outcome",
    "reminders.provider": "provider",
    "reminders.job_id": "job",
}


def render(spans: list[dict[str, Any]]) -> list[str]:
    """The lines `collectctl trace` prints for the spans of one trace."""
    if not spans:
        return []
    first = min(s["startTimeUnixNano"] for s in spans)
    last = max(s["endTimeUnixNano"] for s in spans)
    services = sorted({s.get("service") or "?" for s in spans})
    lines = [
        f"trace {spans[0]['traceId']}: {len(spans)} spans in {len(services)} services "
        f"({', '.join(services)}), {(last - first) / 1e9:.3f} s"
    ]
    for depth, span in tracefiles.tree(spans):
        offset_ms = (span["startTimeUnixNano"] - first) / 1e6
        attributes = span.get("attributes", {})
        shown = " ".join(f"{label}={attributes[k]}" for k, label in _SHOWN.items() if k in attributes)
        status = span.get("status", {})
        failed = f"  FAILED {status.get('message', '')}" if status.get("code") == "error" else ""
        lines.append(
            f"{offset_ms:>10.1f} ms {span['durationMs']:>9.1f} ms  {span.get('service') or '?':<11} "
            f"{'  ' * depth}{span['name']}  {shown}{failed}".rstrip()
        )
    return lines


def show_trace(
    trace_id: str = typer.Argument(..., help="32 hex digits, e.g. from a log line's trace_id"),
    directory: Path = typer.Option(None, "--dir", help="the span files (default: the dev stack's)"),
    as_json: bool = typer.Option(False, "--json", help="the spans as JSON lines, oldest first"),
) -> None:
    """Print one trace from the services' span files (.devstack/traces/*.jsonl)."""
    trace_id = trace_id.strip().lower()
    if not _TRACE_ID.fullmatch(trace_id):
        typer.echo("a trace id is 32 hexadecimal digits", err=True)
        raise typer.Exit(2)
    where = directory or Layout().traces
    spans = tracefiles.read_trace(where, trace_id)
    if not spans:
        typer.echo(f"no span of trace {trace_id} in {where}", err=True)
        raise typer.Exit(1)
    if as_json:
        for span in spans:
            typer.echo(orjson.dumps(span).decode())
        return
    for line in render(spans):
        typer.echo(line)
