"""The reminders service: `uvicorn reminders.app:create_app --factory --port <port>`."""

from __future__ import annotations

from fastapi import FastAPI

from common.clock import Clock
from common.messaging.consumer import EventRouter
from common.service import ServiceSpec, create_service_app
from reminders import __doc__ as description
from reminders import tables
from reminders.settings import RemindersSettings

TOPIC = "reminders.v1"


def create_app(settings: RemindersSettings | None = None, *, clock: Clock | None = None) -> FastAPI:
    spec = ServiceSpec(
        name="reminders",
        version="0.1.0",
        description=description or "",
        outbox=tables.outbox,
        inbox=tables.inbox,
        subscriptions=["intake.v1", "compliance.v1"],
        events=EventRouter(),
    )
    return create_service_app(spec, settings or RemindersSettings(), clock=clock)
