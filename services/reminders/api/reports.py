"""Reminders' case analysis: `GET /v1/reports/outcomes`, for whoever reads everything in the tenant
(ops, compliance, admin), like the visits and compliance reports."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request

from common.access import Can, allow
from common.auth import Principal
from common.fields import Instant
from common.problems import ProblemError
from reminders import reports

router = APIRouter(prefix="/v1", tags=["reports"])

Analyst = Annotated[Principal, Depends(allow(Can.READ_TENANT))]
DEFAULT_PERIOD = timedelta(days=30)
LONGEST_PERIOD = timedelta(days=366)


@router.get(
    "/reports/outcomes",
    summary="Cure and promise-kept rates of the accounts placed in a period, by strategy, variant and "
    "channel, with 95% intervals and each challenger against its champion",
)
async def outcomes_report(
    request: Request,
    principal: Analyst,
    from_: Annotated[Instant | None, Query(alias="from")] = None,
    to: Annotated[Instant | None, Query()] = None,
) -> dict[str, Any]:
    end = to or datetime.now(UTC)
    start = from_ or end - DEFAULT_PERIOD
    if start >= end or end - start > LONGEST_PERIOD:
        raise ProblemError(
            422,
            "the period is from <= placed < to, at most a year",
            errors=[{"field": "from", "message": "not before to, or more than a year before it"}],
        )
    async with request.app.state.runtime.sessions() as session:
        return await reports.outcomes_report(session, principal.tenant, start, end)
