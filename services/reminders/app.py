"""The reminders service: `uvicorn reminders.app:create_app --factory --port 8002`."""

from __future__ import annotations

from datetime import timedelta

import httpx
from fastapi import FastAPI

from common.clock import Clock
from common.contracts.catalog import topics_read_by
from common.service import Runtime, ServiceSpec, create_service_app, make_clock
from common.tracing import OFF, Tracing
from reminders import __doc__ as description
from reminders import tables
from reminders.api.reports import router as reports_router
from reminders.api.routes import router
from reminders.api.settings import router as settings_router
from reminders.api.webhooks import WebhookGate
from reminders.channels import Channels, HttpGateway, ProviderConfig, SmtpMailer
from reminders.handlers import build_routers
from reminders.settings import RemindersSettings
from reminders.workers import Workers


def build_channels(settings: RemindersSettings, *, tracing: Tracing = OFF) -> Channels:
    """The sandbox in dev and tests; a real deployment points the two gateways at two providers."""
    providers = [
        ProviderConfig(name="primary", base_url=settings.sandbox_url),
        ProviderConfig(name="secondary", base_url=settings.secondary_gateway_url or settings.sandbox_url),
    ]
    gateway = HttpGateway(providers=providers, client=httpx.AsyncClient(), tracing=tracing)
    mailer = SmtpMailer(settings.smtp_host, settings.smtp_port, settings.mail_from, tracing=tracing)
    return Channels.of(gateway=gateway, mailer=mailer)


def create_app(settings: RemindersSettings | None = None, *, clock: Clock | None = None) -> FastAPI:
    settings = settings or RemindersSettings()
    clock = clock or make_clock(settings)
    events, priority = build_routers(clock, spacing=timedelta(seconds=settings.contact_spacing_s))
    spec = ServiceSpec(
        name="reminders",
        version="0.2.0",
        description=description or "",
        outbox=tables.outbox,
        inbox=tables.inbox,
        api=[router, settings_router, reports_router],
        subscriptions=topics_read_by("reminders"),
        events=events,
        priority=priority,
        priority_topics=["intake.v1"],
    )

    async def on_startup(app: FastAPI, runtime: Runtime) -> None:
        app.state.settings = settings
        app.state.webhooks = WebhookGate.of(settings)
        channels = build_channels(settings, tracing=runtime.tracing)
        app.state.channels = channels
        if settings.start_workers:
            Workers(runtime=runtime, settings=settings, channels=channels).start()

    return create_service_app(spec, settings, clock=clock, on_startup=on_startup)
