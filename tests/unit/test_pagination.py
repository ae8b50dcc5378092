"""Cursors: what a list endpoint gave out comes back typed; anything else is a 400 naming the cursor."""

from __future__ import annotations

import base64
import uuid
from datetime import UTC, datetime, timedelta, timezone

import orjson
import pytest

from common.pagination import TIME_AND_ID, decode_cursor, encode_cursor
from common.problems import ProblemError

pytestmark = pytest.mark.unit

PLACED_AT = datetime(2026, 11, 29, 8, 0, tzinfo=timezone(timedelta(hours=8)))
ACCOUNT_ID = uuid.UUID("8f0c1a4e-6f6e-4d0e-9a8e-2f1f6b1c8d7a")


def encoded(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def forged(position: object) -> str:
    return encoded(orjson.dumps(position))


def test_a_cursor_given_out_comes_back_as_its_typed_position() -> None:
    cursor = encode_cursor([PLACED_AT.isoformat(), str(ACCOUNT_ID)])

    assert decode_cursor(cursor, TIME_AND_ID) == (PLACED_AT, ACCOUNT_ID)


def test_no_cursor_is_the_first_page() -> None:
    assert decode_cursor(None, TIME_AND_ID) is None
    assert decode_cursor("", TIME_AND_ID) is None


@pytest.mark.parametrize(
    "cursor",
    [
        "garbage!!",
        "bm90IGpzb24",  # "not json"
        forged(["x", "y"]),
        forged([1, 2]),
        forged([1_764_374_400, str(ACCOUNT_ID)]),  # a Unix time is not what we give out
        forged([PLACED_AT.isoformat()]),
        forged([PLACED_AT.isoformat(), str(ACCOUNT_ID), 3]),
        forged({"placed_at": PLACED_AT.isoformat(), "id": str(ACCOUNT_ID)}),
        forged([PLACED_AT.isoformat(), "not-a-uuid"]),
        forged(["2026-11-29T08:00:00", str(ACCOUNT_ID)]),  # no offset
        forged(["0001-01-01T00:00:00+23:59", str(ACCOUNT_ID)]),  # overflows in UTC
        forged(["9999-12-31T23:59:59+00:00", str(ACCOUNT_ID)]),
        encoded(f'[{10**30}, "{ACCOUNT_ID}"]'.encode()),
        forged([None, None]),
        encoded(b"\xff\xfe["),
    ],
    ids=[
        "not base64",
        "not json",
        "words",
        "numbers",
        "unix time",
        "one part",
        "three parts",
        "object",
        "bad uuid",
        "naive time",
        "overflowing time",
        "year 9999",
        "huge number",
        "nulls",
        "not utf-8",
    ],
)
def test_a_cursor_not_given_out_is_a_400_naming_the_cursor(cursor: str) -> None:
    with pytest.raises(ProblemError) as caught:
        decode_cursor(cursor, TIME_AND_ID)

    assert caught.value.status == 400
    assert caught.value.errors == [{"field": "cursor", "message": "invalid cursor"}]


def test_a_utc_cursor_round_trips() -> None:
    at = datetime(2026, 11, 29, tzinfo=UTC)
    assert decode_cursor(encode_cursor([at.isoformat(), str(ACCOUNT_ID)]), TIME_AND_ID) == (at, ACCOUNT_ID)
