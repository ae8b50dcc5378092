"""Time as a dependency, so tests can stand at 21:59 in New York, or on day 6, without waiting for it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class ManualClock:
    """A clock that moves only when told to."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("ManualClock needs an aware datetime")
        self._now = start

    def now(self) -> datetime:
        return self._now

    def set(self, at: datetime) -> None:
        if at.tzinfo is None:
            raise ValueError("ManualClock needs an aware datetime")
        self._now = at

    def advance(self, delta: timedelta) -> None:
        self._now += delta


class ShiftableClock:
    """The system clock plus an offset that a test (or a demo) moves: "days pass" in a running service.

    Listeners run after every shift, so loops that sleep until the next pass (the reminder ladder)
    can wake at once instead of on their next tick. Refused in production by the settings.
    """

    def __init__(self, base: Clock | None = None) -> None:
        self._base = base or SystemClock()
        self._offset = timedelta(0)
        self._listeners: list[Callable[[], None]] = []

    @property
    def offset(self) -> timedelta:
        return self._offset

    def now(self) -> datetime:
        return self._base.now() + self._offset

    def shift_to(self, offset: timedelta) -> None:
        """Run `offset` ahead of (or behind) the base clock from now on."""
        self._offset = offset
        for listener in list(self._listeners):
            listener()

    def on_shift(self, listener: Callable[[], None]) -> None:
        self._listeners.append(listener)
