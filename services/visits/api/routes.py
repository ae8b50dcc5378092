"""Visits' routes: each turns its input into a command for `visits.cases` or `visits.planning`,
inside one transaction that also writes the outbox."""

from __future__ import annotations

import hashlib
import uuid
from datetime import date, datetime, timedelta
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Path, Query, Request, Response

from common.access import Can, allow
from common.auth import Principal, Role, ensure_tenant
from common.contracts.visits import CTX_VISIT_NOTES
from common.db import unit_of_work
from common.fields import Day, Text
from common.pagination import TIME_AND_ID, decode_cursor, encode_cursor
from common.problems import ProblemError
from visits import cases, planning, reports
from visits import repository as repo
from visits.api import schemas as s
from visits.routing.model import PlannedStop, Point, Route, Window
from visits.routing.svg import render_plan_svg

router = APIRouter(prefix="/v1", tags=["visits"])

Ops = Annotated[Principal, Depends(allow(Can.FIELD_FORCE))]
Agent = Annotated[Principal, Depends(allow(Can.WORK_VISITS))]
Reader = Annotated[Principal, Depends(allow(Can.FIELD_FORCE, Can.WORK_VISITS, Can.READ_TENANT))]
Analyst = Annotated[Principal, Depends(allow(Can.READ_TENANT))]
Id = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]
# A visit is asked for, and a door promise made, at most a year ahead (a longer arrangement is a
# plan, made in reminders): an active promise pauses the reminders ladder until its date.
HORIZON = timedelta(days=366)


def _runtime(request: Request) -> Any:
    return request.app.state.runtime


def _policy(request: Request) -> cases.Policy:
    return request.app.state.policy  # type: ignore[no-any-return]


# --- agents and crews -----------------------------------------------------------------------------


def _agent_out(row: Any) -> s.AgentOut:
    return s.AgentOut(
        agent_id=row.agent_id,
        name=row.name,
        region=row.region,
        home=s.Position(lat=row.home_lat, lon=row.home_lon),
        shift=s.Shift(start=row.shift_start, end=row.shift_end, timezone=row.timezone),
        languages=list(row.languages),
        max_visits_per_day=row.max_visits_per_day,
        days_off=list(row.days_off),
    )


@router.put("/agents/{agent_id}", summary="Create or replace a field agent", response_model=s.AgentOut)
async def put_agent(agent_id: Id, body: s.AgentIn, request: Request, principal: Ops) -> s.AgentOut:
    async with unit_of_work(_runtime(request).sessions) as session:
        await repo.put_agent(
            session,
            {
                "tenant": principal.tenant,
                "agent_id": agent_id,
                "name": body.name,
                "region": body.region,
                "home_lat": body.home.lat,
                "home_lon": body.home.lon,
                "shift_start": body.shift.start,
                "shift_end": body.shift.end,
                "timezone": body.shift.timezone,
                "languages": body.languages,
                "max_visits_per_day": body.max_visits_per_day,
                "days_off": [str(d) for d in body.days_off],
            },
        )
        row = await repo.agent(session, principal.tenant, agent_id)
    return _agent_out(row)


@router.get("/agents/{agent_id}", summary="A field agent", response_model=s.AgentOut)
async def get_agent(agent_id: Id, request: Request, principal: Reader) -> s.AgentOut:
    async with _runtime(request).sessions() as session:
        row = await repo.agent(session, principal.tenant, agent_id)
    if row is None:
        raise ProblemError(404, "not found")
    return _agent_out(row)


@router.put("/crews/{crew_id}", summary="Create or replace a crew of agents", response_model=s.CrewOut)
async def put_crew(crew_id: Id, body: s.CrewIn, request: Request, principal: Ops) -> s.CrewOut:
    async with unit_of_work(_runtime(request).sessions) as session:
        agents = await repo.agents_of(session, principal.tenant, body.agent_ids)
        unknown = [a for a in body.agent_ids if a not in agents]
        if unknown:
            raise ProblemError(
                422,
                "a crew is made of known agents",
                errors=[{"field": "agent_ids", "message": f"unknown agent {a!r}"} for a in unknown],
            )
        regions = {agents[a].region for a in body.agent_ids}
        if len(regions) > 1:
            raise ProblemError(
                422,
                "a crew works one region",
                errors=[{"field": "agent_ids", "message": f"agents of regions {sorted(regions)}"}],
            )
        await repo.put_crew(session, principal.tenant, crew_id, body.agent_ids)
    return s.CrewOut(
        crew_id=crew_id, agent_ids=body.agent_ids, region=regions.pop(), size=len(body.agent_ids)
    )


@router.get("/crews/{crew_id}", summary="A crew", response_model=s.CrewOut)
async def get_crew(crew_id: Id, request: Request, principal: Reader) -> s.CrewOut:
    async with _runtime(request).sessions() as session:
        crew = await repo.crew(session, principal.tenant, crew_id)
        if crew is None:
            raise ProblemError(404, "not found")
        agents = await repo.agents_of(session, principal.tenant, crew.agent_ids)
    first = agents.get(crew.agent_ids[0])
    return s.CrewOut(
        crew_id=crew.crew_id,
        agent_ids=list(crew.agent_ids),
        region=first.region if first else "",
        size=len(crew.agent_ids),
    )


# --- visit cases ----------------------------------------------------------------------------------


def visit_out(row: Any) -> s.VisitOut:
    window = (
        {"start": row.window_start, "end": row.window_end}
        if row.permit_id is not None and row.window_start and row.window_end
        else None
    )
    return s.VisitOut(
        visit_id=str(row.visit_id),
        account_id=str(row.account_id),
        source=row.source,
        reason=row.reason,
        state=row.state,
        date=row.date,
        priority=row.priority,
        permit_id=str(row.permit_id) if row.permit_id else None,
        window=window,
        crew_id=row.crew_id,
        arrive_at=row.arrive_at,
        depart_at=row.depart_at,
        check_in=row.check_in,
        outcome=row.outcome,
        entry_consent=row.entry_consent,
        promise=row.promise,
        evidence=list(row.evidence),
        reasons=list(row.reasons),
        created_at=row.created_at,
    )


@router.post(
    "/visits", summary="Ask for a field visit to an account", status_code=201, response_model=s.VisitOut
)
async def post_visit(body: s.VisitIn, request: Request, response: Response, principal: Ops) -> s.VisitOut:
    runtime = _runtime(request)
    problems = _day_problems(body.date, latest=runtime.clock.now().date() + HORIZON, field="date")
    if problems:
        raise ProblemError(422, "a visit is asked for at most a year ahead", errors=problems)
    async with unit_of_work(runtime.sessions) as session:
        account = await repo.account(session, body.account_id)
        if account is None or not principal.can_access_tenant(account.tenant):
            raise ProblemError(
                404, "not found", errors=[{"field": "account_id", "message": "no such account"}]
            )
        if account.status != "open":
            raise ProblemError(409, "the account is closed: no visit")
        visit_id, new = await cases.open_case(
            session,
            _policy(request),
            tenant=account.tenant,
            account_id=account.account_id,
            borrower_id=account.borrower_id,
            source="ops",
            reason=body.reason,
            day=body.date,
            priority=50,
            now=runtime.clock.now(),
        )
        row = await repo.visit(session, visit_id)
    if not new:
        response.status_code = 200  # the account's open case, not a second one
    return visit_out(row)


@router.get(
    "/visits", summary="Visit cases, oldest first, by state, date and crew", response_model=s.VisitPage
)
async def list_visits(
    request: Request,
    principal: Reader,
    state: Annotated[Text | None, Query(max_length=32)] = None,
    day: Annotated[Day | None, Query(alias="date")] = None,
    crew_id: Annotated[str | None, Query(max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")] = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> s.VisitPage:
    after = decode_cursor(cursor, TIME_AND_ID)
    async with _runtime(request).sessions() as session:
        rows = await repo.list_visits(
            session, principal.tenant, state=state, day=day, crew_id=crew_id, after=after, limit=limit + 1
        )
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = encode_cursor([rows[-1].created_at.isoformat(), str(rows[-1].visit_id)]) if more else None
    return s.VisitPage(items=[visit_out(r) for r in rows], next_cursor=next_cursor)


def _day_problems(
    day: date | None, *, latest: date, earliest: date | None = None, field: str
) -> list[dict[str, str]]:
    """A field error when `day` falls outside `earliest`..`latest`."""
    if day is None or ((earliest is None or earliest <= day) and day <= latest):
        return []
    span = f"between {earliest} and {latest}" if earliest else f"{latest} or earlier"
    return [{"field": field, "message": f"must be {span}"}]


async def _visit(
    request: Request, principal: Principal, visit_id: uuid.UUID, session: Any, *, lock: bool = False
) -> Any:
    row = await repo.visit(session, visit_id, lock=lock)
    if row is None:
        raise ProblemError(404, "not found")
    ensure_tenant(principal, row.tenant)
    return row


@router.get("/visits/{visit_id}", summary="One visit case", response_model=s.VisitOut)
async def get_visit(visit_id: uuid.UUID, request: Request, principal: Reader) -> s.VisitOut:
    async with _runtime(request).sessions() as session:
        return visit_out(await _visit(request, principal, visit_id, session))


@router.post("/visits/{visit_id}/check-in", summary="The crew is at the door", response_model=s.VisitOut)
async def check_in(visit_id: uuid.UUID, body: s.CheckInIn, request: Request, principal: Agent) -> s.VisitOut:
    runtime = _runtime(request)
    now = runtime.clock.now()
    skew = timedelta(seconds=request.app.state.settings.check_in_clock_skew_s)
    if body.at > now + skew:
        raise ProblemError(
            422, "the check-in is in the future", errors=[{"field": "at", "message": "after now"}]
        )
    async with unit_of_work(runtime.sessions) as session:
        visit = await _visit(request, principal, visit_id, session, lock=True)
        crew = await repo.crew(session, visit.tenant, body.crew_id)
        if crew is None:
            raise ProblemError(422, "unknown crew", errors=[{"field": "crew_id", "message": "no such crew"}])
        if principal.role is Role.AGENT and principal.sub not in crew.agent_ids:
            raise ProblemError(403, "an agent checks in only with their own crew")
        account = await repo.account(session, visit.account_id)
        place = planning.location(runtime.cipher, account)
        try:
            await cases.check_in(
                session,
                _policy(request),
                visit,
                account,
                cases.CheckIn(
                    crew_id=body.crew_id,
                    crew_size=len(crew.agent_ids),
                    at=body.at,
                    lat=body.lat,
                    lon=body.lon,
                    recording_id=body.recording_id,
                    id_shown=body.id_shown,
                ),
                place=(place.lat, place.lon) if place else None,
                flag_distance_m=request.app.state.settings.check_in_flag_distance_m,
                now=now,
            )
        except cases.Refused as exc:
            raise ProblemError(exc.status, exc.detail, errors=exc.errors) from None
        return visit_out(await repo.visit(session, visit_id))


@router.post("/visits/{visit_id}/outcome", summary="What happened at the door", response_model=s.VisitOut)
async def outcome(visit_id: uuid.UUID, body: s.OutcomeIn, request: Request, principal: Agent) -> s.VisitOut:
    runtime = _runtime(request)
    if body.promise is not None:
        today = runtime.clock.now().date()
        problems = _day_problems(
            body.promise.due_date, earliest=today, latest=today + HORIZON, field="promise.due_date"
        )
        if problems:
            raise ProblemError(422, "a door promise is for today or later, within a year", errors=problems)
    fingerprint = hashlib.sha256(
        orjson.dumps(body.model_dump(mode="json"), option=orjson.OPT_SORT_KEYS)
    ).hexdigest()
    async with unit_of_work(runtime.sessions) as session:
        visit = await _visit(request, principal, visit_id, session, lock=True)
        if principal.role is Role.AGENT:
            crew = await repo.crew(session, visit.tenant, visit.crew_id or "")
            if crew is None or principal.sub not in crew.agent_ids:
                raise ProblemError(403, "an agent records outcomes only of their own crew's visits")
        account = await repo.account(session, visit.account_id)
        command = cases.Outcome(
            outcome=body.outcome,
            entry_consent=body.entry_consent,
            notes=runtime.cipher.encrypt_optional(body.notes, context=CTX_VISIT_NOTES),
            promise=(body.promise.amount_minor, body.promise.due_date) if body.promise else None,
            receipt=body.receipt.model_dump() if body.receipt else None,
            evidence=[e.model_dump() for e in body.evidence],
            fingerprint=fingerprint,
        )
        try:
            await cases.complete(
                session, visit, account, command, agent_id=principal.sub, now=runtime.clock.now()
            )
        except cases.Refused as exc:
            raise ProblemError(exc.status, exc.detail, errors=exc.errors) from None
        return visit_out(await repo.visit(session, visit_id))


# --- plans ----------------------------------------------------------------------------------------


@router.post(
    "/plans:build",
    summary="Plan the day of every crew (of a region) with the solver",
    response_model=s.BuildOut,
)
async def build_plans(body: s.BuildIn, request: Request, principal: Ops) -> s.BuildOut:
    runtime = _runtime(request)
    built = await planning.build(
        request.app.state.planner, principal.tenant, body.date, body.region, now=runtime.clock.now()
    )
    return s.BuildOut(
        date=built.day,
        region=built.region,
        solver=built.solver,
        solve_s=built.solve_s,
        routes=built.routes,
        dropped=built.dropped,
    )


async def _plan(
    request: Request, principal: Principal, crew_id: str, day: date
) -> tuple[s.PlanOut, dict[str, Any]]:
    runtime = _runtime(request)
    async with runtime.sessions() as session:
        crew = await repo.crew(session, principal.tenant, crew_id)
        plan = await repo.plan(session, principal.tenant, crew_id, day)
        if crew is None or plan is None:
            raise ProblemError(404, "not found")
        agents = await repo.agents_of(session, principal.tenant, crew.agent_ids[:1])
        accounts = await repo.accounts_by_id(
            session, [uuid.UUID(x["account_id"]) for x in plan.document["stops"]]
        )
        ids = [uuid.UUID(x["visit_id"]) for x in plan.document["stops"]]
        windows = {
            str(row.visit_id): [Window(row.window_start, row.window_end)]
            for row in await repo.visits_of_day(session, principal.tenant, day)
            if row.visit_id in ids and row.window_start and row.window_end
        }
    first = agents[crew.agent_ids[0]]
    stops = []
    for x in plan.document["stops"]:
        account = accounts.get(uuid.UUID(x["account_id"]))
        place = planning.location(runtime.cipher, account) if account is not None else None
        stops.append(
            s.PlanStop(
                visit_id=x["visit_id"],
                account_id=x["account_id"],
                lat=place.lat if place else None,
                lon=place.lon if place else None,
                arrive_at=datetime.fromisoformat(x["arrive_at"]),
                depart_at=datetime.fromisoformat(x["depart_at"]),
            )
        )
    out = s.PlanOut(
        crew_id=crew_id,
        date=day,
        solver=plan.solver,
        home=s.Position(lat=first.home_lat, lon=first.home_lon),
        stops=stops,
        distance_m=plan.document["distance_m"],
        travel_s=plan.document["travel_s"],
    )
    return out, {"windows": windows, "timezone": first.timezone, "document": plan.document}


@router.get(
    "/crews/{crew_id}/plan",
    summary="A crew's day plan: stops in order, from home and back",
    response_model=s.PlanOut,
)
async def get_plan(
    crew_id: Id, day: Annotated[Day, Query(alias="date")], request: Request, principal: Reader
) -> s.PlanOut:
    plan, _ = await _plan(request, principal, crew_id, day)
    return plan


@router.get("/crews/{crew_id}/plan.svg", summary="A picture of a crew's day plan", response_class=Response)
async def get_plan_svg(
    crew_id: Id, day: Annotated[Day, Query(alias="date")], request: Request, principal: Reader
) -> Response:
    plan, extra = await _plan(request, principal, crew_id, day)

    document = extra["document"]
    route = Route(
        crew_id=crew_id,
        stops=tuple(
            PlannedStop(
                visit_id=x.visit_id,
                account_id=x.account_id,
                location=Point(
                    x.lat if x.lat is not None else plan.home.lat,
                    x.lon if x.lon is not None else plan.home.lon,
                ),
                arrive_at=x.arrive_at,
                depart_at=x.depart_at,
            )
            for x in plan.stops
        ),
        distance_m=plan.distance_m,
        travel_s=plan.travel_s,
        leave_at=datetime.fromisoformat(document["leave_at"]) if document.get("leave_at") else None,
        back_at=datetime.fromisoformat(document["back_at"]) if document.get("back_at") else None,
    )
    svg = render_plan_svg(
        route,
        home=Point(plan.home.lat, plan.home.lon),
        windows=extra["windows"],
        tz=extra["timezone"],
        day=day,
        title=f"Day plan of crew {crew_id}",
    )
    return Response(content=svg, media_type="image/svg+xml")


# --- reports --------------------------------------------------------------------------------------


@router.get(
    "/reports/visits", summary="Visit outcomes by crew and region, door promises kept, travel per visit"
)
async def visits_report(
    request: Request,
    principal: Analyst,
    from_: Annotated[Day, Query(alias="from")],
    to: Annotated[Day, Query()],
) -> dict[str, Any]:
    if to <= from_ or (to - from_).days > 366:
        raise ProblemError(
            422,
            "the period is from <= day < to, at most a year",
            errors=[{"field": "to", "message": "bad period"}],
        )
    async with _runtime(request).sessions() as session:
        return await reports.visits_report(session, principal.tenant, from_, to)
