"""Traces (OpenTelemetry): one lender event is one trace through every service it reaches.

Each service makes one `Tracing` in its lifespan (`Tracing.from_settings`): spans go as JSON lines
into `traces_dir` (the dev stack's `.devstack/traces/<service>.jsonl`, see `common.tracefiles`),
over OTLP/HTTP to `otlp_endpoint` (compose: Jaeger), both, or nowhere (`Tracing.off()`, the default,
which unit tests get). Off, the same calls only bind trace ids to the logs, as before traces.

The spans: a server span per HTTP request (continuing the caller's `traceparent`), a consume span
per event applied (a child of the `traceparent` it came with), a publish span per outbox row the
relay sends (its context is the record's `traceparent`, so readers are its children), a span per SQL
statement inside any of those, and what services add (reminders' dispatch, send and provider calls).
The traceparent written into an outbox row is the current span's (`current_traceparent`), or, in a
batch handler, that of the consumed event about the same subject (`traceparent_for`,
`traceparent_of`), so every event of a run continues its own trace.
"""

from __future__ import annotations

import random
import time
import uuid
import weakref
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import structlog
from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import (
    INVALID_SPAN,
    Link,
    NonRecordingSpan,
    Span,
    SpanContext,
    SpanKind,
    Status,
    StatusCode,
    TraceFlags,
)
from sqlalchemy import event as sa_event
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncEngine

from common.logging import (
    bind_trace,
    bind_traceparent,
    derived_traceparent,
    parse_traceparent,
    scrub_text,
    traceparent_bound,
)
from common.logging import current_traceparent as _bound_traceparent

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SpanExporter
    from opentelemetry.sdk.trace.sampling import Sampler

    from common.settings import BaseServiceSettings

log = structlog.get_logger(__name__)

SCOPE = "collections"
# Long statements (an IN list of 500 ids) are cut: the shape is what a reader needs.
MAX_ATTRIBUTE_LENGTH = 1024
# Enough for a relay pass of 500 rows and a consumer run of 500 events between two exports.
MAX_QUEUE = 16_384


class _Envelope(Protocol):
    @property
    def id(self) -> uuid.UUID: ...
    @property
    def type(self) -> str: ...
    @property
    def source(self) -> str: ...
    @property
    def tenant(self) -> str: ...
    @property
    def subject(self) -> str | None: ...
    @property
    def traceparent(self) -> str | None: ...


class _Event(Protocol):
    @property
    def envelope(self) -> _Envelope: ...


class _Record(Protocol):
    @property
    def topic(self) -> str: ...
    @property
    def partition(self) -> int: ...
    @property
    def offset(self) -> int: ...


def _start(tracer: trace.Tracer, name: str, context: otel_context.Context | None, **options: Any) -> Span:
    """tracer.start_span, without the SDK's cost for a child of an unsampled parent: parent-based
    sampling drops it anyway, so it only needs a span id of its own in the parent's trace."""
    parent = trace.get_current_span(context).get_span_context()
    if parent.is_valid and not parent.trace_flags.sampled:
        span_id = random.getrandbits(64) or 1  # an id, not a secret: the SDK makes its own so
        return NonRecordingSpan(SpanContext(parent.trace_id, span_id, is_remote=False))
    return tracer.start_span(name, context=context, **options)


def sampler(ratio: float) -> Sampler:
    """Parent-based: a trace is kept or dropped where it starts (always, by default), and every
    service follows that choice."""
    from opentelemetry.sdk.trace.sampling import ALWAYS_ON, ParentBased, TraceIdRatioBased

    return ParentBased(ALWAYS_ON if ratio >= 1.0 else TraceIdRatioBased(ratio))


def make_provider(
    service: str,
    *,
    version: str = "",
    exporters: Sequence[SpanExporter] = (),
    sample_ratio: float = 1.0,
    export_delay_ms: float = 1000,
) -> TracerProvider:
    """A provider for `service` that hands finished spans to each exporter in batches, off the
    event loop (the batch processor's own thread)."""
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import SpanLimits, TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    attributes = {"service.name": service, "service.namespace": "collections"}
    if version:
        attributes["service.version"] = version
    provider = TracerProvider(
        sampler=sampler(sample_ratio),
        resource=Resource.create(attributes),
        span_limits=SpanLimits(max_attribute_length=MAX_ATTRIBUTE_LENGTH),
        shutdown_on_exit=False,  # the lifespan shuts it down, flushing what is queued
    )
    for exporter in exporters:
        provider.add_span_processor(
            BatchSpanProcessor(exporter, max_queue_size=MAX_QUEUE, schedule_delay_millis=export_delay_ms)
        )
    return provider


def exporters_for(service: str, *, traces_dir: Path | None, otlp_endpoint: str | None) -> list[SpanExporter]:
    """The JSON lines file exporter when a directory is set, OTLP/HTTP when an endpoint is set."""
    chosen: list[SpanExporter] = []
    if traces_dir is not None:
        from common.traceexport import JsonLinesSpanExporter

        chosen.append(JsonLinesSpanExporter(traces_dir, service))
    if otlp_endpoint:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        endpoint = otlp_endpoint.rstrip("/")
        if not endpoint.endswith("/v1/traces"):
            endpoint += "/v1/traces"
        chosen.append(OTLPSpanExporter(endpoint=endpoint, timeout=10))
    return chosen


class Tracing:
    """One service's tracer, or none (off). The HTTP frame, the messaging kit and the services start
    their spans through it, so the code reads the same whether spans are exported or not."""

    def __init__(self, service: str, provider: TracerProvider | None = None) -> None:
        self.service = service
        self.provider = provider
        self.tracer = provider.get_tracer(SCOPE) if provider is not None else None

    @classmethod
    def off(cls, service: str = "off") -> Tracing:
        return cls(service)

    @classmethod
    def from_settings(cls, service: str, settings: BaseServiceSettings, *, version: str = "") -> Tracing:
        """What the settings ask for; off when they name no exporter, or when the OpenTelemetry SDK
        is not installed (a venv synced to a lock without it): a service runs without traces rather
        than not at all."""
        if settings.traces_dir is None and not settings.otlp_endpoint:
            return cls.off(service)
        try:
            exporters = exporters_for(
                service, traces_dir=settings.traces_dir, otlp_endpoint=settings.otlp_endpoint
            )
        except ImportError as exc:
            log.warning("traces are off: the OpenTelemetry SDK is not installed", error=str(exc))
            return cls.off(service)
        provider = make_provider(
            service,
            version=version,
            exporters=exporters,
            sample_ratio=settings.trace_sample_ratio,
            export_delay_ms=settings.trace_export_delay_ms,
        )
        return cls(service, provider)

    @property
    def enabled(self) -> bool:
        return self.tracer is not None

    def flush(self, timeout_s: float = 10.0) -> bool:
        return self.provider.force_flush(int(timeout_s * 1000)) if self.provider is not None else True

    def shutdown(self) -> None:
        """Export what is queued and stop (blocking: call it off the event loop)."""
        if self.provider is not None:
            self.provider.shutdown()

    # --- spans ------------------------------------------------------------------------------------

    @contextmanager
    def server(self, method: str, traceparent: str | None) -> Iterator[Span]:
        """One HTTP request's span, continuing the caller's trace (or starting one), current for the
        request and bound to its log lines. Not scoped: the frame clears the logs' context per request."""
        if self.tracer is None:
            bind_trace(traceparent)
            yield INVALID_SPAN
            return
        span = _start(
            self.tracer,
            method,
            remote_context(traceparent),
            kind=SpanKind.SERVER,
            attributes={"http.request.method": method},
        )
        token = otel_context.attach(trace.set_span_in_context(span))
        bind_traceparent(_traceparent(span.get_span_context()))
        try:
            yield span
        except BaseException as exc:
            failed(span, exc)
            raise
        finally:
            otel_context.detach(token)
            span.end()

    @contextmanager
    def continuing(
        self,
        traceparent: str | None,
        name: str,
        *,
        kind: SpanKind = SpanKind.INTERNAL,
        attributes: Mapping[str, Any] | None = None,
    ) -> Iterator[Span]:
        """A span of work picked up later (a due job) in the trace of the `traceparent` it kept, or a
        trace of its own when it kept none; current, and bound to the log lines, for the block."""
        if self.tracer is None:
            with traceparent_bound(derived_traceparent(traceparent)):
                yield INVALID_SPAN
            return
        span = _start(
            self.tracer,
            name,
            remote_context(traceparent) or otel_context.Context(),
            kind=kind,
            attributes=attributes,
        )
        with _current(span):
            yield span

    @contextmanager
    def span(
        self, name: str, *, kind: SpanKind = SpanKind.INTERNAL, attributes: Mapping[str, Any] | None = None
    ) -> Iterator[Span]:
        """A child of the current span, current for the block (the log lines keep the parent's ids)."""
        if self.tracer is None:
            yield INVALID_SPAN
            return
        span = _start(self.tracer, name, None, kind=kind, attributes=attributes)
        token = otel_context.attach(trace.set_span_in_context(span))
        try:
            yield span
        except BaseException as exc:
            failed(span, exc)
            raise
        finally:
            otel_context.detach(token)
            span.end()

    def start_publish(
        self, headers: Mapping[str, str], *, topic: str, partition: int
    ) -> tuple[Span | None, Mapping[str, str]]:
        """The relay's span for one outbox row (a child of the traceparent the row was written with)
        and the row's headers carrying it, so whoever consumes the record continues from here."""
        if self.tracer is None:
            return None, headers
        span = _start(
            self.tracer,
            f"publish {headers.get('ce_type', 'event')}",
            remote_context(headers.get("traceparent")),
            kind=SpanKind.PRODUCER,
            attributes={
                "messaging.destination.name": topic,
                "messaging.destination.partition.id": partition,
                "messaging.message.id": headers.get("ce_id", ""),
            },
        )
        return span, {**headers, "traceparent": _traceparent(span.get_span_context())}

    def consuming(self, groups: Sequence[Sequence[tuple[_Record, _Event]]], *, consumer: str) -> RunTrace:
        """The spans of one consumer run: one per event (a child of its traceparent), grouped as the
        run is applied (a batch handler's group shares its first event's span for its statements;
        the others link to it)."""
        return RunTrace(self, groups, consumer)


OFF = Tracing.off()


# --- the consumer's run -------------------------------------------------------------------------


@dataclass
class _Batch:
    """The traceparents of the events a batch handler is applying: what outbox rows continue."""

    by_event: dict[uuid.UUID, str | None] = field(default_factory=dict)
    by_subject: dict[str, str | None] = field(default_factory=dict)


_batch: ContextVar[_Batch | None] = ContextVar("trace_batch", default=None)


class RunTrace:
    """One consumer run's spans. `group()` makes a group's span current while it is applied; the
    run ends with `finish()` (each event's outcome) or `fail()`."""

    def __init__(
        self, tracing: Tracing, groups: Sequence[Sequence[tuple[_Record, _Event]]], consumer: str
    ) -> None:
        self._tracer = tracing.tracer
        self._spans: dict[int, Span] = {}
        self._order: list[int] = []
        self.log_ids: list[tuple[str | None, str | None]] = []  # per event, in run order
        if self._tracer is None:
            return
        now = time.time_ns()
        for group in groups:
            anchor: list[Link] = []
            for record, event in group:
                span = self._start(record, event, consumer, now, anchor, len(group))
                if not anchor and len(group) > 1 and span.is_recording():
                    anchor = [Link(span.get_span_context(), {"collections.link": "applied_with"})]
                self._spans[id(event)] = span
                self._order.append(id(event))
                ctx = span.get_span_context()
                self.log_ids.append((format(ctx.trace_id, "032x"), format(ctx.span_id, "016x")))

    def _start(
        self, record: _Record, event: _Event, consumer: str, now: int, links: list[Link], size: int
    ) -> Span:
        assert self._tracer is not None
        envelope = event.envelope
        # Few attributes: the SDK checks each one, the largest part of a span's cost. The group,
        # source and tenant are the span's service, its parent's and the trace's first span's.
        attributes: dict[str, Any] = {
            "messaging.destination.name": record.topic,
            "messaging.destination.partition.id": record.partition,
            "messaging.kafka.offset": record.offset,
            "messaging.message.id": str(envelope.id),
        }
        if envelope.subject:
            attributes["cloudevents.event_subject"] = envelope.subject
        if size > 1:
            attributes["messaging.batch.message_count"] = size
        return _start(
            self._tracer,
            f"consume {envelope.type}",
            remote_context(envelope.traceparent),
            kind=SpanKind.CONSUMER,
            attributes=attributes,
            links=links,
            start_time=now,
        )

    @contextmanager
    def group(self, events: Sequence[_Event]) -> Iterator[None]:
        """While one group (an event, or a batch handler's run of one type) is applied: its first
        event's span current and bound to the log lines, and a batch's traceparents at hand."""
        batch = None
        if len(events) > 1:
            batch = _Batch()
            for e in events:
                tp = self._traceparent_of(e)
                batch.by_event[e.envelope.id] = tp
                if e.envelope.subject:
                    batch.by_subject.setdefault(e.envelope.subject, tp)
        batch_token = _batch.set(batch)
        if self._tracer is None:
            bind_trace(events[0].envelope.traceparent)
            bound = _bound_traceparent()
            self.log_ids += [(bound[3:35], bound[36:52]) if bound else (None, None)] * len(events)
            try:
                yield
            finally:
                _batch.reset(batch_token)
            return
        span = self._spans[id(events[0])]
        token = otel_context.attach(trace.set_span_in_context(span))
        bind_traceparent(_traceparent(span.get_span_context()))
        try:
            yield
        finally:
            otel_context.detach(token)
            _batch.reset(batch_token)

    @contextmanager
    def current(self) -> Iterator[None]:
        """The run's first span current (the statements of the commit: inbox, outbox)."""
        if not self._order:
            yield
            return
        token = otel_context.attach(trace.set_span_in_context(self._spans[self._order[0]]))
        try:
            yield
        finally:
            otel_context.detach(token)

    def _traceparent_of(self, event: _Event) -> str | None:
        span = self._spans.get(id(event))
        return _traceparent(span.get_span_context()) if span is not None else event.envelope.traceparent

    def finish(self, outcomes: Sequence[str]) -> None:
        """End every span with its event's outcome (applied, duplicate)."""
        if self._tracer is None:
            return
        end = time.time_ns()
        for key, outcome in zip(self._order, outcomes, strict=True):
            span = self._spans[key]
            span.set_attribute("collections.outcome", outcome)
            span.end(end)

    def fail(self, exc: BaseException, *, outcome: str | None = None) -> None:
        """End every span: failed (the run is retried, event by event), or with a benign `outcome`."""
        end = time.time_ns()
        for key in self._order:
            span = self._spans[key]
            if outcome is None:
                failed(span, exc)
            else:
                span.set_attribute("collections.outcome", outcome)
            span.end(end)


# --- what continues the trace -------------------------------------------------------------------


def current_traceparent() -> str | None:
    """The current span's traceparent; off, the one bound to the logs (request or consumed event)."""
    context = trace.get_current_span().get_span_context()
    if context.is_valid:
        return _traceparent(context)
    return _bound_traceparent()


def traceparent_of(event: _Event) -> str | None:
    """The traceparent that continues `event`'s trace here: its consume span's when a batch handler
    is applying it, else the current span's."""
    batch = _batch.get()
    if batch is not None and event.envelope.id in batch.by_event:
        return batch.by_event[event.envelope.id]
    return current_traceparent()


def traceparent_for(subject: str | None) -> str | None:
    """The traceparent for something written about `subject` (an account): in a batch handler, that
    of the event about it being applied, else the current span's."""
    batch = _batch.get()
    if batch is not None and subject is not None and subject in batch.by_subject:
        return batch.by_subject[subject]
    return current_traceparent()


def inject(headers: dict[str, str]) -> dict[str, str]:
    """`headers` with the current span's traceparent, for an outgoing HTTP call."""
    traceparent = current_traceparent()
    if traceparent:
        headers["traceparent"] = traceparent
    return headers


def remote_context(traceparent: str | None) -> otel_context.Context | None:
    """A context whose span is the caller's (remote) one named by `traceparent`, if it is valid."""
    parsed = parse_traceparent(traceparent)
    if parsed is None:
        return None
    trace_id, span_id, flags = parsed
    parent = SpanContext(
        trace_id=int(trace_id, 16),
        span_id=int(span_id, 16),
        is_remote=True,
        trace_flags=TraceFlags(int(flags, 16) & 0x01),
    )
    return trace.set_span_in_context(NonRecordingSpan(parent), otel_context.Context())


def span_traceparent(span: Span) -> str | None:
    context = span.get_span_context()
    return _traceparent(context) if context.is_valid else None


def _traceparent(context: SpanContext) -> str:
    # The sampled flag only (the SDK also sets level 2's "random" bit, which version 00 readers
    # may not know).
    return f"00-{context.trace_id:032x}-{context.span_id:016x}-{int(context.trace_flags) & 0x01:02x}"


@contextmanager
def _current(span: Span) -> Iterator[None]:
    token = otel_context.attach(trace.set_span_in_context(span))
    try:
        with traceparent_bound(_traceparent(span.get_span_context())):
            yield
    except BaseException as exc:
        failed(span, exc)
        raise
    finally:
        otel_context.detach(token)
        span.end()


def failed(span: Span, exc: BaseException, *, detail: bool = True) -> None:
    """Mark `span` failed with the error's type and its message scrubbed of personal data (the
    SDK's own exception events would carry the raw message and traceback). Without `detail`, the
    type and SQLSTATE only: a database error quotes the values of the row it refused."""
    if not span.is_recording():
        return
    if detail:
        message = scrub_text(f"{type(exc).__name__}: {exc}")[:MAX_ATTRIBUTE_LENGTH]
    else:
        orig = getattr(exc, "orig", None) or exc.__cause__ or exc
        code = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
        message = f"{type(exc).__name__}" + (f" (SQLSTATE {code})" if code else "")
    span.set_status(Status(StatusCode.ERROR, message))
    span.add_event("exception", {"exception.type": type(exc).__name__, "exception.message": message})


# --- database statements ------------------------------------------------------------------------

_STATEMENT_TRACERS: weakref.WeakKeyDictionary[Engine, trace.Tracer] = weakref.WeakKeyDictionary()


def trace_statements(engine: AsyncEngine | Engine, tracing: Tracing) -> None:
    """A client span per SQL statement `engine` runs inside a traced span (statements outside any,
    such as the relays' and loops' idle polls, make none). The text is SQLAlchemy's, with
    placeholders: parameters, where personal data would be, are never recorded."""
    tracer = tracing.tracer
    if tracer is None:
        return
    sync = engine.sync_engine if isinstance(engine, AsyncEngine) else engine
    if sync in _STATEMENT_TRACERS:
        return
    _STATEMENT_TRACERS[sync] = tracer
    base = {"db.system.name": "postgresql", "db.namespace": sync.url.database or ""}

    def before(_conn: Any, _cursor: Any, statement: str, _params: Any, context: Any, _many: bool) -> None:
        if context is None or not trace.get_current_span().is_recording():
            return
        context._collections_span = tracer.start_span(
            _operation(statement),
            kind=SpanKind.CLIENT,
            attributes={**base, "db.query.text": statement},
        )

    def after(_conn: Any, _cursor: Any, _statement: str, _params: Any, context: Any, _many: bool) -> None:
        span = getattr(context, "_collections_span", None)
        if span is not None:
            context._collections_span = None
            span.end()

    def error(exception_context: Any) -> None:
        context = exception_context.execution_context
        span = getattr(context, "_collections_span", None)
        if span is not None:
            context._collections_span = None
            failed(span, exception_context.original_exception, detail=False)
            span.end()

    sa_event.listen(sync, "before_cursor_execute", before)
    sa_event.listen(sync, "after_cursor_execute", after)
    sa_event.listen(sync, "handle_error", error)


@contextmanager
def statement_span(engine: Engine, statement: str) -> Iterator[None]:
    """A span for a statement that bypasses SQLAlchemy's cursor (asyncpg's COPY)."""
    tracer = _STATEMENT_TRACERS.get(engine)
    if tracer is None or not trace.get_current_span().is_recording():
        yield
        return
    span = tracer.start_span(
        _operation(statement),
        kind=SpanKind.CLIENT,
        attributes={
            "db.system.name": "postgresql",
            "db.namespace": engine.url.database or "",
            "db.query.text": statement,
        },
    )
    try:
        yield
    except BaseException as exc:
        failed(span, exc, detail=False)
        raise
    finally:
        span.end()


def _operation(statement: str) -> str:
    head = statement.lstrip()[:16].split(None, 1)
    return head[0].upper() if head else "SQL"
