"""What tracing costs a consumed event, in CPU, in process (no stack):

    python -m tests.bench.trace_overhead [--events 20000] [--ratio 1.0]

Drives the spans exactly as the kit makes them for a consumer run (a consume span per event, the
run's groups made current, what the handler continues looked up, each event's outcome), plus the
SQL statement spans of the run and one publish span per event (the relay sending what the handler
wrote), and exports them all to a JSON lines file. The process CPU (every thread: the exporter's
too) is compared with the same calls with tracing off, which only bind the logs as before.

Two shapes: a batch handler's run of 100 events sharing 8 statements (compliance deciding permit
requests), and one-event handlers with 4 statements each (a hold, a payment).
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from opentelemetry import trace
from opentelemetry.trace import SpanKind

from common.logging import new_traceparent
from common.traceexport import JsonLinesSpanExporter
from common.tracing import OFF, Tracing, make_provider, traceparent_for, traceparent_of


@dataclass(frozen=True)
class Envelope:
    id: uuid.UUID
    type: str
    source: str
    tenant: str
    subject: str | None
    traceparent: str | None


@dataclass(frozen=True)
class Event:
    envelope: Envelope


@dataclass(frozen=True)
class Record:
    topic: str
    partition: int
    offset: int


STATEMENT = "SELECT compliance.accounts.account_id, compliance.accounts.tenant FROM compliance.accounts WHERE"


def make_events(n: int, rng: random.Random, ratio: float) -> list[tuple[Record, Event]]:
    """Events from traces whose root kept them with probability `ratio` (the flag they carry)."""
    items = []
    for i in range(n):
        traceparent = new_traceparent()
        if rng.random() >= ratio:
            traceparent = traceparent[:-2] + "00"
        envelope = Envelope(
            uuid.uuid4(), "permit.requested", "reminders", "t", str(uuid.uuid4()), traceparent
        )
        items.append((Record("reminders.v1", i % 12, i), Event(envelope)))
    return items


def one_run(tracing: Tracing, items: list[tuple[Record, Event]], *, batch: bool, statements: int) -> None:
    groups = [items] if batch else [[item] for item in items]
    run = tracing.consuming(groups, consumer="compliance.reminders.v1")
    tracer = tracing.tracer
    with run.current():
        for group in groups:
            with run.group([e for _, e in group]):
                for _, event in group:
                    traceparent_of(event)
                    traceparent_for(event.envelope.subject)
                # what trace_statements does per statement: a span only under a recording one
                if tracer is not None and trace.get_current_span().is_recording():
                    for _ in range(statements):
                        tracer.start_span(
                            "SELECT",
                            kind=SpanKind.CLIENT,
                            attributes={
                                "db.system.name": "postgresql",
                                "db.namespace": "c",
                                "db.query.text": STATEMENT,
                            },
                        ).end()
    run.finish(["applied"] * len(items))
    for _, event in items:  # the relay publishing what the handler wrote about each event
        headers = {
            "ce_id": str(event.envelope.id),
            "ce_type": "permit.decided",
            "traceparent": event.envelope.traceparent or "",
        }
        span, _ = tracing.start_publish(headers, topic="compliance.v1", partition=0)
        if span is not None:
            span.end()


def measure(tracing: Tracing, events: int, *, batch: bool, statements: int, ratio: float) -> float:
    """CPU microseconds per event (all threads), exports included. A flush every 1,000 events keeps
    the export queue from overflowing (it drops spans when full), as the exporter's own pace does at
    the stack's rates."""
    size = 100 if batch else 1
    rng = random.Random(7)
    runs = [make_events(size, rng, ratio) for _ in range(events // size)]
    every = max(1, 1_000 // size)
    start = time.process_time()
    for n, items in enumerate(runs, 1):
        one_run(tracing, items, batch=batch, statements=statements)
        if n % every == 0:
            tracing.flush(60)
    tracing.flush(60)
    return (time.process_time() - start) / (len(runs) * size) * 1e6


def run(*, events: int = 20_000, ratio: float = 1.0) -> list[dict[str, Any]]:
    rows = []
    shapes = (("batch of 100, 8 statements", True, 8), ("one-event runs, 4 statements", False, 4))
    for shape, batch, statements in shapes:
        with tempfile.TemporaryDirectory() as directory:
            exporter = JsonLinesSpanExporter(Path(directory), "bench")
            tracing = Tracing("bench", make_provider("bench", exporters=[exporter]))
            off = measure(OFF, events, batch=batch, statements=statements, ratio=ratio)
            on = measure(tracing, events, batch=batch, statements=statements, ratio=ratio)
            tracing.shutdown()
            exported = exporter.path.read_bytes().count(b"\n") if exporter.path.exists() else 0
        rows.append(
            {
                "shape": shape,
                "sample_ratio": ratio,
                "spans_per_kept_event": round(2 + (statements / 100 if batch else statements), 2),
                "spans_exported": exported,
                "off_us_per_event": round(off, 1),
                "on_us_per_event": round(on, 1),
                "overhead_us_per_event": round(on - off, 1),
            }
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.trace_overhead", description=__doc__)
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--ratio", type=float, default=1.0)
    args = parser.parse_args()
    for row in run(events=args.events, ratio=args.ratio):
        print(row)


if __name__ == "__main__":
    main()
