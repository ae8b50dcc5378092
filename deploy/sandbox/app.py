"""Sandbox providers app: SMS/voice/push gateways over HTTP and an SMTP server, one event loop."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from fastapi import FastAPI

from common.problems import install_problem_handlers
from sandbox import callbacks
from sandbox.api import router
from sandbox.smtp import start_smtp_server
from sandbox.store import FaultBook, MessageStore


@dataclass(frozen=True, slots=True)
class SandboxSettings:
    """Where the SMTP side listens (`smtp_port=None` runs the HTTP side alone), and where the
    providers' callbacks go, signed with each provider's secret."""

    smtp_host: str = "127.0.0.1"
    smtp_port: int | None = 1025
    reminders_url: str | None = None
    webhook_secrets: Mapping[str, bytes] = field(default_factory=dict)


def create_app(settings: SandboxSettings | None = None) -> FastAPI:
    """Build the sandbox; its lifespan starts the SMTP server on the serving loop."""
    settings = settings or SandboxSettings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if settings.smtp_port is None:
            yield
            return
        server = await start_smtp_server(app.state.store, host=settings.smtp_host, port=settings.smtp_port)
        # Port 0 asks the OS for a free port; tests read the bound one from here.
        app.state.smtp_port = server.sockets[0].getsockname()[1]
        try:
            yield
        finally:
            server.close()
            await server.wait_closed()

    app = FastAPI(title="collections sandbox providers", lifespan=lifespan)
    app.state.settings = settings
    app.state.store = MessageStore()
    app.state.faults = FaultBook()
    app.state.smtp_port = None
    install_problem_handlers(app)
    app.include_router(router)
    app.include_router(callbacks.router)
    return app
