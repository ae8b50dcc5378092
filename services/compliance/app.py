"""The compliance service: `uvicorn compliance.app:create_app --factory --port <port>`."""

from __future__ import annotations

from fastapi import FastAPI

from common.clock import Clock
from common.messaging.consumer import EventRouter
from common.service import ServiceSpec, create_service_app
from compliance import __doc__ as description
from compliance import tables
from compliance.settings import ComplianceSettings

TOPIC = "compliance.v1"


def create_app(settings: ComplianceSettings | None = None, *, clock: Clock | None = None) -> FastAPI:
    spec = ServiceSpec(
        name="compliance",
        version="0.1.0",
        description=description or "",
        outbox=tables.outbox,
        inbox=tables.inbox,
        subscriptions=["intake.v1", "reminders.v1", "visits.v1"],
        events=EventRouter(),
    )
    return create_service_app(spec, settings or ComplianceSettings(), clock=clock)
