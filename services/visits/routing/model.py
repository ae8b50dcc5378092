"""The day-planning problem and its answer, in plain values (no database, no clock, no I/O).

A `Problem` is one region's day: crews with a shift, a home and a capacity, and stops (visits) each
with the windows in which compliance permits the visit, a service time, a priority and the crew size
it needs. A solver answers with a `Plan`: one `Route` per crew (stops in order, starting and ending
at the crew's home) and the stops it `Dropped`, each with the reason.

All times are timezone-aware datetimes (UTC is fine); windows are half-open [start, end).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True, slots=True)
class Point:
    lat: float
    lon: float


@dataclass(frozen=True, slots=True)
class Window:
    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ValueError("window times must be timezone-aware")

    def contains(self, start: datetime, end: datetime) -> bool:
        """Whether [start, end] lies inside the window."""
        return self.start <= start and end <= self.end


@dataclass(frozen=True, slots=True)
class Crew:
    crew_id: str
    home: Point  # the first agent's home: every route starts and ends here
    shift: Window  # the day's working time, absolute (the agents' local shift on the plan's date)
    capacity: int  # most visits in the day (the smallest max_visits_per_day of its agents)
    size: int  # number of agents (a CN visit needs at least two)
    # Re-planning a day that has begun: the crew leaves from here (its last checked-in stop) at
    # shift.start instead of from home.
    start: Point | None = None


@dataclass(frozen=True, slots=True)
class Stop:
    visit_id: str
    account_id: str
    location: Point
    windows: tuple[Window, ...]  # when compliance permits the visit; the visit must start and end inside one
    service_s: int  # time spent at the door
    priority: int  # 0..100; higher is more important (by amount and DPD); the penalty for dropping it
    min_crew: int = 1  # the smallest crew that may make the visit
    crew_id: str | None = None  # only this crew may make it (a stop kept from an earlier plan)


@dataclass(frozen=True, slots=True)
class Problem:
    crews: Sequence[Crew]
    stops: Sequence[Stop]


@dataclass(frozen=True, slots=True)
class PlannedStop:
    visit_id: str
    account_id: str
    location: Point
    arrive_at: datetime  # the visit starts (service begins; waiting for the window happens before)
    depart_at: datetime  # arrive_at + service time


@dataclass(frozen=True, slots=True)
class Route:
    crew_id: str
    stops: tuple[PlannedStop, ...]
    distance_m: int  # home → stops → home
    travel_s: int
    leave_at: datetime | None = None  # when the crew leaves its start point (None: an empty route)
    back_at: datetime | None = None  # when it is back home


@dataclass(frozen=True, slots=True)
class Dropped:
    visit_id: str
    reason: str  # for a person: "no crew of 2 or more in the region", "outside every crew's shift", ...


@dataclass(frozen=True, slots=True)
class Plan:
    routes: tuple[Route, ...]
    dropped: tuple[Dropped, ...]
    solver: str  # "ortools", "vroom", "greedy"
    solve_s: float = 0.0
    stats: dict[str, float] = field(default_factory=dict)

    @property
    def distance_m(self) -> int:
        return sum(route.distance_m for route in self.routes)


class TravelTimes(Protocol):
    """Distances (m) and driving times (s) between points; a routing engine (OSRM, Valhalla) can
    implement it. `matrix(points)[0][i][j]` is the distance from points[i] to points[j]."""

    def matrix(self, points: Sequence[Point]) -> tuple[list[list[int]], list[list[int]]]: ...
