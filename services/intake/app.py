"""The intake service: `uvicorn intake.app:create_app --factory --port 8001`."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from common.clock import Clock
from common.contracts.catalog import topics_read_by
from common.problems import document_problems
from common.ratelimit import TenantRateLimiter
from common.service import Runtime, ServiceSpec, create_service_app, make_clock
from intake import __doc__ as description
from intake import tables
from intake.api.routes import router
from intake.handlers import EVENT_ADAPTER
from intake.receipts import Keys, build_router
from intake.settings import IntakeSettings


def create_app(settings: IntakeSettings | None = None, *, clock: Clock | None = None) -> FastAPI:
    settings = settings or IntakeSettings()
    clock = clock or make_clock(settings)
    keys = Keys()
    spec = ServiceSpec(
        name="intake",
        version="0.2.0",
        description=description or "",
        outbox=tables.outbox,
        inbox=tables.inbox,
        api=[router],
        # receipts of money taken at the door become payments
        subscriptions=topics_read_by("intake"),
        events=build_router(clock, keys),
    )

    async def on_startup(app: FastAPI, runtime: Runtime) -> None:
        keys.cipher = runtime.cipher
        app.state.rate_limiter = TenantRateLimiter(
            rate_per_s=settings.rate_limit_events_per_s, burst=settings.rate_limit_burst
        )

    app = create_service_app(spec, settings, clock=clock, on_startup=on_startup)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app


def _openapi(app: FastAPI) -> dict[str, Any]:
    """FastAPI's schema plus the lender event models the raw-body events route refers to."""
    if app.openapi_schema is None:
        schema = get_openapi(
            title=app.title, version=app.version, description=app.description, routes=app.routes
        )
        event = EVENT_ADAPTER.json_schema(ref_template="#/components/schemas/{model}")
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        components.update(event.pop("$defs", {}))
        components["LenderEvent"] = event
        app.openapi_schema = document_problems(schema)
    return app.openapi_schema
