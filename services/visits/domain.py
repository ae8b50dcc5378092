"""What a visit case may do, as plain functions: which events cancel it, the window its permit is
asked for, whether a check-in is acceptable. No database and no clock of its own."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

# hold.set kinds that end a planned visit for good (the others narrow other channels only).
CANCELLING_HOLDS = frozenset(
    {"cease_communication", "attorney", "bankruptcy", "deceased", "do_not_visit", "vulnerable"}
)

EARTH_RADIUS_M = 6_371_000.0


def zone_of(timezones: list[str] | tuple[str, ...]) -> ZoneInfo:
    """The borrower's first known zone (compliance checks all of them), UTC when none is known."""
    for name in timezones:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            continue
    return ZoneInfo("UTC")


def local_day(at: datetime, zone: ZoneInfo) -> date:
    return at.astimezone(zone).date()


def permit_window(day: date, zone: ZoneInfo, now: datetime) -> tuple[datetime, datetime]:
    """The span a visit on `day` asks compliance about: the borrower's local day from now on.
    Compliance answers with the part of it the rules permit (an allow until the hours close, or a
    deferral to when they open)."""
    start = datetime.combine(day, time(0), zone)
    end = datetime.combine(day + timedelta(days=1), time(0), zone)
    return max(start, now), end


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle (haversine) distance in metres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


@dataclass(frozen=True)
class CheckInRefusal:
    field: str
    message: str


def check_in_refusals(
    *,
    at: datetime,
    window_start: datetime | None,
    window_end: datetime | None,
    crew_size: int,
    permit_crew_size: int | None,
    id_shown: bool,
    recording_required: bool,
    recording_id: str | None,
) -> list[CheckInRefusal]:
    """Why a check-in must be refused, if it must: outside the permit's window, a smaller crew than
    the permit was given for, no identification shown, or no recording where the law asks for one."""
    refusals = []
    if window_start is None or window_end is None:
        refusals.append(CheckInRefusal("at", "the visit has no permit"))
    elif not (window_start <= at < window_end):
        refusals.append(
            CheckInRefusal(
                "at",
                f"{at.isoformat()} is outside the permit's window "
                f"[{window_start.isoformat()}, {window_end.isoformat()})",
            )
        )
    if permit_crew_size is not None and crew_size < permit_crew_size:
        refusals.append(
            CheckInRefusal(
                "crew_id",
                f"the permit is for a crew of {permit_crew_size} or more; this crew has {crew_size}",
            )
        )
    if not id_shown:
        refusals.append(CheckInRefusal("id_shown", "the crew must show identification"))
    if recording_required and not recording_id:
        refusals.append(
            CheckInRefusal(
                "recording_id", "this jurisdiction requires the visit to be recorded from the start"
            )
        )
    return refusals
