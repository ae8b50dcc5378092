"""The intake service: `uvicorn intake.app:create_app --factory --port <port>`."""

from __future__ import annotations

from fastapi import FastAPI

from common.clock import Clock
from common.messaging.consumer import EventRouter
from common.service import ServiceSpec, create_service_app
from intake import __doc__ as description
from intake import tables
from intake.settings import IntakeSettings

TOPIC = "intake.v1"


def create_app(settings: IntakeSettings | None = None, *, clock: Clock | None = None) -> FastAPI:
    spec = ServiceSpec(
        name="intake",
        version="0.1.0",
        description=description or "",
        outbox=tables.outbox,
        inbox=tables.inbox,
        subscriptions=[],
        events=EventRouter(),
    )
    return create_service_app(spec, settings or IntakeSettings(), clock=clock)
