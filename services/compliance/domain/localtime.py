"""Wall-clock time in the borrower's zones, and the time constraints the permit engine solves.

A constraint blocks some instants and knows the edges of what it blocks: `opens_at` (the earliest
instant at or after a blocked `t` that it allows) and `closes_at` (the earliest instant after an
allowed `t` that it blocks). The engine never steps minute by minute; it jumps between those edges.
Daylight-saving days are handled by reading wall clocks through `zoneinfo`: 08:00 on a DST day is
still 08:00 local, a wall time skipped by the clock opens when the clock jumps past it, and a wall
time that occurs twice opens at its first occurrence still to come.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Final, Protocol
from zoneinfo import ZoneInfo

from compliance.domain.model import WEEKDAYS, Reason, Weekday

_SECOND: Final = timedelta(seconds=1)


def wall_clock(t: datetime, zone: ZoneInfo) -> datetime:
    """The naive wall-clock reading of instant `t` in `zone`."""
    return t.astimezone(zone).replace(tzinfo=None)


def local_date(t: datetime, zone: ZoneInfo) -> date:
    return t.astimezone(zone).date()


def weekday_name(day: date) -> Weekday:
    return WEEKDAYS[day.weekday()]


def first_reading_at_or_after(zone: ZoneInfo, wall: datetime, not_before: datetime) -> datetime:
    """The earliest instant `u >= not_before` at which the clock in `zone` reads `wall` or later."""
    if wall_clock(not_before, zone) >= wall:
        return not_before
    # A wall time maps to one instant, two (clocks set back: fold 0 is the first) or none (clocks
    # set forward: the clock jumps over it at the transition, which lies between the two folds).
    folds = sorted(wall.replace(tzinfo=zone, fold=fold).astimezone(UTC) for fold in (0, 1))
    candidates = [u for u in folds if u >= not_before and wall_clock(u, zone) >= wall]
    low, high = folds
    if low != high and wall_clock(low, zone) < wall <= wall_clock(high, zone):
        transition = _first_instant_reading(zone, wall, low, high)
        if transition >= not_before:
            candidates.append(transition)
    if not candidates:
        raise RuntimeError(f"no instant after {not_before.isoformat()} reads {wall.isoformat()} in {zone}")
    return min(candidates)


def _first_instant_reading(zone: ZoneInfo, wall: datetime, low: datetime, high: datetime) -> datetime:
    """Bisect (to the second) for the instant in (low, high] where the clock first reads `wall` or later."""
    while high - low > _SECOND:
        middle = low + _SECOND * max(1, (high - low) // _SECOND // 2)
        if wall_clock(middle, zone) >= wall:
            high = middle
        else:
            low = middle
    return high


def within(clock: time, start: time, end: time) -> bool:
    """Is wall time `clock` in the daily window [start, end)? Wraps past midnight; start == end is all day."""
    if start == end:
        return True
    if start < end:
        return start <= clock < end
    return clock >= start or clock < end


class TimeConstraint(Protocol):
    """A time-based rule, reduced to the instants it blocks."""

    @property
    def reason(self) -> Reason: ...

    def blocks(self, t: datetime) -> bool: ...

    def opens_at(self, t: datetime) -> datetime:
        """Earliest instant >= t that this constraint allows (t must be blocked)."""
        ...

    def closes_at(self, t: datetime) -> datetime | None:
        """Earliest instant > t that this constraint blocks (t must be allowed); None if never."""
        ...


@dataclass(frozen=True, slots=True)
class DailyHours:
    """Allows only the local wall-clock window [start, end) of every day in `zone`."""

    zone: ZoneInfo
    start: time
    end: time
    reason: Reason

    def blocks(self, t: datetime) -> bool:
        return not within(wall_clock(t, self.zone).time(), self.start, self.end)

    def opens_at(self, t: datetime) -> datetime:
        reading = wall_clock(t, self.zone)
        day = reading.date() if reading.time() < self.start else reading.date() + timedelta(days=1)
        return first_reading_at_or_after(self.zone, datetime.combine(day, self.start), t)

    def closes_at(self, t: datetime) -> datetime | None:
        if self.start == self.end:
            return None
        reading = wall_clock(t, self.zone)
        day = reading.date()
        if self.start > self.end and reading.time() >= self.start:
            day += timedelta(days=1)
        return first_reading_at_or_after(self.zone, datetime.combine(day, self.end), t)


@dataclass(frozen=True, slots=True)
class WeeklyBlock:
    """Blocks [start, end) local time from each of `weekdays` (past midnight when end <= start)."""

    zone: ZoneInfo
    weekdays: frozenset[Weekday]
    start: time
    end: time
    reason: Reason

    def _span(self, day: date) -> tuple[datetime, datetime]:
        begin = datetime.combine(day, self.start)
        finish = datetime.combine(day, self.end)
        return begin, finish if finish > begin else finish + timedelta(days=1)

    def _covering(self, reading: datetime) -> tuple[datetime, datetime] | None:
        for day in (reading.date(), reading.date() - timedelta(days=1)):
            if weekday_name(day) in self.weekdays:
                begin, finish = self._span(day)
                if begin <= reading < finish:
                    return begin, finish
        return None

    def blocks(self, t: datetime) -> bool:
        return self._covering(wall_clock(t, self.zone)) is not None

    def opens_at(self, t: datetime) -> datetime:
        span = self._covering(wall_clock(t, self.zone))
        return t if span is None else first_reading_at_or_after(self.zone, span[1], t)

    def closes_at(self, t: datetime) -> datetime | None:
        reading = wall_clock(t, self.zone)
        for offset in range(8):
            day = reading.date() + timedelta(days=offset)
            if weekday_name(day) in self.weekdays:
                begin, _ = self._span(day)
                if begin > reading:
                    return first_reading_at_or_after(self.zone, begin, t)
        return None


@dataclass(frozen=True, slots=True)
class BlockedUntil:
    """Blocks every instant before `until` (a rolling count that drains as old attempts age out)."""

    until: datetime
    reason: Reason

    def blocks(self, t: datetime) -> bool:
        return t < self.until

    def opens_at(self, t: datetime) -> datetime:
        return max(t, self.until)

    def closes_at(self, t: datetime) -> datetime | None:
        return None


@dataclass(frozen=True, slots=True)
class BlockedUntilLocal:
    """Blocks until the clock in `zone` reads `wall` (a local day rolling over, a cooldown ending)."""

    zone: ZoneInfo
    wall: datetime
    reason: Reason

    def blocks(self, t: datetime) -> bool:
        return wall_clock(t, self.zone) < self.wall

    def opens_at(self, t: datetime) -> datetime:
        return first_reading_at_or_after(self.zone, self.wall, t)

    def closes_at(self, t: datetime) -> datetime | None:
        return None
