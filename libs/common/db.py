"""Database plumbing shared by the services: engine per service role, naming convention, units of work."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from sqlalchemy import MetaData, text
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

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
    return create_async_engine(
        database_url,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,
        connect_args={"server_settings": {"application_name": application_name}},
    )


def make_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


BeforeCommit = Callable[[AsyncSession], Awaitable[None]]


def before_commit(session: AsyncSession, key: str, hook: BeforeCommit) -> None:
    """Run `hook` once, last, in this session's transaction, just before it commits (a write that
    must come at the end, such as the audit chain's, which serialises every writer while it lasts)."""
    hooks: dict[str, BeforeCommit] = session.info.setdefault("before_commit", {})
    hooks.setdefault(key, hook)


async def run_before_commit(session: AsyncSession) -> None:
    """Run the hooks registered on this transaction (units of work and consumers call it)."""
    hooks: dict[str, BeforeCommit] = session.info.pop("before_commit", {})
    for hook in hooks.values():
        await hook(session)


@asynccontextmanager
async def unit_of_work(sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """The one place that commits: the state change and its outbox rows land together or not at all."""
    async with sessions() as session, session.begin():
        yield session
        await run_before_commit(session)


async def ping(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        await conn.execute(text("SELECT 1"))
