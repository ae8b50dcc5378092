"""Waking a loop when another transaction commits work for it, instead of polling.

A transaction that leaves work (outbox rows, jobs due now) calls `notify(session, channel)`;
PostgreSQL delivers the notification when, and only if, it commits, to every process listening, so
a replica wakes for work another one committed. `Wakeups` keeps one listening connection per process
and sets an `asyncio.Event` per channel. A loop still wakes at its own timeout: a lost connection or a
missed notification delays work by that timeout, never loses it.
"""

from __future__ import annotations

import asyncio

import asyncpg
import structlog
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from common.aio import sleep_unless

log = structlog.get_logger(__name__)

_NOTIFY = text("SELECT pg_notify(:channel, '')")


async def notify(session: AsyncSession, channel: str) -> None:
    """Wake the listeners of `channel` when this transaction commits (repeats in one are merged)."""
    await session.execute(_NOTIFY, {"channel": channel})


async def wait_for(event: asyncio.Event, stop: asyncio.Event, timeout_s: float | None) -> None:
    """Until `event` or `stop` is set, or `timeout_s` passes (None: no timeout); clears `event`."""
    waits = [asyncio.ensure_future(event.wait()), asyncio.ensure_future(stop.wait())]
    try:
        await asyncio.wait(waits, timeout=timeout_s, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiting in waits:
            waiting.cancel()
    event.clear()


class Wakeups:
    """The process's listening connection, and an event per channel a loop waits on."""

    def __init__(self, dsn: str) -> None:
        self._dsn = dsn
        self._events: dict[str, asyncio.Event] = {}
        self._conn: asyncpg.Connection | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    def event(self, channel: str) -> asyncio.Event:
        found = self._events.get(channel)
        if found is None:
            found = self._events[channel] = asyncio.Event()
            if self._conn is not None and not self._conn.is_closed():
                task = asyncio.get_running_loop().create_task(self._conn.add_listener(channel, self._wake))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
        return found

    def _wake(self, _conn: object, _pid: int, channel: str, _payload: str) -> None:
        found = self._events.get(channel)
        if found is not None:
            found.set()

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            conn: asyncpg.Connection | None = None
            try:
                conn = await asyncpg.connect(self._dsn, server_settings={"application_name": "wakeups"})
                lost = asyncio.Event()
                conn.add_termination_listener(lambda _c, lost=lost: lost.set())
                for channel in list(self._events):
                    await conn.add_listener(channel, self._wake)
                self._conn = conn
                for found in self._events.values():
                    found.set()  # anything committed while not listening is looked at now
                await wait_for(lost, stop, timeout_s=None)
            except (OSError, asyncpg.PostgresError) as exc:
                log.warning("wake-up listener lost; loops fall back to their timeouts", error=str(exc))
                await sleep_unless(stop, 1.0)
            finally:
                self._conn = None
                if conn is not None and not conn.is_closed():
                    await conn.close()
