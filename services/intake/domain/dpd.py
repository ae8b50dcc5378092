"""Days past due, counted in the borrower's (or jurisdiction's) calendar."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo


def days_past_due(due_date: date, *, today: date) -> int:
    """Whole days since `due_date`: 0 on the due date and before it, 1 the day after."""
    return max(0, (today - due_date).days)


def today_in(zone: str, now: datetime) -> date:
    """The calendar date in `zone` (an IANA name) at the instant `now`, which must be timezone-aware."""
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    return now.astimezone(ZoneInfo(zone)).date()
