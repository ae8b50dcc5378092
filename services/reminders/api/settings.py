"""A lender's own settings: `GET /v1/settings` shows them with what applies, `PUT` replaces them."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Request

from common.access import Can, allow
from common.auth import Principal
from common.db import unit_of_work
from common.problems import ProblemError
from reminders import repository as repo
from reminders.api import schemas as s
from reminders.domain.settings import TenantSettings
from reminders.planner import BUILTIN

router = APIRouter(prefix="/v1", tags=["settings"])

Strategist = Annotated[Principal, Depends(allow(Can.STRATEGIES))]
StrategyReader = Annotated[Principal, Depends(allow(Can.STRATEGIES, Can.READ_TENANT))]


@router.get("/settings", summary="The tenant's settings and what applies", response_model=s.TenantSettingsOut)
async def get_settings(request: Request, principal: StrategyReader) -> s.TenantSettingsOut:
    async with request.app.state.runtime.sessions() as session:
        return await _view(request, session, principal.tenant)


@router.put(
    "/settings",
    summary="Replace the tenant's settings (a field left out is the default)",
    response_model=s.TenantSettingsOut,
)
async def put_settings(
    request: Request, principal: Strategist, body: Annotated[s.TenantSettingsIn, Body()]
) -> s.TenantSettingsOut:
    async with unit_of_work(request.app.state.runtime.sessions) as session:
        name = body.default_strategy
        if name not in (None, BUILTIN) and await repo.strategy(session, principal.tenant, name) is None:
            message = f"no strategy {name!r} is saved for this tenant (PUT /v1/strategies/{name} first)"
            raise ProblemError(422, message, errors=[{"field": "default_strategy", "message": message}])
        await repo.save_tenant_settings(session, principal.tenant, body.model_dump(), by=principal.sub)
        return await _view(request, session, principal.tenant)


async def _view(request: Request, session: Any, tenant: str) -> s.TenantSettingsOut:
    row = (await repo.tenant_settings_of(session, [tenant])).get(tenant)
    saved = TenantSettings.of(row)
    fallback = "default" if await repo.strategy(session, tenant, "default") is not None else BUILTIN
    spacing = saved.spacing(timedelta(seconds=request.app.state.settings.contact_spacing_s))
    return s.TenantSettingsOut(
        tenant=tenant,
        saved=s.TenantSettingsIn(
            default_strategy=saved.default_strategy,
            contact_spacing_s=saved.contact_spacing_s,
            visits_enabled=saved.visits_enabled,
        ),
        effective=s.EffectiveSettings(
            default_strategy=saved.default_strategy or fallback,
            contact_spacing_s=int(spacing.total_seconds()),
            visits_enabled=saved.visits_enabled is not False,
        ),
        version=row.version if row is not None else 0,
        updated_by=row.updated_by if row is not None else None,
        updated_at=row.updated_at if row is not None else None,
    )
