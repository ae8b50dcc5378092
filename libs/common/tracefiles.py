"""Trace files: the JSON lines the services' span exporter writes (`common.traceexport`), one span per
line with OTLP's field names (ids in lowercase hex, times in Unix nanoseconds, attributes as one flat
object), and reading one trace back out of a directory of them (`collectctl trace`, the end-to-end
test). Reading needs no OpenTelemetry package.

A line looks like:

    {"traceId": "4bf9…", "spanId": "00f0…", "parentSpanId": "a3ce…", "parentIsRemote": false,
     "name": "consume account.placed", "kind": "consumer", "service": "reminders",
     "startTimeUnixNano": 1767225600000000000, "endTimeUnixNano": …, "durationMs": 3.2,
     "attributes": {"messaging.destination.name": "intake.v1", …}, "status": {"code": "unset"},
     "events": [], "links": [], "scope": "collections"}
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import orjson

SUFFIX = ".jsonl"


def trace_files(directory: Path) -> list[Path]:
    """Every span file in `directory`, rotated generations included."""
    return sorted(p for p in Path(directory).glob(f"*{SUFFIX}*") if p.is_file())


def read_spans(paths: Iterable[Path], trace_id: str | None = None) -> Iterator[dict[str, Any]]:
    """The spans in `paths` (only those of `trace_id`, when given). A line cut short by a writer that
    is still writing is passed over."""
    needle = trace_id.lower().encode() if trace_id else None
    for path in paths:
        try:
            raw = path.read_bytes()
        except OSError:
            continue
        for line in raw.splitlines():
            if needle is not None and needle not in line:
                continue  # most lines: no parse
            try:
                span = orjson.loads(line)
            except orjson.JSONDecodeError:
                continue
            if needle is None or span.get("traceId") == trace_id:
                yield span


def read_trace(directory: Path, trace_id: str) -> list[dict[str, Any]]:
    """Every span of one trace in `directory`, oldest first."""
    spans = list(read_spans(trace_files(directory), trace_id.lower()))
    return sorted(spans, key=lambda s: (s["startTimeUnixNano"], s["endTimeUnixNano"]))


def tree(spans: Sequence[dict[str, Any]]) -> list[tuple[int, dict[str, Any]]]:
    """The spans of one trace in display order, each with its depth: children under their parent by
    start time; a span whose parent is not among them (the caller's, or one not exported) is a root."""
    ids = {s["spanId"] for s in spans}
    children: dict[str | None, list[dict[str, Any]]] = {}
    for span in spans:
        parent = span.get("parentSpanId")
        children.setdefault(parent if parent in ids else None, []).append(span)
    out: list[tuple[int, dict[str, Any]]] = []

    def walk(parent: str | None, depth: int) -> None:
        for span in sorted(children.get(parent, []), key=lambda s: s["startTimeUnixNano"]):
            out.append((depth, span))
            walk(span["spanId"], depth + 1)

    walk(None, 0)
    return out
