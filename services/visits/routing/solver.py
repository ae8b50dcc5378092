"""Day plans for field crews: a routing engine orders the stops, this module makes the plan legal.

An engine (VROOM or OR-Tools) only proposes each crew's order of stops. Every time in the plan is
recomputed here from the travel matrix (leave at the shift start, wait when early for a window), and
a stop the recomputation cannot fit is dropped, so an engine's quirk can never put an illegal visit
time in a plan. A stop that no crew could make even on its own is never offered to the engine; it
is dropped with the reason a person can act on.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from time import perf_counter
from typing import Literal

from visits.routing.model import Dropped, Plan, PlannedStop, Point, Problem, Route, TravelTimes

Engine = Literal["vroom", "ortools"]

NO_ROOM = "no room in any crew's day (capacity or time)"
# VROOM's skills are integers: "a crew of at least n" is skill n, "crew k only" is _PINNED + k.
_PINNED = 1 << 20
_VROOM_SEARCH_SHARE = 0.3
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)  # the origin of a day without crews: any will do


@dataclass(frozen=True, slots=True)
class _Day:
    """A problem in integers: seconds since `origin` (the earliest shift start), one travel matrix."""

    problem: Problem
    origin: datetime
    distance: list[list[int]]
    duration: list[list[int]]
    stop_at: list[int]  # matrix index of each stop, of each crew's start and of its home
    start_at: list[int]
    home_at: list[int]
    shifts: list[tuple[int, int]]
    windows: list[list[tuple[int, int]]]  # per stop: when its visit may begin, sorted, disjoint

    def may(self, crew: int, stop: int) -> bool:
        """Whether the crew is big enough for the stop and the stop is not kept for another crew."""
        c, s = self.problem.crews[crew], self.problem.stops[stop]
        return c.size >= s.min_crew and s.crew_id in (None, c.crew_id)

    def reach(self, crew: int, stop: int, here: int, ready: int) -> int | None:
        """When the crew, free at matrix point `here` at `ready`, can begin the stop and still be home
        by the end of its shift; None if it cannot."""
        at = self.stop_at[stop]
        arrive = ready + self.duration[here][at]
        begin = next((max(arrive, opens) for opens, last in self.windows[stop] if arrive <= last), None)
        if begin is None:
            return None
        back = begin + self.problem.stops[stop].service_s + self.duration[at][self.home_at[crew]]
        return begin if back <= self.shifts[crew][1] else None

    def at(self, seconds: int) -> datetime:
        return self.origin + timedelta(seconds=seconds)


def solve(
    problem: Problem, travel: TravelTimes, *, time_limit_s: float = 5.0, engine: Engine = "vroom"
) -> Plan:
    """Plan the day with a routing engine; `time_limit_s` is the engine's budget (matrix and checks aside).

    Each stop is planned or dropped with a reason; planned times always pass the matrix check.
    """
    started = perf_counter()
    day = _day(problem, travel)
    reasons = _reasons_alone(day)
    offered = [i for i in range(len(problem.stops)) if i not in reasons]
    prepare_s = perf_counter() - started
    orders = ENGINES[engine](day, offered, time_limit_s) if offered else [[] for _ in problem.crews]
    plan = _plan(day, orders, reasons, solver=engine, started=started)
    plan.stats.update(prepare_s=round(prepare_s, 3), engine_s=round(plan.solve_s - prepare_s, 3))
    return plan


def greedy(problem: Problem, travel: TravelTimes) -> Plan:
    """The nearest-neighbour baseline: crews take turns, each taking the stop it can begin soonest
    (travel plus any wait for its window) and still come home from in time, until none can take
    another. Soonest rather than closest: a stop next door that opens at 16:00 is not near at 09:00."""
    started = perf_counter()
    day = _day(problem, travel)
    reasons = _reasons_alone(day)
    left = {i for i in range(len(problem.stops)) if i not in reasons}
    orders: list[list[int]] = [[] for _ in problem.crews]
    here, ready = list(day.start_at), [start for start, _ in day.shifts]
    busy = [k for k, crew in enumerate(problem.crews) if crew.capacity > 0]
    while busy and left:
        for k in list(busy):
            taken = _soonest(day, k, here[k], ready[k], left)
            if taken is None:
                busy.remove(k)
                continue
            i, begin = taken
            left.discard(i)
            orders[k].append(i)
            here[k], ready[k] = day.stop_at[i], begin + problem.stops[i].service_s
            if len(orders[k]) == problem.crews[k].capacity:
                busy.remove(k)
    return _plan(day, orders, reasons, solver="greedy", started=started)


def _soonest(day: _Day, k: int, here: int, ready: int, left: set[int]) -> tuple[int, int] | None:
    """The stop crew k can begin soonest, and when; scanned by travel time, which bounds the begin."""
    row = day.duration[here]
    best: tuple[int, int, int] | None = None  # begin, travel, stop
    for i in sorted(left, key=lambda i: (row[day.stop_at[i]], i)):
        travel = row[day.stop_at[i]]
        if best is not None and ready + travel > best[0]:
            break
        if day.may(k, i) and (begin := day.reach(k, i, here, ready)) is not None:
            best = min(best or (begin, travel, i), (begin, travel, i))
    return None if best is None else (best[2], best[0])


def _day(problem: Problem, travel: TravelTimes) -> _Day:
    _check(problem)
    points: dict[Point, int] = {}
    for crew in problem.crews:
        points.setdefault(crew.start or crew.home, len(points))
        points.setdefault(crew.home, len(points))
    for stop in problem.stops:
        points.setdefault(stop.location, len(points))
    distance, duration = travel.matrix(list(points))
    origin = min((c.shift.start.astimezone(UTC) for c in problem.crews), default=_EPOCH)

    def seconds(t: datetime, rounding: Callable[[float], int]) -> int:
        return rounding((t - origin).total_seconds())

    return _Day(
        problem=problem,
        origin=origin,
        distance=distance,
        duration=duration,
        stop_at=[points[s.location] for s in problem.stops],
        start_at=[points[c.start or c.home] for c in problem.crews],
        home_at=[points[c.home] for c in problem.crews],
        shifts=[(seconds(c.shift.start, math.ceil), seconds(c.shift.end, math.floor)) for c in problem.crews],
        windows=[
            _merge(
                (max(0, seconds(w.start, math.ceil)), seconds(w.end, math.floor) - s.service_s)
                for w in s.windows
            )
            for s in problem.stops
        ],
    )


def _check(problem: Problem) -> None:
    if len({c.crew_id for c in problem.crews}) < len(problem.crews):
        raise ValueError("crew ids must be unique")
    if len({s.visit_id for s in problem.stops}) < len(problem.stops):
        raise ValueError("visit ids must be unique")
    for stop in problem.stops:
        if not 0 <= stop.priority <= 100 or stop.service_s < 0:
            raise ValueError(f"visit {stop.visit_id}: priority is 0..100 and service time not negative")


def _merge(windows: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for opens, last in sorted(w for w in windows if w[0] <= w[1]):
        if merged and opens <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], last))
        else:
            merged.append((opens, last))
    return merged


def _reasons_alone(day: _Day) -> dict[int, str]:
    """Why each stop that no crew could make on its own is dropped."""
    reasons = {}
    for i in range(len(day.problem.stops)):
        reason = _why_alone(day, i)
        if reason is not None:
            reasons[i] = reason
    return reasons


def _why_alone(day: _Day, i: int) -> str | None:
    stop, crews = day.problem.stops[i], day.problem.crews
    able = [k for k in range(len(crews)) if day.may(k, i)]
    if not able:
        if stop.crew_id is not None:
            if all(c.crew_id != stop.crew_id for c in crews):
                return f"kept for crew {stop.crew_id}, which is not working this day"
            return f"kept for crew {stop.crew_id}, which has fewer than {stop.min_crew} agents"
        if not crews:
            return "no crew in the region"
        return f"no crew of {stop.min_crew} or more in the region"
    if not any(
        max(opens, day.shifts[k][0]) <= min(last, day.shifts[k][1] - stop.service_s)
        for k in able
        for opens, last in day.windows[i]
    ):
        return "outside every crew's shift"
    if all(day.reach(k, i, day.start_at[k], day.shifts[k][0]) is None for k in able):
        return "too far to reach and be back within any crew's shift"
    return None


def _plan(
    day: _Day, orders: list[list[int]], reasons: dict[int, str], *, solver: str, started: float
) -> Plan:
    """The plan for the engine's orders, every time recomputed; what does not fit is dropped."""
    placed: set[int] = set()
    routes = []
    rejected = 0
    for k, order in enumerate(orders):
        here, ready = day.start_at[k], day.shifts[k][0]
        kept: list[tuple[int, int]] = []
        for i in order:
            begin = None
            if i not in placed and len(kept) < day.problem.crews[k].capacity and day.may(k, i):
                begin = day.reach(k, i, here, ready)
            if begin is None:
                rejected += 1
                continue
            kept.append((i, begin))
            placed.add(i)
            here, ready = day.stop_at[i], begin + day.problem.stops[i].service_s
        routes.append(_route(day, k, kept))
    dropped = tuple(
        Dropped(stop.visit_id, reasons.get(i, NO_ROOM))
        for i, stop in enumerate(day.problem.stops)
        if i not in placed
    )
    return Plan(
        routes=tuple(routes),
        dropped=dropped,
        solver=solver,
        solve_s=perf_counter() - started,
        stats={"planned": len(placed), "dropped": len(dropped), "rejected_by_check": rejected},
    )


def _route(day: _Day, k: int, kept: list[tuple[int, int]]) -> Route:
    crew = day.problem.crews[k]
    if not kept:
        return Route(crew_id=crew.crew_id, stops=(), distance_m=0, travel_s=0)
    path = [day.start_at[k], *(day.stop_at[i] for i, _ in kept), day.home_at[k]]
    first_begin = kept[0][1]
    last, last_begin = kept[-1]
    stops = tuple(
        PlannedStop(
            visit_id=day.problem.stops[i].visit_id,
            account_id=day.problem.stops[i].account_id,
            location=day.problem.stops[i].location,
            arrive_at=day.at(begin),
            depart_at=day.at(begin + day.problem.stops[i].service_s),
        )
        for i, begin in kept
    )
    return Route(
        crew_id=crew.crew_id,
        stops=stops,
        distance_m=sum(day.distance[a][b] for a, b in pairwise(path)),
        travel_s=sum(day.duration[a][b] for a, b in pairwise(path)),
        # The wait for the first window is spent at home, not on the doorstep.
        leave_at=day.at(first_begin - day.duration[path[0]][path[1]]),
        back_at=day.at(last_begin + day.problem.stops[last].service_s + day.duration[path[-2]][path[-1]]),
    )


def _skills(day: _Day, i: int) -> set[int]:
    stop = day.problem.stops[i]
    skills = {stop.min_crew} if stop.min_crew > 1 else set()
    if stop.crew_id is not None:
        skills |= {_PINNED + k for k, c in enumerate(day.problem.crews) if c.crew_id == stop.crew_id}
    return skills


def _vroom(day: _Day, offered: list[int], time_limit_s: float) -> list[list[int]]:
    import vroom  # here, not at the top: it brings pandas, a two-second import

    problem = vroom.Input()
    problem.set_durations_matrix("car", day.duration)
    problem.set_costs_matrix("car", day.distance)  # the shortest day, not the quickest
    for k, crew in enumerate(day.problem.crews):
        problem.add_vehicle(
            vroom.Vehicle(
                id=k,
                start=day.start_at[k],
                end=day.home_at[k],
                skills={*range(2, crew.size + 1), _PINNED + k},
                time_window=vroom.TimeWindow(*day.shifts[k]),
                max_tasks=crew.capacity,
            )
        )
    for i in offered:
        stop = day.problem.stops[i]
        problem.add_job(
            vroom.Job(
                id=i,
                location=day.stop_at[i],
                default_service=stop.service_s,
                time_windows=[vroom.TimeWindow(opens, last) for opens, last in day.windows[i]],
                skills=_skills(day, i),
                priority=stop.priority,  # VROOM plans the largest sum of priorities first
            )
        )
    # The timeout bounds only the local search, after the heuristics, and overshoots: on 1,000 stops
    # 1.5 s gave 2.1 s in all, 2.5 s gave 14-17 s. Under a third of the budget keeps the whole in it.
    timeout = timedelta(seconds=time_limit_s * _VROOM_SEARCH_SHARE)
    solution = problem.solve(exploration_level=5, nb_threads=2, timeout=timeout)
    orders: list[list[int]] = [[] for _ in day.problem.crews]
    for route in solution.to_dict()["routes"]:
        orders[int(route["vehicle"])] = [int(step["id"]) for step in route["steps"] if step["type"] == "job"]
    return orders


def _ortools(day: _Day, offered: list[int], time_limit_s: float) -> list[list[int]]:
    from ortools.constraint_solver import pywrapcp, routing_enums_pb2

    crews, stops = day.problem.crews, day.problem.stops
    # Nodes: the offered stops, then each crew's start and home (the engine wants distinct depots).
    at = [day.stop_at[i] for i in offered] + [
        p for k in range(len(crews)) for p in (day.start_at[k], day.home_at[k])
    ]
    service = [stops[i].service_s for i in offered] + [0] * (2 * len(crews))
    starts = [len(offered) + 2 * k for k in range(len(crews))]
    manager = pywrapcp.RoutingIndexManager(len(at), len(crews), starts, [s + 1 for s in starts])
    model = pywrapcp.RoutingModel(manager)
    distance = [[day.distance[a][b] for b in at] for a in at]
    model.SetArcCostEvaluatorOfAllVehicles(model.RegisterTransitMatrix(distance))
    busy = model.RegisterTransitMatrix(
        [[day.duration[a][b] + s for b in at] for a, s in zip(at, service, strict=True)]
    )
    horizon = max(end for _, end in day.shifts)
    model.AddDimension(busy, horizon, horizon, False, "time")
    clock = model.GetDimensionOrDie("time")
    visits = model.RegisterUnaryTransitVector([1] * len(offered) + [0] * (2 * len(crews)))
    model.AddDimensionWithVehicleCapacity(visits, 0, [c.capacity for c in crews], True, "visits")
    for k, (start, end) in enumerate(day.shifts):
        clock.CumulVar(model.Start(k)).SetRange(start, end)
        clock.CumulVar(model.End(k)).SetRange(start, end)
    # Dropping a stop must cost more than any detour (at most twice the longest arc) that fits it in.
    worth = 2 * max(max(row) for row in distance) + 1
    for node, i in enumerate(offered):
        index = manager.NodeToIndex(node)
        windows = day.windows[i]
        begin = clock.CumulVar(index)
        begin.SetRange(windows[0][0], windows[-1][1])
        for (_, last), (opens, _) in pairwise(windows):
            begin.RemoveInterval(last + 1, opens - 1)
        model.AddDisjunction([index], worth * (1 + stops[i].priority))
        allowed = [-1, *(k for k in range(len(crews)) if day.may(k, i))]  # -1: dropped
        model.VehicleVar(index).SetValues(allowed)
    params = pywrapcp.DefaultRoutingSearchParameters()
    params.first_solution_strategy = routing_enums_pb2.FirstSolutionStrategy.LOCAL_CHEAPEST_INSERTION
    params.local_search_metaheuristic = routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
    params.time_limit.FromMilliseconds(round(time_limit_s * 1000))
    solution = model.SolveWithParameters(params)
    orders: list[list[int]] = [[] for _ in crews]
    if solution is None:
        return orders
    for k in range(len(crews)):
        index = solution.Value(model.NextVar(model.Start(k)))
        while not model.IsEnd(index):
            orders[k].append(offered[manager.IndexToNode(index)])
            index = solution.Value(model.NextVar(index))
    return orders


ENGINES: dict[Engine, Callable[[_Day, list[int], float], list[list[int]]]] = {
    "vroom": _vroom,
    "ortools": _ortools,
}
