"""Field types for request schemas: what a client sends must be something we can store and compute with.

PostgreSQL's text and JSONB refuse the NUL character, and a time far from now overflows when it is
converted to UTC or moved by a day: both are the client's mistake, answered with a 422 naming the
field instead of a 500 from the database or the date arithmetic.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Final

from pydantic import AfterValidator, AwareDatetime
from pydantic_core import PydanticCustomError

# Far enough either way for any debt, payment or retention period; near enough that a day's
# arithmetic and a zone's offset never leave what Python and PostgreSQL can represent.
EARLIEST: Final = datetime(1900, 1, 1, tzinfo=UTC)
LATEST: Final = datetime(2199, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)
EARLIEST_DAY: Final = EARLIEST.date()
LATEST_DAY: Final = LATEST.date()
# How far ahead of our clock a client's "when it happened" may be: their clock may run a little fast.
CLOCK_SKEW: Final = timedelta(minutes=5)


def refuse_nul(value: str) -> str:
    """`value` unchanged, unless it holds a NUL character (which PostgreSQL text and JSONB refuse)."""
    if "\x00" in value:
        raise PydanticCustomError("nul_character", "must not contain the NUL character (\\u0000)")
    return value


def instant_in_range(value: datetime) -> datetime:
    """`value` unchanged (offset kept), if it falls between 1900 and 2199 once converted to UTC."""
    try:
        utc = value.astimezone(UTC)
    except OverflowError:  # 0001-01-01T00:00:00+23:59 is in year 0 in UTC
        utc = None
    if utc is None or not EARLIEST <= utc <= LATEST:
        raise PydanticCustomError(
            "instant_out_of_range",
            "must be between {earliest} and {latest}",
            {"earliest": "1900-01-01T00:00:00Z", "latest": "2199-12-31T23:59:59Z"},
        )
    return value


def day_in_range(value: date) -> date:
    """`value` unchanged, if it falls between 1900-01-01 and 2199-12-31."""
    if not EARLIEST_DAY <= value <= LATEST_DAY:
        raise PydanticCustomError(
            "date_out_of_range",
            "must be between {earliest} and {latest}",
            {"earliest": EARLIEST_DAY.isoformat(), "latest": LATEST_DAY.isoformat()},
        )
    return value


# Free text a client sends that we store (notes, names, reasons, templates).
Text = Annotated[str, AfterValidator(refuse_nul)]
# A point in time with an offset (RFC 3339), between 1900 and 2199.
Instant = Annotated[AwareDatetime, AfterValidator(instant_in_range)]
# A calendar day between 1900 and 2199.
Day = Annotated[date, AfterValidator(day_in_range)]
