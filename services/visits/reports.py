"""Case analysis for visits (成功/失败案例): what each crew and region achieves at the door."""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from visits import repository as repo

SUCCESS = ("met_promise", "met_paid")


def wilson(successes: int, n: int, z: float = 1.96) -> tuple[float, float] | None:
    """The 95% Wilson score interval of a rate (None with no trials): honest for small counts."""
    if n == 0:
        return None
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return round(max(0.0, centre - half), 4), round(min(1.0, centre + half), 4)


async def visits_report(session: AsyncSession, tenant: str, start: date, end: date) -> dict[str, Any]:
    rows = await repo.visits_between(session, tenant, start, end)
    accounts = await repo.accounts_by_id(session, [r.account_id for r in rows])
    plans = await repo.plans_between(session, tenant, start, end)
    by_crew: dict[str, Counter[str]] = defaultdict(Counter)
    by_region: dict[str, Counter[str]] = defaultdict(Counter)
    promises: Counter[str] = Counter()
    for row in rows:
        if row.state != "completed" or row.outcome is None:
            continue
        region = accounts[row.account_id].region if row.account_id in accounts else None
        by_crew[row.crew_id or "-"][row.outcome] += 1
        by_region[region or "-"][row.outcome] += 1
        if row.promise:
            promises[row.promise.get("state", "active")] += 1
    settled = promises["kept"] + promises["broken"]
    travel_m = sum(p.document.get("distance_m", 0) for p in plans)
    travel_s = sum(p.document.get("travel_s", 0) for p in plans)
    planned = sum(len(p.document.get("stops", [])) for p in plans)
    return {
        "from": start.isoformat(),
        "to": end.isoformat(),
        "by_crew": [_group("crew_id", key, counts) for key, counts in sorted(by_crew.items())],
        "by_region": [_group("region", key, counts) for key, counts in sorted(by_region.items())],
        "door_promises": {
            "made": sum(promises.values()),
            "kept": promises["kept"],
            "broken": promises["broken"],
            "active": promises["active"],
            "kept_rate": round(promises["kept"] / settled, 4) if settled else None,
            "kept_rate_ci95": wilson(promises["kept"], settled),
        },
        "travel": {
            "planned_stops": planned,
            "distance_m_per_visit": round(travel_m / planned) if planned else None,
            "travel_s_per_visit": round(travel_s / planned) if planned else None,
        },
    }


def _group(name: str, key: str, counts: Counter[str]) -> dict[str, Any]:
    made = sum(counts.values())
    success = sum(counts[o] for o in SUCCESS)
    return {
        name: key,
        "visits": made,
        "outcomes": dict(sorted(counts.items())),
        "success_rate": round(success / made, 4) if made else None,
        "success_rate_ci95": wilson(success, made),
    }
