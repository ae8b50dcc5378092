"""Day planning for field crews, in process (no stack): each routing engine against the nearest-neighbour
baseline on a seeded random city around Shanghai.

One region is 1,000 visits and 50 crews of two (shift 09:00-18:00 Asia/Shanghai, 25 visits each,
20 minutes at the door, visits permitted 08:00-22:00 local, a fifth of them in a narrower window the
borrower asked for). The large case is ten such regions, 10,000 visits and 500 crews, solved region
by region as `POST /v1/plans:build` does. Targets: one region in <= 10 s, distance <= 0.8 of the
baseline's, no more stops dropped than the baseline. The first VROOM plan of the run also pays for
importing it (about 2 s: it brings pandas), as the first plan of a service process would.
"""

from __future__ import annotations

import math
import random
from datetime import date
from importlib.metadata import version
from typing import Any, get_args

from visits.routing.days import priority, shift_window
from visits.routing.model import Crew, Plan, Point, Problem, Stop, Window
from visits.routing.solver import Engine, greedy, solve
from visits.routing.travel import GreatCircle

DAY = date(2026, 12, 1)
ZONE = "Asia/Shanghai"
SHANGHAI = Point(31.2304, 121.4737)
RADIUS_KM = 20.0
NARROW = (("09:00", "11:00"), ("10:00", "13:00"), ("14:00", "17:00"), ("16:30", "20:00"))


def city(seed: int, *, visits: int = 1_000, crews: int = 50, centre: Point = SHANGHAI) -> Problem:
    """A region's day: stops denser towards the centre, crews living anywhere in it."""
    rng = random.Random(seed)
    shift = shift_window(DAY, "09:00", "18:00", ZONE)
    permitted = shift_window(DAY, "08:00", "22:00", ZONE)
    team = [
        Crew(crew_id=f"c{seed}-{k}", home=_place(rng, centre), shift=shift, capacity=25, size=2)
        for k in range(crews)
    ]
    stops = []
    for n in range(visits):
        windows: tuple[Window, ...] = (permitted,)
        if rng.random() < 0.2:
            windows = (shift_window(DAY, *rng.choice(NARROW), ZONE),)
        amount = round(rng.lognormvariate(math.log(500_000), 1.0))
        stops.append(
            Stop(
                visit_id=f"v{seed}-{n}",
                account_id=f"a{seed}-{n}",
                location=_place(rng, centre),
                windows=windows,
                service_s=20 * 60,
                priority=priority(amount, rng.randint(30, 180)),
                min_crew=2,
            )
        )
    return Problem(crews=team, stops=stops)


def _place(rng: random.Random, centre: Point) -> Point:
    """Half uniform over the disc, half gathered around the centre (sigma 6 km)."""
    while True:
        if rng.random() < 0.5:
            r, theta = RADIUS_KM * math.sqrt(rng.random()), rng.uniform(0, 2 * math.pi)
            x, y = r * math.cos(theta), r * math.sin(theta)
        else:
            x, y = rng.gauss(0, 6), rng.gauss(0, 6)
        if math.hypot(x, y) <= RADIUS_KM:
            return Point(
                centre.lat + y / 111.32, centre.lon + x / (111.32 * math.cos(math.radians(centre.lat)))
            )


def _regions(count: int) -> list[Problem]:
    """Districts side by side, five to a row, each its own city."""
    return [
        city(100 + n, centre=Point(SHANGHAI.lat + 0.4 * (n // 5), SHANGHAI.lon + 0.45 * (n % 5)))
        for n in range(count)
    ]


def _row(size: str, solver: str, plans: list[Plan], baseline: list[Plan]) -> dict[str, Any]:
    distance = sum(p.distance_m for p in plans)
    dropped = sum(len(p.dropped) for p in plans)
    return {
        "size": size,
        "solver": solver,
        "solve_s": round(sum(p.solve_s for p in plans), 2),
        "slowest_region_s": round(max(p.solve_s for p in plans), 2),
        "distance_km": round(distance / 1000, 1),
        "planned": sum(len(s.stops) for p in plans for s in p.routes),
        "dropped": dropped,
        "rejected_by_check": sum(int(p.stats["rejected_by_check"]) for p in plans),
        "distance_ratio": round(distance / sum(p.distance_m for p in baseline), 3),
        "dropped_vs_greedy": dropped - sum(len(p.dropped) for p in baseline),
    }


def run(*, time_limit_s: float = 5.0, regions: int = 10) -> list[dict[str, Any]]:
    """One row per size and solver; the engines' rows compared with the baseline's."""
    travel = GreatCircle()
    rows = []
    sizes = (("1,000 / 50", [city(1)]), (f"{1_000 * regions:,} / {50 * regions}", _regions(regions)))
    for size, problems in sizes:
        baseline = [greedy(p, travel) for p in problems]
        rows.append(_row(size, "greedy", baseline, baseline))
        print(rows[-1], flush=True)
        engine: Engine
        for engine in get_args(Engine):
            plans = [solve(p, travel, time_limit_s=time_limit_s, engine=engine) for p in problems]
            package = {"vroom": "pyvroom", "ortools": "ortools"}[engine]
            rows.append(_row(size, f"{engine} {version(package)}", plans, baseline))
            print(rows[-1], flush=True)
    return rows
