"""The shared field types of request schemas: text PostgreSQL can store, times and days in range."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from common.fields import Day, Instant, Text

pytestmark = pytest.mark.unit


class Note(BaseModel):
    text: Text
    at: Instant | None = None
    day: Day | None = None


def refusal(**fields: object) -> tuple[str, str, str]:
    """The one error a bad value gets: its field, its type and its message."""
    with pytest.raises(ValidationError) as caught:
        Note.model_validate({"text": "ok", **fields})
    (error,) = caught.value.errors()
    return ".".join(str(p) for p in error["loc"]), error["type"], error["msg"]


def test_text_with_a_nul_character_is_refused_by_name() -> None:
    assert refusal(text="您好\x00，请还款") == (
        "text",
        "nul_character",
        "must not contain the NUL character (\\u0000)",
    )


@given(st.text().filter(lambda t: "\x00" not in t))
def test_any_other_text_is_kept_as_sent(text: str) -> None:
    assert Note(text=text).text == text


@pytest.mark.parametrize(
    "at",
    [
        "0001-01-01T00:00:00+23:59",  # year 0 in UTC: astimezone overflows
        "9999-12-31T23:59:59-23:59",  # year 10000 in UTC
        "1899-12-31T23:59:59Z",
        "1900-01-01T08:00:00+08:01",  # one minute before 1900 in UTC
        "2200-01-01T00:00:00Z",
        "9999-01-01T00:00:00Z",
    ],
)
def test_an_instant_outside_1900_to_2199_in_utc_is_refused(at: str) -> None:
    field, kind, message = refusal(at=at)
    assert (field, kind) == ("at", "instant_out_of_range")
    assert message == "must be between 1900-01-01T00:00:00Z and 2199-12-31T23:59:59Z"


@pytest.mark.parametrize(
    "at",
    [
        "1900-01-01T00:00:00Z",
        "1900-01-01T08:00:00+08:00",
        "2199-12-31T23:59:59Z",
        "2026-11-29T08:00:00+08:00",
    ],
)
def test_an_instant_inside_the_range_keeps_its_offset(at: str) -> None:
    kept = Note(text="ok", at=at).at  # type: ignore[arg-type]
    assert kept == datetime.fromisoformat(at)
    assert kept is not None and kept.utcoffset() == datetime.fromisoformat(at).utcoffset()


def test_an_instant_still_needs_an_offset() -> None:
    assert refusal(at="2026-11-29T08:00:00")[:2] == ("at", "timezone_aware")


@given(
    st.datetimes(min_value=datetime(1900, 1, 2), max_value=datetime(2199, 12, 30), timezones=st.just(UTC)),
    st.integers(min_value=-23 * 60 - 59, max_value=23 * 60 + 59),
)
def test_every_instant_in_range_is_accepted_at_any_offset(utc: datetime, minutes: int) -> None:
    local = utc.astimezone(timezone(timedelta(minutes=minutes)))
    assert Note(text="ok", at=local).at == utc


@pytest.mark.parametrize("day", ["0001-01-01", "1899-12-31", "2200-01-01", "9999-12-31"])
def test_a_day_outside_1900_to_2199_is_refused(day: str) -> None:
    field, kind, message = refusal(day=day)
    assert (field, kind) == ("day", "date_out_of_range")
    assert message == "must be between 1900-01-01 and 2199-12-31"


@pytest.mark.parametrize("day", ["1900-01-01", "2026-10-15", "2199-12-31"])
def test_a_day_inside_the_range_is_accepted(day: str) -> None:
    assert Note(text="ok", day=day).day == date.fromisoformat(day)  # type: ignore[arg-type]


def test_the_range_ends_are_utc_instants() -> None:
    assert Note(text="ok", at=datetime(2199, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)).at is not None
