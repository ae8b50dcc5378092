"""Days past due and the borrower's calendar date."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from intake.domain.dpd import days_past_due, today_in

pytestmark = pytest.mark.unit

BEIJING = timezone(timedelta(hours=8))


@pytest.mark.parametrize(
    ("due", "today", "dpd"),
    [
        (date(2026, 10, 15), date(2026, 10, 14), 0),
        (date(2026, 10, 15), date(2026, 10, 15), 0),
        (date(2026, 10, 15), date(2026, 10, 16), 1),
        (date(2026, 10, 15), date(2026, 11, 29), 45),
        (date(2024, 2, 28), date(2024, 3, 1), 2),
        (date(2025, 12, 31), date(2026, 12, 31), 365),
    ],
)
def test_days_past_due(due: date, today: date, dpd: int) -> None:
    assert days_past_due(due, today=today) == dpd


@given(due=st.dates(), today=st.dates())
def test_days_past_due_is_never_negative_and_counts_calendar_days(due: date, today: date) -> None:
    dpd = days_past_due(due, today=today)
    assert dpd >= 0
    assert dpd == 0 or due + timedelta(days=dpd) == today


@pytest.mark.parametrize(
    ("zone", "now", "expected"),
    [
        ("Asia/Shanghai", datetime(2026, 11, 29, 15, 59, tzinfo=UTC), date(2026, 11, 29)),
        ("Asia/Shanghai", datetime(2026, 11, 29, 16, 0, tzinfo=UTC), date(2026, 11, 30)),
        ("America/New_York", datetime(2026, 11, 29, 3, 0, tzinfo=UTC), date(2026, 11, 28)),
        (
            "Pacific/Honolulu",
            datetime(2026, 11, 30, 8, 0, tzinfo=timezone(timedelta(hours=8))),
            date(2026, 11, 29),
        ),
        ("Europe/London", datetime(2026, 7, 1, 23, 30, tzinfo=UTC), date(2026, 7, 2)),
    ],
)
def test_today_in_zone(zone: str, now: datetime, expected: date) -> None:
    assert today_in(zone, now) == expected


def test_today_in_refuses_a_naive_instant() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        today_in("Asia/Shanghai", datetime(2026, 11, 29, 12, 0))
