"""The compliance service: `uvicorn compliance.app:create_app --factory --port 8004`."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import structlog
from fastapi import FastAPI

from common.aio import sleep_unless
from common.clock import Clock
from common.contracts.catalog import topics_read_by
from common.db import unit_of_work
from common.service import Runtime, ServiceSpec, create_service_app, make_clock
from compliance import __doc__ as description
from compliance import audit_store, tables
from compliance.api import replays
from compliance.api.routes import router
from compliance.domain.packs import POLICY_DIR, PackArchive, load_all
from compliance.freshness import IntakeLag
from compliance.handlers import Deps, build_priority_router, build_router
from compliance.settings import ComplianceSettings

log = structlog.get_logger(__name__)


def create_app(settings: ComplianceSettings | None = None, *, clock: Clock | None = None) -> FastAPI:
    settings = settings or ComplianceSettings()
    deps = Deps(
        packs=load_all(settings.policies_dir or POLICY_DIR),
        archive=PackArchive(settings.policies_dir or POLICY_DIR),
        clock=clock or make_clock(settings),
        permit_ttl=timedelta(seconds=settings.permit_ttl_s),
        visit_tenants=frozenset(t.strip() for t in settings.visit_tenants.split(",") if t.strip()),
    )
    spec = ServiceSpec(
        name="compliance",
        version="0.2.0",
        description=description or "",
        outbox=tables.outbox,
        inbox=tables.inbox,
        api=[router, replays.router],
        subscriptions=topics_read_by("compliance"),
        events=build_router(deps),
        priority=build_priority_router(deps),
        priority_topics=["intake.v1"],
    )

    async def on_startup(app: FastAPI, runtime: Runtime) -> None:
        app.state.deps = deps
        intake_lag = IntakeLag(settings.kafka_bootstrap)
        await intake_lag.start()
        app.state.intake_lag = intake_lag
        runtime.tasks.append(asyncio.create_task(_stop_on_shutdown(runtime, intake_lag), name="intake-lag"))
        if settings.audit_signing_key_file is None:
            raise RuntimeError("compliance: audit_signing_key_file is not set")
        app.state.audit_key = settings.audit_signing_key_file.read_bytes()
        if settings.start_workers:
            runtime.tasks.append(
                asyncio.create_task(_checkpoints(app, runtime, settings), name="audit-checkpoints")
            )

    return create_service_app(spec, settings, clock=deps.clock, on_startup=on_startup)


async def _stop_on_shutdown(runtime: Runtime, intake_lag: IntakeLag) -> None:
    await runtime.stop.wait()
    await intake_lag.stop()


async def _checkpoints(app: FastAPI, runtime: Runtime, settings: ComplianceSettings) -> None:
    """Sign the chain's head now and then, so a later rewrite of history is detectable offline."""
    while not runtime.stop.is_set():
        try:
            async with unit_of_work(runtime.sessions) as session:
                await audit_store.checkpoint(session, app.state.audit_key, at=runtime.clock.now())
        except Exception as exc:  # noqa: BLE001 - a failed checkpoint is retried at the next interval
            log.warning("audit checkpoint failed", error=str(exc))
        await sleep_unless(runtime.stop, settings.audit_checkpoint_interval_s)
