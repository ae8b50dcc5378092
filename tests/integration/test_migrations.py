"""Each service's migrations build exactly the tables its code declares, and touch no other schema."""

from __future__ import annotations

import importlib

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from common.devstack.layout import SERVICES
from common.testing.stack import Stack

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("service", list(SERVICES))
async def test_migrated_schema_matches_the_service_tables(stack: Stack, service: str) -> None:
    metadata = importlib.import_module(f"{service}.tables").metadata
    engine = create_async_engine(stack.layout.role_url(f"{service}_owner"))
    try:
        async with engine.connect() as conn:
            await conn.execute(text("SET search_path TO public"))

            def diff(sync_conn: object) -> list[object]:
                context = MigrationContext.configure(
                    sync_conn,  # type: ignore[arg-type]
                    opts={
                        "include_schemas": True,
                        "include_name": lambda name, type_, _: name == service if type_ == "schema" else True,
                        "version_table_schema": service,
                        "compare_type": True,
                    },
                )
                return list(compare_metadata(context, metadata))

            changes = await conn.run_sync(diff)
    finally:
        await engine.dispose()
    assert changes == [], f"{service}: migrations and tables.py disagree: {changes}"
