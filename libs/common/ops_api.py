"""Routes every service offers: who am I (token check) and the state of its outbox (is the relay stuck?)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Table, func, select

from common.access import Can, allow
from common.auth import CurrentPrincipal, Principal
from common.clock import ShiftableClock
from common.messaging.outbox import backlog


class Me(BaseModel):
    sub: str
    role: str
    tenant: str


class OutboxState(BaseModel):
    pending: int
    oldest_pending_at: datetime | None
    last_published_at: datetime | None


class ClockState(BaseModel):
    now: datetime
    offset_seconds: float


class ClockShift(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # At most ten years either way: enough for any retention period, small enough to stay a date.
    offset_seconds: float = Field(ge=-315_576_000, le=315_576_000)


# The platform's own state spans every tenant: an operator's (admin's), never a tenant's ops staff.
Operator = Annotated[Principal, Depends(allow(Can.OPERATE))]


def clock_router(clock: ShiftableClock) -> APIRouter:
    """Move this service's clock (dev and test stacks only: production settings refuse it)."""
    router = APIRouter(prefix="/v1/ops", tags=["operations"])

    def state() -> ClockState:
        return ClockState(now=clock.now(), offset_seconds=clock.offset.total_seconds())

    @router.get(
        "/clock", summary="This service's clock and how far it runs from real time", include_in_schema=False
    )
    async def get_clock(_: Operator) -> ClockState:
        return state()

    @router.put(
        "/clock",
        summary="Run this service's clock ahead of (or behind) real time by an offset",
        include_in_schema=False,
    )
    async def put_clock(body: ClockShift, _: Operator) -> ClockState:
        clock.shift_to(timedelta(seconds=body.offset_seconds))
        return state()

    return router


def ops_router(outbox: Table) -> APIRouter:
    router = APIRouter(prefix="/v1", tags=["operations"])

    @router.get("/me", summary="The caller as the token names it", response_model=Me)
    async def me(principal: CurrentPrincipal) -> Me:
        return Me(sub=principal.sub, role=principal.role.value, tenant=principal.tenant)

    @router.get(
        "/ops/outbox",
        summary="Pending outbox rows and the last publication: a growing backlog means the relay is stuck",
        response_model=OutboxState,
    )
    async def outbox_state(request: Request, _: Operator) -> OutboxState:
        async with request.app.state.runtime.sessions() as session:
            pending, oldest = await backlog(session, outbox)
            last = (await session.execute(select(func.max(outbox.c.published_at)))).scalar()
        return OutboxState(pending=pending, oldest_pending_at=oldest, last_published_at=last)

    return router
