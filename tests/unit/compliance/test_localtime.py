"""Wall-clock primitives on DST days: skipped and repeated local times never crash, edges are exact."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from compliance.domain.engine import earliest_open
from compliance.domain.localtime import (
    BlockedUntilLocal,
    DailyHours,
    WeeklyBlock,
    first_reading_at_or_after,
    wall_clock,
    within,
)
from compliance.domain.model import Reason
from tests.unit.compliance.builders import LONDON, NEW_YORK

pytestmark = pytest.mark.unit

WHY = Reason(rule="TEST.rule", message="test", citation="test")
HAVANA = ZoneInfo("America/Havana")  # springs forward at midnight: 00:00-00:59 does not exist that day
CAIRO = ZoneInfo("Africa/Cairo")  # falls back at midnight: 23:00-23:59 happens twice


@pytest.mark.parametrize(
    ("zone", "wall", "not_before", "expected"),
    [
        # An ordinary day.
        (
            NEW_YORK,
            datetime(2026, 6, 10, 8),
            datetime(2026, 6, 10, 0, tzinfo=UTC),
            datetime(2026, 6, 10, 12, tzinfo=UTC),
        ),
        # Skipped: 02:30 does not exist on 2026-03-08 in New York; the clock jumps past it at 07:00 UTC.
        (
            NEW_YORK,
            datetime(2026, 3, 8, 2, 30),
            datetime(2026, 3, 8, 0, tzinfo=UTC),
            datetime(2026, 3, 8, 7, tzinfo=UTC),
        ),
        (
            LONDON,
            datetime(2026, 3, 29, 1, 30),
            datetime(2026, 3, 28, 0, tzinfo=UTC),
            datetime(2026, 3, 29, 1, tzinfo=UTC),
        ),
        # Repeated: 01:30 on 2026-11-01 in New York happens at 05:30 and 06:30 UTC.
        (
            NEW_YORK,
            datetime(2026, 11, 1, 1, 30),
            datetime(2026, 11, 1, 0, tzinfo=UTC),
            datetime(2026, 11, 1, 5, 30, tzinfo=UTC),
        ),
        (
            NEW_YORK,
            datetime(2026, 11, 1, 1, 45),
            datetime(2026, 11, 1, 6, 15, tzinfo=UTC),
            datetime(2026, 11, 1, 6, 45, tzinfo=UTC),
        ),
        # Already there.
        (
            NEW_YORK,
            datetime(2026, 6, 10, 8),
            datetime(2026, 6, 10, 13, tzinfo=UTC),
            datetime(2026, 6, 10, 13, tzinfo=UTC),
        ),
    ],
)
def test_first_reading_at_or_after(
    zone: ZoneInfo, wall: datetime, not_before: datetime, expected: datetime
) -> None:
    assert first_reading_at_or_after(zone, wall, not_before) == expected


@pytest.mark.parametrize(
    ("clock", "start", "end", "expected"),
    [
        (time(8), time(8), time(21), True),
        (time(21), time(8), time(21), False),
        (time(7, 59), time(8), time(21), False),
        (time(23), time(20), time(2), True),
        (time(1, 59), time(20), time(2), True),
        (time(2), time(20), time(2), False),
        (time(3), time(0), time(0), True),
    ],
)
def test_within(clock: time, start: time, end: time, expected: bool) -> None:
    assert within(clock, start, end) is expected


def test_local_midnight_that_does_not_exist() -> None:
    # Havana springs forward at 00:00 on 2026-03-08: the new day starts at 01:00 local.
    rollover = BlockedUntilLocal(HAVANA, datetime(2026, 3, 8), WHY)
    at = datetime(2026, 3, 7, 23, 30, tzinfo=HAVANA)
    opens = rollover.opens_at(at)
    assert wall_clock(opens, HAVANA) == datetime(2026, 3, 8, 1, 0)
    assert not rollover.blocks(opens) and rollover.blocks(opens - timedelta(seconds=1))


def test_daily_hours_on_a_day_that_repeats_an_hour() -> None:
    hours = DailyHours(CAIRO, time(8), time(23), WHY)
    at = datetime(2026, 10, 29, 23, 30, tzinfo=CAIRO, fold=1)
    assert hours.blocks(at)
    opens = hours.opens_at(at)
    assert wall_clock(opens, CAIRO).time() == time(8) and opens > at


def test_weekly_block_across_midnight() -> None:
    friday_night = WeeklyBlock(NEW_YORK, frozenset({"fri"}), time(20), time(9), WHY)
    saturday_morning = datetime(2026, 6, 13, 8, tzinfo=NEW_YORK)
    assert friday_night.blocks(saturday_morning)
    assert friday_night.opens_at(saturday_morning) == datetime(2026, 6, 13, 9, tzinfo=NEW_YORK)
    thursday = datetime(2026, 6, 11, 12, tzinfo=NEW_YORK)
    assert not friday_night.blocks(thursday)
    assert friday_night.closes_at(thursday) == datetime(2026, 6, 12, 20, tzinfo=NEW_YORK)


def test_earliest_open_gives_up_beyond_the_horizon() -> None:
    # Two zones 12 hours apart with 6-hour windows never agree.
    constraints = [
        DailyHours(ZoneInfo("Etc/GMT"), time(9), time(15), WHY),
        DailyHours(ZoneInfo("Etc/GMT-12"), time(9), time(15), WHY),
    ]
    assert earliest_open(constraints, datetime(2026, 6, 10, tzinfo=UTC)) is None


ZONES = [
    "America/New_York",
    "America/Los_Angeles",
    "Pacific/Honolulu",
    "Europe/London",
    "Asia/Shanghai",
    "Australia/Lord_Howe",
    "America/Havana",
    "America/Santiago",
    "Africa/Cairo",
    "America/St_Johns",
    "Asia/Kolkata",
]
instants = st.datetimes(
    min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(UTC)
)


@settings(max_examples=300, deadline=None)
@given(
    zone=st.sampled_from(ZONES).map(ZoneInfo),
    not_before=instants,
    offset=st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=3)),
    clock=st.times(),
)
def test_first_reading_is_the_earliest(
    zone: ZoneInfo, not_before: datetime, offset: timedelta, clock: time
) -> None:
    wall = datetime.combine((wall_clock(not_before, zone) + offset).date(), clock.replace(microsecond=0))
    found = first_reading_at_or_after(zone, wall, not_before)
    assert found >= not_before
    assert wall_clock(found, zone) >= wall
    if found > not_before:
        assert (
            wall_clock(found - timedelta(seconds=1), zone) < wall or found - timedelta(seconds=1) < not_before
        )
