"""A crew's local shift as an absolute window, and a visit's priority from its amount and DPD."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, time, timedelta
from typing import Final
from zoneinfo import ZoneInfo

from visits.routing.model import Window

_SECOND: Final = timedelta(seconds=1)


def shift_window(day: date, start: str, end: str, tz: str) -> Window:
    """The shift `start`–`end` ("HH:MM", local to `tz`) that begins on `day`, in UTC.

    An end at or before the start means the shift crosses midnight. On a DST day the wall clock is
    honoured: a time the clock skips means the moment it jumps past it (02:30 on a spring-forward
    night is 03:00), and a time it shows twice means its first occurrence. The window is in UTC
    because Python compares and subtracts datetimes of one zone by their wall clocks.
    """
    zone = ZoneInfo(tz)
    opens, closes = _clock(start), _clock(end)
    if opens == closes:
        raise ValueError(f"a shift needs an end different from its start, got {start}-{end}")
    end_day = day if closes > opens else day + timedelta(days=1)
    return Window(
        _first_instant(datetime.combine(day, opens), zone),
        _first_instant(datetime.combine(end_day, closes), zone),
    )


def priority(amount_minor: int, dpd: int) -> int:
    """0..100: 60 points for the amount on a log scale, 40 for the days past due, linearly.

    amount: log10(amount_minor) from 2 (one major unit) to 8 (a million), clamped; dpd: 0 to 180
    days (the usual charge-off age), clamped. A log scale because 2,000 owed is not ten times as
    urgent as 200; the DPD share keeps a small debt that has been overdue for months in the plan.
    """
    amount_share = (math.log10(amount_minor) - 2) / 6 if amount_minor > 0 else 0.0
    dpd_share = dpd / 180
    return round(60 * _clamp(amount_share) + 40 * _clamp(dpd_share))


def _clamp(share: float) -> float:
    return min(1.0, max(0.0, share))


def _clock(hh_mm: str) -> time:
    hours, sep, minutes = hh_mm.partition(":")
    if not (sep and len(hours) == 2 and len(minutes) == 2 and hours.isdigit() and minutes.isdigit()):
        raise ValueError(f"a shift time is HH:MM, got {hh_mm!r}")
    return time(int(hours), int(minutes))  # raises ValueError past 23:59


def _first_instant(wall: datetime, zone: ZoneInfo) -> datetime:
    """The first instant at which the clock in `zone` reads `wall` or later."""
    first, second = sorted(wall.replace(tzinfo=zone, fold=fold).astimezone(UTC) for fold in (0, 1))
    if _reading(first, zone) == wall:
        return first  # an ordinary time, or the first of a repeated one
    # Skipped: the folds lie either side of the jump, which is where the clock first passes `wall`.
    while second - first > _SECOND:
        middle = first + (second - first) / 2
        if _reading(middle, zone) >= wall:
            second = middle
        else:
            first = middle
    return second.replace(microsecond=0)


def _reading(instant: datetime, zone: ZoneInfo) -> datetime:
    return instant.astimezone(zone).replace(tzinfo=None)
