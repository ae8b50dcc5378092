"""Replay routes: a stored decision, or every decision of a period, decided again against the pack
versions and engine it names (a difference is a bug) and, when asked, against today's packs."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field

from common.access import Can, allow
from common.auth import Principal, Role, ensure_tenant
from common.fields import Instant
from common.pagination import TIME_AND_ID, decode_cursor, encode_cursor
from common.problems import ProblemError
from compliance import audit_store, replay
from compliance import repository as repo
from compliance.api.schemas import ReasonView
from compliance.domain.version import ENGINE
from compliance.handlers import Deps

router = APIRouter(prefix="/v1", tags=["compliance"])

Officer = Annotated[Principal, Depends(allow(Can.COMPLIANCE))]
# A page of a period's replay: big enough for thousands a call, small enough to answer in seconds.
MAX_PAGE = 2000


class ReplayIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    against_current: bool = Field(
        default=False, description="also decide with today's packs and report what changes, by rule"
    )


class PeriodIn(ReplayIn):
    from_: Instant = Field(alias="from")
    to: Instant
    limit: int = Field(default=1000, ge=1, le=MAX_PAGE)
    cursor: str | None = Field(default=None, max_length=512)

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class Answer(BaseModel):
    outcome: str
    reasons: list[ReasonView]
    not_before: datetime | None
    expires_at: datetime | None
    policy: str
    evaluated_rules: list[str]


class ReplayOut(BaseModel):
    permit_id: str
    decided_at: datetime
    status: Literal["same", "differs", "provisional", "unreplayable"]
    recorded: Answer
    replayed: Answer | None
    differences: list[str]
    snapshot_verified: bool | None = Field(
        description="the stored snapshot hashes to what the decision's audit entry kept "
        "(null: an entry from before snapshots were hashed)"
    )
    engine: str | None = Field(description="the engine that decided (null: recorded before engines were)")
    engine_now: str
    engine_changed: bool
    problem: str | None
    current: replay.Against | None  # today's packs' answer, when asked


class RuleChange(BaseModel):
    rule: str
    added: int
    dropped: int


class PeriodOut(BaseModel):
    start: datetime
    end: datetime
    engine_now: str
    replayed: int
    same: int
    differs: int
    provisional: int = Field(
        description="deferred before the engine ran (state not read yet): nothing to replay"
    )
    unreplayable: int
    snapshots_verified: int
    engine_changed: int
    differing: list[ReplayOut] = Field(description=f"the first {replay.Summary.KEEP} in full")
    failed: list[ReplayOut] = Field(description=f"the first {replay.Summary.KEEP} unreplayable in full")
    unproven: list[str] = Field(
        description=f"the first {replay.Summary.KEEP} permit ids whose snapshot no audit entry vouches for"
    )
    changed_today: int | None = Field(description="against today's packs: decisions whose outcome changes")
    by_rule: list[RuleChange] | None
    next_cursor: str | None


def _out(result: replay.Replayed) -> ReplayOut:
    return ReplayOut(
        permit_id=result.permit_id,
        decided_at=result.decided_at,
        status=result.status,
        recorded=Answer(**result.recorded),
        replayed=Answer(**result.replayed) if result.replayed else None,
        differences=result.differences,
        snapshot_verified=result.snapshot_verified,
        engine=result.engine,
        engine_now=ENGINE,
        engine_changed=result.engine_changed,
        problem=result.problem,
        current=result.current,
    )


def _replayed(
    deps: Deps, rows: list[Any], entries: dict[str, Any], against_current: bool
) -> list[replay.Replayed]:
    return [
        replay.replay(
            row,
            deps.archive,
            entry=entries.get(str(row.permit_id)),
            current=deps.packs if against_current else None,
            default_ttl=deps.permit_ttl,
        )
        for row in rows
    ]


@router.post(
    "/decisions/{permit_id}:replay",
    summary="Decide a stored decision again against its recorded versions (and today's packs)",
    response_model=ReplayOut,
)
async def replay_one(
    permit_id: str, request: Request, principal: Officer, body: ReplayIn | None = None
) -> ReplayOut:
    try:
        key = uuid.UUID(permit_id)
    except ValueError:
        raise ProblemError(404, "not found") from None
    deps: Deps = request.app.state.deps
    async with request.app.state.runtime.sessions() as session:
        row = await repo.decision(session, key)
        if row is None:
            raise ProblemError(404, "not found")
        ensure_tenant(principal, row.tenant)
        entries = await audit_store.entries_for(session, [str(key)])
    (result,) = _replayed(deps, [row], entries, bool(body and body.against_current))
    return _out(result)


@router.post(
    "/decisions:replay",
    summary="Decide every decision of a period again (a page at a time, oldest first)",
    response_model=PeriodOut,
)
async def replay_period(body: PeriodIn, request: Request, principal: Officer) -> PeriodOut:
    if body.from_ >= body.to:
        raise ProblemError(
            422, "`from` must be before `to`", errors=[{"field": "from", "message": "after to"}]
        )
    deps: Deps = request.app.state.deps
    tenant = None if principal.role == Role.ADMIN else principal.tenant
    after = decode_cursor(body.cursor, TIME_AND_ID)
    async with request.app.state.runtime.sessions() as session:
        rows = await repo.decisions_between(
            session, tenant, body.from_, body.to, after=after, limit=body.limit + 1
        )
        page = rows[: body.limit]
        entries = await audit_store.entries_for(session, [str(r.permit_id) for r in page])
    summary = replay.Summary()
    for result in _replayed(deps, page, entries, body.against_current):
        summary.add(result)
    next_cursor = None
    if len(rows) > body.limit:
        last = page[-1]
        next_cursor = encode_cursor([last.decided_at.isoformat(), str(last.permit_id)])
    return PeriodOut(
        start=body.from_,
        end=body.to,
        engine_now=ENGINE,
        replayed=summary.replayed,
        same=summary.same,
        differs=summary.differs,
        provisional=summary.provisional,
        unreplayable=summary.unreplayable,
        snapshots_verified=summary.snapshots_verified,
        engine_changed=summary.engine_changed,
        differing=[_out(r) for r in summary.differing],
        failed=[_out(r) for r in summary.failed],
        unproven=summary.unproven,
        changed_today=summary.changed_today if body.against_current else None,
        by_rule=[RuleChange(rule=rule, **n) for rule, n in sorted(summary.by_rule.items())]
        if body.against_current
        else None,
        next_cursor=next_cursor,
    )
