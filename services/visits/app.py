"""The visits service: `uvicorn visits.app:create_app --factory --port 8003`."""

from __future__ import annotations

from fastapi import FastAPI

from common.clock import Clock
from common.contracts.catalog import topics_read_by
from common.service import Runtime, ServiceSpec, create_service_app, make_clock
from visits import __doc__ as description
from visits import tables
from visits.api.routes import router
from visits.cases import Policy
from visits.handlers import build_router
from visits.planning import Planner
from visits.routing.travel import GreatCircle
from visits.settings import VisitsSettings


def create_app(settings: VisitsSettings | None = None, *, clock: Clock | None = None) -> FastAPI:
    settings = settings or VisitsSettings()
    clock = clock or make_clock(settings)
    policy = Policy(
        recording_jurisdictions=frozenset(
            j.strip() for j in settings.recording_jurisdictions.split(",") if j.strip()
        ),
        default_crew_size=settings.default_crew_size,
    )
    spec = ServiceSpec(
        name="visits",
        version="0.2.0",
        description=description or "",
        outbox=tables.outbox,
        inbox=tables.inbox,
        api=[router],
        subscriptions=topics_read_by("visits"),
        events=build_router(clock, policy),
    )

    async def on_startup(app: FastAPI, runtime: Runtime) -> None:
        app.state.settings = settings
        app.state.policy = policy
        app.state.planner = Planner(
            sessions=runtime.sessions,
            cipher=runtime.cipher,
            travel=GreatCircle(speed_kmh=settings.speed_kmh, detour=settings.detour_factor),
            service_s=settings.service_minutes * 60,
            time_limit_s=settings.solver_time_limit_s,
        )

    return create_service_app(spec, settings, clock=clock, on_startup=on_startup)
