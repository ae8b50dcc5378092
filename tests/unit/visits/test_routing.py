"""Day planning: every plan, from either engine or the baseline, is legal against the travel matrix.

`assert_legal` is the property: each stop planned once or dropped with a reason; each planned visit
inside its crew's shift and one of its windows, reached in time from the previous one, within
capacity, crew size and pinning; times and distances recomputed from the matrix.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from visits.routing.days import priority, shift_window
from visits.routing.model import Crew, Plan, Point, Problem, Route, Stop, Window
from visits.routing.solver import ENGINES, NO_ROOM, greedy, solve
from visits.routing.travel import GreatCircle

pytestmark = pytest.mark.unit

TRAVEL = GreatCircle()
LIMIT_S = 0.2  # instances here are tiny: the engines settle long before this
DAY = date(2026, 6, 10)
SHANGHAI = Point(31.2304, 121.4737)
# Days the clocks change (and an ordinary one), per zone; Sao Paulo changed at midnight until 2019.
ZONE_DAYS = {
    "America/New_York": (date(2026, 3, 8), date(2026, 11, 1), date(2026, 6, 10)),
    "Europe/London": (date(2026, 3, 29), date(2026, 10, 25), date(2026, 1, 15)),
    "Asia/Shanghai": (date(2026, 6, 10),),
    "Australia/Lord_Howe": (date(2026, 4, 5), date(2026, 10, 4), date(2026, 7, 1)),
    "America/Sao_Paulo": (date(2018, 11, 4), date(2019, 2, 16), date(2019, 2, 17), date(2026, 6, 10)),
}
SOLVERS = ("vroom", "ortools", "greedy")


def plan_with(solver: str, problem: Problem) -> Plan:
    if solver == "greedy":
        return greedy(problem, TRAVEL)
    return solve(problem, TRAVEL, time_limit_s=LIMIT_S, engine=solver)


def near(centre: Point, north_km: float, east_km: float) -> Point:
    return Point(centre.lat + north_km / 111.2, centre.lon + east_km / 95.0)


def crew(
    crew_id: str,
    *,
    size: int = 2,
    capacity: int = 10,
    home: Point = SHANGHAI,
    start: Point | None = None,
) -> Crew:
    shift = shift_window(DAY, "09:00", "18:00", "Asia/Shanghai")
    return Crew(crew_id=crew_id, home=home, shift=shift, capacity=capacity, size=size, start=start)


def stop(
    visit_id: str,
    location: Point,
    *,
    windows: tuple[Window, ...] = (shift_window(DAY, "08:00", "22:00", "Asia/Shanghai"),),
    priority: int = 50,
    min_crew: int = 1,
    crew_id: str | None = None,
) -> Stop:
    return Stop(
        visit_id=visit_id,
        account_id=f"acct-{visit_id}",
        location=location,
        windows=windows,
        service_s=1200,
        priority=priority,
        min_crew=min_crew,
        crew_id=crew_id,
    )


def assert_legal(problem: Problem, plan: Plan) -> None:
    crews = {c.crew_id: c for c in problem.crews}
    stops = {s.visit_id: s for s in problem.stops}
    planned = [p.visit_id for r in plan.routes for p in r.stops]
    dropped = [d.visit_id for d in plan.dropped]
    assert sorted(planned + dropped) == sorted(stops), "every stop is planned once or dropped"
    assert all(d.reason for d in plan.dropped)
    assert sorted(r.crew_id for r in plan.routes) == sorted(crews)
    for route in plan.routes:
        assert_route_legal(crews[route.crew_id], route, stops)


def assert_route_legal(crew: Crew, route: Route, stops: dict[str, Stop]) -> None:
    if not route.stops:
        assert (route.distance_m, route.travel_s, route.leave_at, route.back_at) == (0, 0, None, None)
        return
    assert len(route.stops) <= crew.capacity
    path = [crew.start or crew.home, *(p.location for p in route.stops), crew.home]
    distance, duration = TRAVEL.matrix(path)
    legs = list(pairwise(range(len(path))))
    assert route.distance_m == sum(distance[a][b] for a, b in legs)
    assert route.travel_s == sum(duration[a][b] for a, b in legs)
    assert route.leave_at is not None and route.back_at is not None
    assert crew.shift.start <= route.leave_at and route.back_at <= crew.shift.end
    free_at = route.leave_at
    for n, planned in enumerate(route.stops, start=1):
        visit = stops[planned.visit_id]
        assert planned.arrive_at.tzinfo is not None
        assert visit.min_crew <= crew.size
        assert visit.crew_id in (None, crew.crew_id)
        assert planned.depart_at - planned.arrive_at == timedelta(seconds=visit.service_s)
        assert any(w.contains(planned.arrive_at, planned.depart_at) for w in visit.windows)
        assert crew.shift.contains(planned.arrive_at, planned.depart_at)
        assert planned.arrive_at >= free_at + timedelta(seconds=duration[n - 1][n]), "travel time respected"
        free_at = planned.depart_at
    assert route.back_at == free_at + timedelta(seconds=duration[-2][-1])


@pytest.mark.parametrize("solver", SOLVERS)
def test_an_empty_day_is_an_empty_plan(solver: str) -> None:
    plan = plan_with(solver, Problem(crews=(), stops=()))
    assert (plan.routes, plan.dropped) == ((), ())


@pytest.mark.parametrize("solver", SOLVERS)
def test_without_crews_every_stop_is_dropped_with_the_reason(solver: str) -> None:
    problem = Problem(crews=(), stops=(stop("a", SHANGHAI),))
    assert [(d.visit_id, d.reason) for d in plan_with(solver, problem).dropped] == [
        ("a", "no crew in the region")
    ]


@pytest.mark.parametrize("solver", SOLVERS)
def test_infeasible_stops_are_dropped_with_reasons_and_the_rest_planned(solver: str) -> None:
    evening = shift_window(DAY, "19:00", "21:00", "Asia/Shanghai")
    problem = Problem(
        crews=(crew("c1", size=1), crew("c2", home=near(SHANGHAI, 3, 0))),
        stops=(
            stop("late", near(SHANGHAI, 1, 1), windows=(evening,)),
            stop("far", near(SHANGHAI, 500, 0)),
            stop("pair", near(SHANGHAI, 0, 2), min_crew=3),
            *(stop(f"ok{n}", near(SHANGHAI, n, -n)) for n in range(4)),
        ),
    )
    plan = plan_with(solver, problem)
    assert_legal(problem, plan)
    assert {d.visit_id: d.reason for d in plan.dropped} == {
        "late": "outside every crew's shift",
        "far": "too far to reach and be back within any crew's shift",
        "pair": "no crew of 3 or more in the region",
    }


@pytest.mark.parametrize("solver", SOLVERS)
def test_a_visit_for_two_never_goes_to_a_crew_of_one(solver: str) -> None:
    problem = Problem(
        crews=(crew("solo", size=1), crew("pair", size=2, capacity=3, home=near(SHANGHAI, 10, 10))),
        stops=tuple(stop(f"s{n}", near(SHANGHAI, 0.3 * n, 0), min_crew=2) for n in range(5)),
    )
    plan = plan_with(solver, problem)
    assert_legal(problem, plan)
    assert {r.crew_id: len(r.stops) for r in plan.routes} == {"solo": 0, "pair": 3}
    assert {d.reason for d in plan.dropped} == {NO_ROOM}


@pytest.mark.parametrize("solver", SOLVERS)
def test_pinned_stops_go_to_their_crew(solver: str) -> None:
    problem = Problem(
        crews=(crew("near"), crew("far", home=near(SHANGHAI, 15, 15))),
        stops=(
            stop("kept", near(SHANGHAI, 0.5, 0), crew_id="far"),
            stop("free", near(SHANGHAI, 0.5, 0.2)),
            stop("orphan", near(SHANGHAI, 0.1, 0), crew_id="gone"),
        ),
    )
    plan = plan_with(solver, problem)
    assert_legal(problem, plan)
    owner = {p.visit_id: r.crew_id for r in plan.routes for p in r.stops}
    assert owner["kept"] == "far"
    assert [(d.visit_id, d.reason) for d in plan.dropped] == [
        ("orphan", "kept for crew gone, which is not working this day")
    ]


@pytest.mark.parametrize("solver", ["vroom", "ortools"])
def test_when_a_day_is_full_the_higher_priority_stays(solver: str) -> None:
    problem = Problem(
        crews=(crew("c", capacity=2),),
        stops=tuple(stop(f"p{p}", near(SHANGHAI, 1, 0.01 * p), priority=p) for p in (10, 90, 20, 80)),
    )
    plan = plan_with(solver, problem)
    assert_legal(problem, plan)
    assert sorted(p.visit_id for p in plan.routes[0].stops) == ["p80", "p90"]


@pytest.mark.parametrize("solver", SOLVERS)
def test_a_crew_replanned_mid_day_leaves_from_its_last_stop(solver: str) -> None:
    started = near(SHANGHAI, 5, 5)
    problem = Problem(crews=(crew("c", start=started),), stops=(stop("a", near(SHANGHAI, 5, 6)),))
    plan = plan_with(solver, problem)
    assert_legal(problem, plan)
    distance, _ = TRAVEL.matrix([started, near(SHANGHAI, 5, 6), SHANGHAI])
    assert plan.routes[0].distance_m == distance[0][1] + distance[1][2]


def test_an_engine_quirk_never_reaches_the_plan(monkeypatch: pytest.MonkeyPatch) -> None:
    """An engine that puts every stop on the crew of one, twice, backwards: the check keeps what fits."""

    def quirky(day: object, offered: list[int], time_limit_s: float) -> list[list[int]]:
        return [offered[::-1] * 2, []]

    monkeypatch.setitem(ENGINES, "vroom", quirky)
    narrow = shift_window(DAY, "09:00", "09:40", "Asia/Shanghai")
    problem = Problem(
        crews=(crew("solo", size=1, capacity=3), crew("pair")),
        stops=(
            stop("early", near(SHANGHAI, 2, 0), windows=(narrow,)),
            stop("pair", near(SHANGHAI, 0, 2), min_crew=2),
            *(stop(f"s{n}", near(SHANGHAI, n, n)) for n in range(4)),
        ),
    )
    plan = solve(problem, TRAVEL, engine="vroom")
    assert_legal(problem, plan)
    assert {d.visit_id: d.reason for d in plan.dropped}["early"] == NO_ROOM
    assert plan.stats["rejected_by_check"] > 0


ZONES = st.sampled_from(sorted(ZONE_DAYS))
CLOCK = st.builds(lambda h, m: f"{h:02d}:{m:02d}", st.integers(0, 23), st.sampled_from([0, 15, 30, 45, 59]))


@st.composite
def dst_days(draw: st.DrawFn) -> Problem:
    """A few crews and stops in one zone on a day its clocks may change, shifts and windows local."""
    zone = draw(ZONES)
    day = draw(st.sampled_from(ZONE_DAYS[zone]))

    def window() -> Window:
        start, end = draw(CLOCK), draw(CLOCK)
        return (
            shift_window(day, start, end, zone) if start != end else shift_window(day, "00:00", "12:00", zone)
        )

    crews = tuple(
        Crew(
            crew_id=f"c{k}",
            home=near(SHANGHAI, draw(st.floats(-3, 3)), draw(st.floats(-3, 3))),
            shift=window(),
            capacity=draw(st.integers(0, 4)),
            size=draw(st.integers(1, 3)),
        )
        for k in range(draw(st.integers(1, 3)))
    )
    stops = tuple(
        Stop(
            visit_id=f"s{n}",
            account_id=f"a{n}",
            location=near(SHANGHAI, draw(st.floats(-4, 4)), draw(st.floats(-4, 4))),
            windows=tuple(window() for _ in range(draw(st.integers(1, 2)))),
            service_s=draw(st.integers(0, 45 * 60)),
            priority=draw(st.integers(0, 100)),
            min_crew=draw(st.integers(1, 2)),
            crew_id=draw(st.sampled_from([None, None, None, "c0", "c9"])),
        )
        for n in range(draw(st.integers(0, 8)))
    )
    return Problem(crews=crews, stops=stops)


@pytest.mark.parametrize("solver", SOLVERS)
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problem=dst_days())
def test_every_plan_is_legal_on_any_zone_and_dst_day(solver: str, problem: Problem) -> None:
    assert_legal(problem, plan_with(solver, problem))


@settings(max_examples=200)
@given(zone=ZONES, data=st.data(), start=CLOCK, end=CLOCK)
def test_a_shift_begins_the_first_moment_the_clock_reads_its_start(
    zone: str, data: st.DataObject, start: str, end: str
) -> None:
    day = data.draw(st.sampled_from(ZONE_DAYS[zone]))
    if start == end:
        with pytest.raises(ValueError, match="end different"):
            shift_window(day, start, end, zone)
        return
    window = shift_window(day, start, end, zone)
    wall = datetime.combine(day, datetime.strptime(start, "%H:%M").time())

    def reading(t: datetime) -> datetime:
        return t.astimezone(ZoneInfo(zone)).replace(tzinfo=None)

    assert window.start.tzinfo is UTC and window.end.tzinfo is UTC
    assert reading(window.start - timedelta(seconds=1)) < wall <= reading(window.start)
    # Empty only when both ends fall in the hour the clocks skip (London, 01:00-01:45 on 29 March).
    assert timedelta(0) <= window.end - window.start <= timedelta(hours=26)


@pytest.mark.parametrize(
    ("zone", "day", "start", "end", "expected"),
    [
        # New York springs forward at 02:00: 02:30 is skipped, the shift starts at the jump (03:00 EDT).
        ("America/New_York", date(2026, 3, 8), "02:30", "10:00", ("2026-03-08T07:00", "2026-03-08T14:00")),
        # ... and falls back at 02:00: 01:30 happens twice, the first time is EDT.
        ("America/New_York", date(2026, 11, 1), "01:30", "09:00", ("2026-11-01T05:30", "2026-11-01T14:00")),
        # Lord Howe moves half an hour; a night shift across its spring-forward.
        (
            "Australia/Lord_Howe",
            date(2026, 10, 3),
            "22:00",
            "06:00",
            ("2026-10-03T11:30", "2026-10-03T19:00"),
        ),
        # Sao Paulo sprang forward at midnight in 2018: 00:00 did not exist on 4 November.
        ("America/Sao_Paulo", date(2018, 11, 4), "00:00", "08:00", ("2018-11-04T03:00", "2018-11-04T10:00")),
        ("Asia/Shanghai", date(2026, 6, 10), "09:00", "18:00", ("2026-06-10T01:00", "2026-06-10T10:00")),
    ],
)
def test_shift_windows_on_dst_days(
    zone: str, day: date, start: str, end: str, expected: tuple[str, str]
) -> None:
    window = shift_window(day, start, end, zone)
    assert (window.start, window.end) == tuple(
        datetime.fromisoformat(t).replace(tzinfo=UTC) for t in expected
    )


@pytest.mark.parametrize("bad", ["9:00", "24:00", "09:60", "0900", "ab:cd"])
def test_a_shift_time_is_hh_mm(bad: str) -> None:
    with pytest.raises(ValueError):  # noqa: PT011  (the message is the parser's or datetime's)
        shift_window(DAY, bad, "18:00", "Asia/Shanghai")


@pytest.mark.parametrize(
    ("amount_minor", "dpd", "expected"),
    [(0, 0, 0), (100, 0, 0), (1_000_000, 0, 40), (100_000_000, 0, 60), (100, 180, 40), (10**12, 9999, 100)],
)
def test_priority_table(amount_minor: int, dpd: int, expected: int) -> None:
    assert priority(amount_minor, dpd) == expected


@given(st.integers(-10, 10**10), st.integers(-10, 400), st.integers(0, 10**9), st.integers(0, 100))
def test_priority_grows_with_money_and_days(amount: int, dpd: int, more_money: int, more_days: int) -> None:
    base = priority(amount, dpd)
    assert 0 <= base <= 100
    assert priority(amount + more_money, dpd) >= base
    assert priority(amount, dpd + more_days) >= base
