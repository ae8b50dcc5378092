"""Database plumbing shared by the services: engine per service role, naming convention, units of work."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
import orjson
from sqlalchemy import MetaData, Table, event, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from common.tracing import statement_span

# Explicit names so Alembic autogenerate and hand-written migrations agree on constraint names.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def make_metadata(schema: str) -> MetaData:
    """Metadata bound to one service's schema; every table of that service lives there."""
    return MetaData(schema=schema, naming_convention=NAMING_CONVENTION)


def make_engine(database_url: str, *, pool_size: int = 10, application_name: str) -> AsyncEngine:
    """An engine for one service role; the role's privileges keep it inside its own schema."""
    # No pre-ping (three round trips a checkout): a connection lost to a database restart fails its
    # statement, consumers and loops retry it as an outage, and the API answers 503 once.
    return create_async_engine(
        database_url,
        pool_size=pool_size,
        max_overflow=pool_size,
        connect_args={"server_settings": {"application_name": application_name}},
        json_serializer=_json_text,
        json_deserializer=orjson.loads,
    )


def _json_text(value: Any) -> str:
    """JSONB parameters through orjson (several times faster than the standard library's encoder)."""
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


def make_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


BeforeCommit = Callable[[AsyncSession], Awaitable[None]]


def before_commit(session: AsyncSession, key: str, hook: BeforeCommit, *, order: int = 0) -> None:
    """Run `hook` once, last, in this session's transaction, just before it commits: writes that are
    cheaper together (the outbox rows of a run) or that must come at the end (the audit chain, whose
    lock serialises every writer while it lasts). Hooks run by `order`, lowest first. A commit that
    skips the hooks is refused, so no buffered write is ever lost."""
    hooks: dict[str, tuple[int, BeforeCommit]] = session.info.setdefault("before_commit", {})
    hooks.setdefault(key, (order, hook))
    if not session.info.get("before_commit_guarded"):
        session.info["before_commit_guarded"] = True
        event.listen(session.sync_session, "before_commit", _refuse_unflushed)


def _refuse_unflushed(sync_session: Any) -> None:
    if sync_session.in_nested_transaction():  # a savepoint released: the outer commit runs the hooks
        return
    if sync_session.info.get("before_commit"):
        raise RuntimeError("commit with writes still buffered: commit through unit_of_work or a consumer")


async def run_before_commit(session: AsyncSession) -> None:
    """Run the hooks registered on this transaction (units of work and consumers call it)."""
    while hooks := session.info.pop("before_commit", {}):
        for _, hook in sorted(hooks.values(), key=lambda entry: entry[0]):
            await hook(session)


@asynccontextmanager
async def unit_of_work(sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """The one place that commits: the state change and its outbox rows land together or not at all."""
    async with sessions() as session, session.begin():
        yield session
        await run_before_commit(session)


async def copy_rows(
    session: AsyncSession, table: Table, columns: Sequence[str], records: Sequence[tuple[Any, ...]]
) -> None:
    """Bulk insert with COPY inside the session's transaction: the one fast lane for hot writes
    (placements, decisions, the audit chain, the outbox). JSON columns take text (orjson output)."""
    if not records:
        return
    conn = await session.connection()
    raw = await conn.get_raw_connection()
    driver = raw.driver_connection
    assert driver is not None
    try:
        with statement_span(conn.sync_engine, f"COPY {table.fullname} ({', '.join(columns)})"):
            await driver.copy_records_to_table(
                table.name, schema_name=table.schema, columns=list(columns), records=list(records)
            )
    except asyncpg.IntegrityConstraintViolationError as exc:
        # COPY bypasses SQLAlchemy's error translation; callers retry a lost race on IntegrityError.
        raise IntegrityError(f"COPY {table.fullname}", None, exc) from exc


def json_text(value: Any) -> str:
    """A JSON column's value as COPY takes it."""
    return _json_text(value)


async def ping(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        await conn.execute(text("SELECT 1"))
