"""Every route of every service, as the security tests try them: method, path and what it needs."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from fastapi.routing import APIRoute
from sqlalchemy import MetaData

from common.access import Can, needs_of
from common.clock import ShiftableClock
from common.messaging.tables import outbox_table
from common.ops_api import clock_router, ops_router

# Routes anyone may call: health, the caller's own identity, the API's description.
PUBLIC = {
    "/healthz",
    "/readyz",
    "/metrics",
    "/v1/me",
    "/openapi.json",
    "/asyncapi.json",
    "/docs",
    "/docs/oauth2-redirect",
    "/redoc",
}


@dataclass(frozen=True)
class Endpoint:
    service: str
    method: str
    path: str
    needs: frozenset[Can] | None

    def url(self, ids: dict[str, str] | None = None) -> str:
        """The path with `ids` for its parameters, made-up ones for the rest."""
        ids = ids or {}
        # Made-up ids: a uuid where a uuid is asked, a plain name elsewhere.
        return re.sub(r"\{(\w+)\}", lambda m: ids.get(m.group(1)) or _made_up(m.group(1)), self.path)

    @property
    def params(self) -> list[str]:
        return re.findall(r"\{(\w+)\}", self.path)


def _needs(route: APIRoute) -> frozenset[Can] | None:
    found: list[frozenset[Can]] = []

    def walk(dependant: Any) -> None:
        needs = needs_of(dependant.call)
        if needs is not None:
            found.append(needs)
        for sub in dependant.dependencies:
            walk(sub)

    walk(route.dependant)
    return found[0] if found else None


def endpoints() -> Iterator[Endpoint]:
    from compliance.api.replays import router as compliance_replays
    from compliance.api.routes import router as compliance
    from intake.api.routes import router as intake
    from reminders.api.reports import router as reminders_reports
    from reminders.api.routes import router as reminders
    from reminders.api.settings import router as reminders_settings
    from visits.api.routes import router as visits

    common = [ops_router(outbox_table(MetaData())), clock_router(ShiftableClock())]
    for service, routers in (
        ("intake", [intake]),
        ("reminders", [reminders, reminders_settings, reminders_reports]),
        ("visits", [visits]),
        ("compliance", [compliance, compliance_replays]),
    ):
        for r in (route for router in [*routers, *common] for route in router.routes):
            if isinstance(r, APIRoute):
                for method in sorted(r.methods):
                    yield Endpoint(service, method, r.path, _needs(r))


ENDPOINTS = list(endpoints())


def _made_up(param: str) -> str:
    return str(uuid.uuid4()) if param.endswith("_id") else "nobody"
