"""Each service's role reaches its own schema only, and may not change its shape."""

from __future__ import annotations

import itertools

import asyncpg
import pytest

from common.devstack.layout import SERVICES
from common.testing.stack import Stack

pytestmark = pytest.mark.integration


@pytest.mark.parametrize(("role", "other"), list(itertools.permutations(SERVICES, 2)))
async def test_a_service_role_cannot_read_another_services_schema(
    stack: Stack, role: str, other: str
) -> None:
    conn = await asyncpg.connect(stack.role_dsn(role))
    try:
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await conn.fetch(f"SELECT * FROM {other}.outbox LIMIT 1")
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await conn.execute(f"INSERT INTO {other}.inbox VALUES ('x', gen_random_uuid(), 't', 't', 0, 0)")
    finally:
        await conn.close()


@pytest.mark.parametrize("service", list(SERVICES))
async def test_a_service_role_uses_its_own_schema_but_cannot_alter_it(stack: Stack, service: str) -> None:
    conn = await asyncpg.connect(stack.role_dsn(service))
    try:
        assert await conn.fetchval(f"SELECT count(*) >= 0 FROM {service}.outbox")
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await conn.execute(f"CREATE TABLE {service}.intruder (id int)")
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await conn.execute("CREATE TABLE public.intruder (id int)")
    finally:
        await conn.close()


async def test_the_four_schemas_exist_with_their_migrations(stack: Stack) -> None:
    conn = await asyncpg.connect(stack.superuser_dsn)
    try:
        for service in SERVICES:
            version = await conn.fetchval(f"SELECT version_num FROM {service}.alembic_version")
            assert version.startswith(service)
            owner = await conn.fetchval(
                "SELECT pg_get_userbyid(nspowner) FROM pg_namespace WHERE nspname = $1", service
            )
            assert owner == f"{service}_owner"
    finally:
        await conn.close()
