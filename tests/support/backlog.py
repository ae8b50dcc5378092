"""Holding a service's ordered consumer behind a placement, as a lender's bulk load would: a lock on a
table that placements write and stop events do not, held until released."""

from __future__ import annotations

import asyncpg


class Backlog:
    def __init__(self, conn: asyncpg.Connection, table: str) -> None:
        self._conn = conn
        self._table = table
        self.held = False

    async def hold(self) -> None:
        await self._conn.execute(f"BEGIN; LOCK TABLE {self._table} IN EXCLUSIVE MODE")
        self.held = True

    async def release(self) -> None:
        if self.held:
            await self._conn.execute("ROLLBACK")
            self.held = False
