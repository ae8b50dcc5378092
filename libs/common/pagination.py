"""Opaque cursors for list endpoints: the client hands back what it was given, nothing to compute.

A cursor is the position of the last item of a page. Each endpoint declares the types of its
position (`TIME_AND_ID` for most), and anything that does not decode to exactly those types, in
range, is a 400: a position is used in SQL, so a forged one must never reach the database.
"""

from __future__ import annotations

import base64
import uuid
from datetime import datetime
from typing import Any, Final, TypeVar

import orjson
from pydantic import TypeAdapter, ValidationError

from common.fields import Instant
from common.problems import ProblemError

Position = TypeVar("Position", bound=tuple[Any, ...])

# (a row's creation or placement time, its id): the position of most lists, newest or oldest first.
TIME_AND_ID: Final[TypeAdapter[tuple[datetime, uuid.UUID]]] = TypeAdapter(tuple[Instant, uuid.UUID])


def encode_cursor(position: list[Any]) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(position)).decode().rstrip("=")


def decode_cursor(cursor: str | None, position: TypeAdapter[Position]) -> Position | None:
    """The position `cursor` holds, typed as the endpoint declared it; None for the first page."""
    if not cursor:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        return position.validate_json(raw, strict=True)
    except (ValueError, ValidationError):  # not base64, not JSON, or not the declared types
        raise ProblemError(
            400,
            "the cursor is not one this API gave out",
            errors=[{"field": "cursor", "message": "invalid cursor"}],
        ) from None
