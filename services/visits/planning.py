"""Building the day plans of a tenant's crews: the cases compliance has permitted for the day, the
crews working it, a solver, and the plans written back (visits planned, stops dropped with their
reason). Stops already checked in or completed stay where they are; the crew leaves from its last.

The solve runs outside any transaction and off the event loop; the write re-reads every case and
plans only those still permitted (a payment that cancelled one meanwhile wins)."""

from __future__ import annotations

import asyncio
import json
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

import common.contracts.intake as c
import common.contracts.visits as v
from common.crypto import DecryptionError, FieldCipher
from common.db import unit_of_work
from visits import repository as repo
from visits.outgoing import publish
from visits.routing.days import shift_window
from visits.routing.model import Crew, Dropped, Plan, PlannedStop, Point, Problem, Route, Stop, Window
from visits.routing.solver import solve
from visits.routing.travel import GreatCircle

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
KEPT = ("checked_in", "completed")


@dataclass(frozen=True)
class Planner:
    sessions: async_sessionmaker[AsyncSession]
    cipher: FieldCipher
    travel: GreatCircle
    service_s: int
    time_limit_s: float


@dataclass
class Built:
    day: date
    region: str | None
    solver: str
    solve_s: float
    routes: list[dict[str, Any]] = field(default_factory=list)
    dropped: list[dict[str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class CrewDay:
    crew: Crew
    region: str
    kept: tuple[PlannedStop, ...]  # stops already made today, in order


async def build(planner: Planner, tenant: str, day: date, region: str | None, *, now: datetime) -> Built:
    async with planner.sessions() as session:
        rows = await repo.visits_of_day(session, tenant, day)
        accounts = await repo.accounts_by_id(session, [row.account_id for row in rows])
        places = {a.account_id: location(planner.cipher, a) for a in accounts.values()}
        crew_days = await _crew_days(
            session, tenant, day, region, [r for r in rows if r.state in KEPT], places
        )
    cases = [row for row in rows if row.state in ("permitted", "planned")]
    stops, dropped = _stops(planner, cases, accounts, places, region, now=now)
    problem = Problem(crews=[cd.crew for cd in crew_days.values()], stops=stops)
    plan = await asyncio.to_thread(solve, problem, planner.travel, time_limit_s=planner.time_limit_s)
    dropped.extend(plan.dropped)
    async with unit_of_work(planner.sessions) as session:
        return await _write(session, tenant, day, region, plan, dropped, crew_days, now=now)


async def _crew_days(
    session: AsyncSession,
    tenant: str,
    day: date,
    region: str | None,
    made: list[Any],
    places: dict[uuid.UUID, Point | None],
) -> dict[str, CrewDay]:
    """The crews working `day` (every agent on shift), with the stops they already made today."""
    agents = await repo.all_agents(session, tenant)
    out: dict[str, CrewDay] = {}
    for crew in await repo.crews_of(session, tenant):
        members = [agents[a] for a in crew.agent_ids if a in agents]
        if not members or len(members) != len(crew.agent_ids):
            continue
        first = members[0]
        if region is not None and first.region != region:
            continue
        if any(_off(agent, day) for agent in members):
            continue
        shifts = [shift_window(day, a.shift_start, a.shift_end, a.timezone) for a in members]
        start, end = max(s.start for s in shifts), min(s.end for s in shifts)
        if start >= end:
            continue
        kept = tuple(
            sorted(
                (
                    PlannedStop(
                        visit_id=str(row.visit_id),
                        account_id=str(row.account_id),
                        location=places.get(row.account_id) or Point(first.home_lat, first.home_lon),
                        arrive_at=datetime.fromisoformat(row.check_in["at"]),
                        depart_at=row.completed_at or datetime.fromisoformat(row.check_in["at"]),
                    )
                    for row in made
                    if row.crew_id == crew.crew_id and row.check_in
                ),
                key=lambda s: s.arrive_at,
            )
        )
        home = Point(first.home_lat, first.home_lon)
        if kept:  # the day has begun: leave from the last stop made, when it was done
            start = max(start, kept[-1].depart_at)
        capacity = min(a.max_visits_per_day for a in members) - len(kept)
        out[crew.crew_id] = CrewDay(
            crew=Crew(
                crew_id=crew.crew_id,
                home=home,
                shift=Window(start, max(end, start + timedelta(seconds=1))),
                capacity=max(capacity, 0),
                size=len(members),
                start=kept[-1].location if kept else None,
            ),
            region=first.region,
            kept=kept,
        )
    return out


def _off(agent: Any, day: date) -> bool:
    return WEEKDAYS[day.weekday()] in agent.days_off or day.isoformat() in agent.days_off


def _stops(
    planner: Planner,
    cases: list[Any],
    accounts: dict[uuid.UUID, Any],
    places: dict[uuid.UUID, Point | None],
    region: str | None,
    *,
    now: datetime,
) -> tuple[list[Stop], list[Dropped]]:
    stops, dropped = [], []
    for row in cases:
        account = accounts.get(row.account_id)
        if account is None or (region is not None and account.region != region):
            continue
        place = places.get(row.account_id)
        if place is None:
            dropped.append(Dropped(str(row.visit_id), "the address on file has no coordinates"))
            continue
        start = max(row.window_start, now)
        if row.window_end is None or start >= row.window_end:
            dropped.append(Dropped(str(row.visit_id), "the permit's window has passed"))
            continue
        stops.append(
            Stop(
                visit_id=str(row.visit_id),
                account_id=str(row.account_id),
                location=place,
                windows=(Window(start, row.window_end),),
                service_s=planner.service_s,
                priority=row.priority,
                min_crew=row.crew_size or 1,
            )
        )
    return stops, dropped


def location(cipher: FieldCipher, account: Any) -> Point | None:
    """Where the account's home address is, from its sealed token (None without coordinates)."""
    if not account.address:
        return None
    try:
        sealed = json.loads(cipher.decrypt(account.address, context=c.CTX_ADDRESS))
    except (DecryptionError, ValueError):
        return None
    lat, lon = sealed.get("lat"), sealed.get("lon")
    return Point(float(lat), float(lon)) if lat is not None and lon is not None else None


async def _write(
    session: AsyncSession,
    tenant: str,
    day: date,
    region: str | None,
    plan: Plan,
    dropped: list[Dropped],
    crew_days: dict[str, CrewDay],
    *,
    now: datetime,
) -> Built:
    built = Built(day=day, region=region, solver=plan.solver, solve_s=round(plan.solve_s, 3))
    current = {row.visit_id: row for row in await repo.visits_of_day(session, tenant, day, lock=True)}
    routes = {route.crew_id: route for route in plan.routes}
    for crew_id, crew_day in crew_days.items():
        route = routes.get(crew_id) or Route(crew_id=crew_id, stops=(), distance_m=0, travel_s=0)
        planned = [s for s in route.stops if _still_permitted(current.get(uuid.UUID(s.visit_id)))]
        for stop in planned:
            row = current[uuid.UUID(stop.visit_id)]
            moved = (row.state, row.crew_id, row.arrive_at) != ("planned", crew_id, stop.arrive_at)
            await repo.update_visit(
                session,
                row.visit_id,
                state="planned",
                crew_id=crew_id,
                arrive_at=stop.arrive_at,
                depart_at=stop.depart_at,
                reasons=[],
            )
            if moved:
                await publish(
                    session,
                    v.VisitScheduled(
                        visit_id=str(row.visit_id),
                        account_id=str(row.account_id),
                        borrower_id=str(row.borrower_id),
                        at=now,
                        date=day,
                        crew_id=crew_id,
                        arrive_at=stop.arrive_at,
                        depart_at=stop.depart_at,
                        permit_id=str(row.permit_id),
                    ),
                    tenant=tenant,
                    borrower_id=row.borrower_id,
                    account_id=row.account_id,
                )
        document = _document(crew_day, route, planned)
        await repo.save_plan(session, tenant, crew_id, day, document, plan.solver)
        built.routes.append(
            {"crew_id": crew_id, "stops": len(document["stops"]), "distance_m": document["distance_m"]}
        )
    for gone in dropped:
        row = current.get(uuid.UUID(gone.visit_id))
        if row is not None and _still_permitted(row):
            await repo.update_visit(
                session,
                row.visit_id,
                state="permitted",
                crew_id=None,
                arrive_at=None,
                depart_at=None,
                reasons=[{"rule": "visits.plan", "message": gone.reason}],
            )
        built.dropped.append({"visit_id": gone.visit_id, "reason": gone.reason})
    return built


def _still_permitted(row: Any) -> bool:
    return row is not None and row.state in ("permitted", "planned")


def _document(crew_day: CrewDay, route: Route, planned: list[PlannedStop]) -> dict[str, Any]:
    """The plan as stored: kept stops first, then the new ones. A stop's place is the borrower's
    address, personal data: it is read from the sealed address when the plan is shown, never stored."""
    stops = [*crew_day.kept, *planned]
    return {
        "stops": [
            {
                "visit_id": s.visit_id,
                "account_id": s.account_id,
                "arrive_at": s.arrive_at.isoformat(),
                "depart_at": s.depart_at.isoformat(),
            }
            for s in stops
        ],
        "distance_m": route.distance_m,
        "travel_s": route.travel_s,
        "leave_at": route.leave_at.isoformat() if route.leave_at else None,
        "back_at": route.back_at.isoformat() if route.back_at else None,
    }
