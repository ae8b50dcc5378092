"""Opaque cursors for list endpoints: the client hands back what it was given, nothing to compute."""

from __future__ import annotations

import base64
from typing import Any

import orjson

from common.problems import ProblemError


def encode_cursor(position: list[Any]) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(position)).decode().rstrip("=")


def decode_cursor(cursor: str | None, *, size: int) -> list[Any] | None:
    if not cursor:
        return None
    try:
        position = orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, orjson.JSONDecodeError):
        position = None
    if not isinstance(position, list) or len(position) != size:
        raise ProblemError(
            400,
            "the cursor is not one this API gave out",
            errors=[{"field": "cursor", "message": "invalid cursor"}],
        )
    return position
