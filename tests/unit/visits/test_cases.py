"""The rules of a visit case that need no database: the window a permit is asked for, which check-ins
are refused and why, which address a crew goes to."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

import common.contracts.intake as c
from visits.domain import check_in_refusals, distance_m, permit_window, zone_of
from visits.handlers import home_address

pytestmark = pytest.mark.unit

SHANGHAI = ZoneInfo("Asia/Shanghai")
START = datetime(2026, 12, 3, 8, tzinfo=SHANGHAI)
END = datetime(2026, 12, 3, 22, tzinfo=SHANGHAI)


def refusals(**changes: object) -> list[str]:
    values: dict[str, object] = {
        "at": datetime(2026, 12, 3, 10, tzinfo=SHANGHAI),
        "window_start": START,
        "window_end": END,
        "crew_size": 2,
        "permit_crew_size": 2,
        "id_shown": True,
        "recording_required": True,
        "recording_id": "rec-1",
    }
    values.update(changes)
    return [r.field for r in check_in_refusals(**values)]  # type: ignore[arg-type]


def test_a_check_in_inside_the_window_with_everything_the_law_asks_is_accepted() -> None:
    assert refusals() == []


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"at": START - timedelta(minutes=1)}, "at"),
        ({"at": END}, "at"),  # the window is half-open: at 22:00 the hours are closed
        ({"window_start": None}, "at"),  # no permit
        ({"crew_size": 1}, "crew_id"),  # fewer agents than the permit was given for
        ({"id_shown": False}, "id_shown"),
        ({"recording_id": None}, "recording_id"),
    ],
)
def test_a_check_in_is_refused_with_its_reason(changes: dict[str, object], field: str) -> None:
    assert refusals(**changes) == [field]


def test_a_recording_is_asked_only_where_the_jurisdiction_needs_one() -> None:
    assert refusals(recording_required=False, recording_id=None) == []


def test_the_permit_is_asked_for_the_borrowers_local_day_from_now_on() -> None:
    day = date(2026, 12, 3)
    assert permit_window(day, SHANGHAI, datetime(2026, 12, 1, tzinfo=UTC)) == (
        datetime(2026, 12, 3, tzinfo=SHANGHAI),
        datetime(2026, 12, 4, tzinfo=SHANGHAI),
    )
    late = datetime(2026, 12, 3, 15, tzinfo=SHANGHAI)
    assert permit_window(day, SHANGHAI, late)[0] == late


def test_an_unknown_zone_falls_back_to_the_next_known_one_then_utc() -> None:
    assert zone_of(["Mars/Olympus", "Asia/Shanghai"]) == SHANGHAI
    assert zone_of([]) == ZoneInfo("UTC")


def test_distance_is_great_circle_metres() -> None:
    # 0.001 degree of latitude is about 111 m
    assert 105 < distance_m(22.5431, 114.0579, 22.5441, 114.0579) < 117


def _address(id_: str, type_: str) -> c.Address:
    return c.Address(id=id_, sealed="enc:v1:k:x", country="CN", region="广东", type=type_)


def test_a_crew_goes_to_the_home_address_never_to_the_workplace() -> None:
    assert home_address([_address("w", "work"), _address("h", "home")]).id == "h"  # type: ignore[union-attr]
    assert home_address([_address("w", "work"), _address("o", "other")]).id == "o"  # type: ignore[union-attr]
    assert home_address([_address("w", "work")]) is None
