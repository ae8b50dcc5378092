"""The services' span file writer: each finished span as one JSON line (the format `common.tracefiles`
describes and reads) in `<directory>/<service>.jsonl`."""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import orjson
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult
from opentelemetry.trace import SpanKind, StatusCode

from common.tracefiles import SUFFIX

# Past this size a service's file is renamed to <service>.jsonl.1 (the one before is dropped).
MAX_FILE_BYTES = 64 * 1024 * 1024


def span_record(span: ReadableSpan) -> dict[str, Any]:
    """One finished span as the line the exporter writes."""
    context, parent = span.context, span.parent
    start, end = span.start_time or 0, span.end_time or 0
    status = span.status
    record: dict[str, Any] = {
        "traceId": f"{context.trace_id:032x}" if context else None,
        "spanId": f"{context.span_id:016x}" if context else None,
        "parentSpanId": f"{parent.span_id:016x}" if parent else None,
        "parentIsRemote": parent.is_remote if parent else None,
        "name": span.name,
        "kind": _KINDS[span.kind],
        "service": span.resource.attributes.get("service.name"),
        "startTimeUnixNano": start,
        "endTimeUnixNano": end,
        "durationMs": round((end - start) / 1e6, 3),
        "attributes": dict(span.attributes) if span.attributes else {},
        "status": {"code": _STATUS[status.status_code], "message": status.description}
        if status.description
        else {"code": _STATUS[status.status_code]},
        "events": [
            {"name": e.name, "timeUnixNano": e.timestamp, "attributes": dict(e.attributes or {})}
            for e in span.events
        ]
        if span.events
        else [],
        "links": [
            {
                "traceId": f"{link.context.trace_id:032x}",
                "spanId": f"{link.context.span_id:016x}",
                "attributes": dict(link.attributes or {}),
            }
            for link in span.links
        ]
        if span.links
        else [],
        "scope": span.instrumentation_scope.name if span.instrumentation_scope else None,
    }
    return record


_KINDS = {kind: kind.name.lower() for kind in SpanKind}
_STATUS = {code: code.name.lower() for code in StatusCode}


class JsonLinesSpanExporter(SpanExporter):
    """Appends each batch of spans to `<directory>/<service>.jsonl` in one write. The batch processor
    calls it from its own thread, never the event loop; replicas of a service append to the same
    file (O_APPEND, a batch per write), and the file is opened per batch so a rename rotates it."""

    def __init__(self, directory: Path, service: str, *, max_bytes: int = MAX_FILE_BYTES) -> None:
        self.path = Path(directory) / f"{service}{SUFFIX}"
        self._max_bytes = max_bytes
        self._lock = threading.Lock()
        self._stopped = False

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        if self._stopped:
            return SpanExportResult.FAILURE
        lines = b"".join(orjson.dumps(span_record(s), default=str) + b"\n" for s in spans)
        try:
            with self._lock:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self._rotate_if_full()
                fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
                try:
                    os.write(fd, lines)
                finally:
                    os.close(fd)
        except OSError:
            return SpanExportResult.FAILURE
        return SpanExportResult.SUCCESS

    def _rotate_if_full(self) -> None:
        try:
            if self.path.stat().st_size < self._max_bytes:
                return
        except FileNotFoundError:
            return
        os.replace(self.path, self.path.with_name(self.path.name + ".1"))

    def shutdown(self) -> None:
        self._stopped = True

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        return True
