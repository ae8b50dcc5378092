"""The frame every service runs in: one process serves HTTP and runs its consumers and outbox relay.

A service describes itself with a `ServiceSpec`; `create_service_app` builds the FastAPI app whose
lifespan opens the database engine and Kafka producer, then starts the relay and consumers.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import structlog
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaConnectionError
from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.openapi.utils import get_openapi
from opentelemetry.trace import StatusCode
from prometheus_client import Histogram
from sqlalchemy import Table
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from common import asyncapi
from common.auth import TokenVerifier
from common.clock import Clock, ShiftableClock, SystemClock
from common.crypto import FieldCipher, Keyring
from common.db import make_engine, make_session_factory, ping
from common.faults import CrashPoints
from common.health import install_health
from common.limits import BodyLimit, request_limiter
from common.logging import bind_trace, configure_logging, current_traceparent
from common.messaging.consumer import ConsumerRunner, EventRouter
from common.messaging.outbox import outbox_channel
from common.messaging.producer import make_producer
from common.messaging.relay import OutboxRelay
from common.ops_api import clock_router, ops_router
from common.problems import document_problems, install_problem_handlers
from common.settings import BaseServiceSettings
from common.tracing import OFF, Tracing, trace_statements
from common.wakeup import Wakeups

log = structlog.get_logger(__name__)

# By route template, never the path: ids would make a series per account.
REQUEST_DURATION = Histogram(
    "http_request_duration_seconds",
    "HTTP requests by method, route template and status, and how long each took",
    ["method", "route", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)


@dataclass(frozen=True)
class ServiceSpec:
    """What makes a service itself: its name, tables, API routers, and the topics it consumes."""

    name: str
    version: str
    outbox: Table
    inbox: Table
    api: list[APIRouter] = field(default_factory=list)
    subscriptions: list[str] = field(default_factory=list)
    events: EventRouter = field(default_factory=EventRouter)
    # The priority lane: a second consumer group per topic that applies only these types (stop
    # events: payments, holds, disputes) ahead of a backlog, when their order allows it.
    priority: EventRouter = field(default_factory=EventRouter)
    priority_topics: list[str] = field(default_factory=list)
    description: str = ""


@dataclass
class Runtime:
    """Everything the lifespan opened; routes reach it as `request.app.state.runtime`."""

    settings: BaseServiceSettings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    producer: AIOKafkaProducer
    clock: Clock
    crash_points: CrashPoints
    cipher: FieldCipher
    wakeups: Wakeups
    tracing: Tracing = field(default_factory=lambda: OFF)
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    tasks: list[asyncio.Task[None]] = field(default_factory=list)


async def _start_producer(producer: AIOKafkaProducer, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            await producer.start()
            return
        except KafkaConnectionError:
            if time.monotonic() > deadline:
                raise
            log.warning("Kafka not reachable yet; retrying")
            await asyncio.sleep(1.0)


def _load_cipher(settings: BaseServiceSettings) -> FieldCipher:
    if settings.field_keys_file is None:
        raise RuntimeError(f"{settings.service_name}: field_keys_file is not set")
    return FieldCipher(Keyring.load(settings.field_keys_file))


def _load_verifier(settings: BaseServiceSettings) -> TokenVerifier:
    if settings.jwt_public_key_file is None:
        raise RuntimeError(f"{settings.service_name}: jwt_public_key_file is not set")
    return TokenVerifier(settings.jwt_public_key_file.read_bytes(), audience=settings.service_name)


def libpq_dsn(url: str) -> str:
    """The database URL without SQLAlchemy's driver name, as asyncpg takes it."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def make_clock(settings: BaseServiceSettings) -> Clock:
    """The system clock, or one an admin can move when the settings allow it (dev and test stacks)."""
    return ShiftableClock() if settings.clock_control else SystemClock()


def create_service_app(
    spec: ServiceSpec,
    settings: BaseServiceSettings,
    *,
    clock: Clock | None = None,
    on_startup: Callable[[FastAPI, Runtime], Awaitable[None]] | None = None,
) -> FastAPI:
    service_clock = clock or make_clock(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        configure_logging(spec.name, level=settings.log_level, json=settings.log_json)
        tracing = Tracing.from_settings(spec.name, settings, version=spec.version)
        engine = make_engine(
            settings.database_url, pool_size=settings.db_pool_size, application_name=spec.name
        )
        if settings.trace_sql:
            trace_statements(engine, tracing)
        producer = make_producer(settings.kafka_bootstrap, client_id=spec.name)
        runtime = Runtime(
            settings=settings,
            engine=engine,
            sessions=make_session_factory(engine),
            producer=producer,
            clock=service_clock,
            crash_points=CrashPoints(settings.fault_points),
            cipher=_load_cipher(settings),
            wakeups=Wakeups(libpq_dsn(settings.database_url)),
            tracing=tracing,
        )
        app.state.runtime = runtime
        app.state.tracing = tracing
        app.state.token_verifier = _load_verifier(settings)
        await _start_producer(producer, timeout_s=60)
        if settings.start_workers:
            _start_workers(spec, runtime)
        if on_startup is not None:
            await on_startup(app, runtime)
        if settings.start_workers:
            runtime.tasks.append(asyncio.create_task(runtime.wakeups.run(runtime.stop), name="wakeups"))
        log.info("service started", workers=settings.start_workers)
        try:
            yield
        finally:
            runtime.stop.set()
            if runtime.tasks:
                await asyncio.wait(runtime.tasks, timeout=15)
            for task in runtime.tasks:
                task.cancel()
            await producer.stop()
            await engine.dispose()
            await asyncio.to_thread(tracing.shutdown)  # the spans still queued are exported

    app = FastAPI(title=spec.name, version=spec.version, description=spec.description, lifespan=lifespan)
    install_problem_handlers(app)
    app.middleware("http")(_trace_middleware)
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    app.state.request_limiter = request_limiter(settings.requests_per_s, settings.request_burst)
    install_health(
        app,
        {
            "database": lambda: ping(app.state.runtime.engine),
            "kafka": lambda: _kafka_reachable(app.state.runtime.producer),
        },
    )
    app.include_router(ops_router(spec.outbox))
    if isinstance(service_clock, ShiftableClock):
        app.include_router(clock_router(service_clock))
    for router in spec.api:
        app.include_router(router)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    app.add_api_route("/asyncapi.json", _asyncapi, methods=["GET"], include_in_schema=False)
    return app


async def _asyncapi() -> Response:
    """The platform's events (every service serves the same document)."""
    return Response(asyncapi.rendered(), media_type="application/json")


def _openapi(app: FastAPI) -> dict[str, Any]:
    """FastAPI's document, with the problems every operation may answer."""
    if app.openapi_schema is None:
        schema = get_openapi(
            title=app.title, version=app.version, description=app.description, routes=app.routes
        )
        app.openapi_schema = document_problems(schema)
    return app.openapi_schema


def _start_workers(spec: ServiceSpec, runtime: Runtime) -> None:
    settings = runtime.settings
    relay = OutboxRelay(
        sessions=runtime.sessions,
        outbox=spec.outbox,
        producer=runtime.producer,
        batch_size=settings.relay_batch_size,
        idle_interval_s=settings.relay_idle_interval_s,
        crash_points=runtime.crash_points,
        wakeup=runtime.wakeups.event(outbox_channel(spec.outbox)),
        tracing=runtime.tracing,
    )
    runtime.tasks.append(asyncio.create_task(relay.run(runtime.stop), name=f"{spec.name}-relay"))
    if spec.subscriptions and spec.events.types:
        # One consumer group per topic, so a backlog on one topic never delays another's events
        # (a flood of permit requests must not hold back a lender's hold). They share one inbox.
        for topic in spec.subscriptions:
            consumer = ConsumerRunner(
                name=spec.name,
                group_id=f"{spec.name}.{topic}",
                topics=[topic],
                router=spec.events,
                sessions=runtime.sessions,
                inbox_table=spec.inbox,
                bootstrap=settings.kafka_bootstrap,
                max_attempts=settings.consumer_max_attempts,
                retry_backoff_s=settings.consumer_retry_backoff_s,
                max_records=settings.consumer_max_records,
                crash_points=runtime.crash_points,
                tracing=runtime.tracing,
            )
            runtime.tasks.append(asyncio.create_task(consumer.run(runtime.stop), name=f"{spec.name}-{topic}"))
    for topic in spec.priority_topics if spec.priority.types else ():
        # Same inbox consumer name: whichever of the two applies an event first, the other skips it.
        lane = ConsumerRunner(
            name=spec.name,
            group_id=f"{spec.name}.{topic}.priority",
            topics=[topic],
            router=spec.priority,
            sessions=runtime.sessions,
            inbox_table=spec.inbox,
            bootstrap=settings.kafka_bootstrap,
            max_attempts=1,
            max_records=settings.consumer_max_records,
            crash_points=runtime.crash_points,
            only_types=spec.priority.types,
            dead_letters=False,  # what fails here is the ordered consumer's to retry or dead-letter
            tracing=runtime.tracing,
        )
        runtime.tasks.append(
            asyncio.create_task(lane.run(runtime.stop), name=f"{spec.name}-{topic}-priority")
        )


async def _kafka_reachable(producer: AIOKafkaProducer) -> None:
    await producer.client.fetch_all_metadata()


# Probes the launcher and Prometheus make every few seconds: not worth a line each.
_UNLOGGED_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


async def _trace_middleware(request: Request, call_next: Callable[[Request], Awaitable[Any]]) -> Response:
    """Join the caller's trace (or start one) in a server span, answer with it, and log one line per
    request: the route's template rather than the path (ids stay out of the line), status and
    duration. Probes get no span (and no line)."""
    structlog.contextvars.clear_contextvars()
    method = request.method if request.method in _METHODS else "other"  # made-up verbs share one series
    tracing: Tracing = getattr(request.app.state, "tracing", OFF)
    if request.url.path in _UNLOGGED_PATHS:
        tracing = OFF
    started = time.perf_counter()
    with tracing.server(method, request.headers.get("traceparent")) as span:
        traceparent = current_traceparent() or bind_trace(None)
        response: Response = await call_next(request)
        route = getattr(request.scope.get("route"), "path", "unmatched")
        if span.is_recording():
            span.update_name(f"{method} {route}")
            span.set_attribute("http.route", route)
            span.set_attribute("http.response.status_code", response.status_code)
            if response.status_code >= 500:
                span.set_status(StatusCode.ERROR)
    response.headers["traceparent"] = traceparent
    elapsed = time.perf_counter() - started
    REQUEST_DURATION.labels(method, route, str(response.status_code)).observe(elapsed)
    if request.url.path not in _UNLOGGED_PATHS:
        log.info(
            "request",
            method=request.method,
            route=route,
            status=response.status_code,
            duration_ms=round(elapsed * 1000, 1),
        )
    return response
