"""The `stack` fixture: the real PostgreSQL, Kafka, sandbox and services, found or started once per session.

Order of preference: URLs from the environment; testcontainers where a Docker engine answers; the
local launcher that `make up` uses. A stack that was already running is reused and left alone;
whatever the session started itself is stopped at its end.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from common.auth import Role, issue_token
from common.devstack import stack as devstack
from common.devstack.layout import SERVICES, Layout
from common.webhooks import load_secrets, signed_headers


@dataclass
class Stack:
    """Where the running stack answers, and how to speak to it as any role."""

    layout: Layout
    service_urls: dict[str, str]
    sandbox_url: str
    signing_key: bytes
    mode: str
    started: devstack.Started = field(default_factory=devstack.Started)

    @property
    def kafka_bootstrap(self) -> str:
        return self.layout.kafka_bootstrap

    @property
    def superuser_dsn(self) -> str:
        return self.layout.superuser_dsn()

    def role_dsn(self, role: str) -> str:
        return self.layout.role_url(role).replace("+asyncpg", "")

    def token(self, *, tenant: str, role: Role | str, sub: str = "test", ttl_s: int = 3600) -> str:
        return issue_token(self.signing_key, sub=sub, role=role, tenant=tenant, ttl_s=ttl_s)

    def headers(self, *, tenant: str, role: Role | str, sub: str = "test") -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(tenant=tenant, role=role, sub=sub)}"}

    def webhook_headers(
        self, provider: str, *, path: str, body: bytes, at: float | None = None, method: str = "POST"
    ) -> dict[str, str]:
        """The headers `provider` signs a JSON callback with, at `at` (Unix seconds, default now),
        using the dev stack's secret for it."""
        secret = load_secrets(self.layout.webhook_secrets)[provider]
        timestamp = int(time.time() if at is None else at)
        signed = signed_headers(provider, secret, method=method, target=path, body=body, timestamp=timestamp)
        return {**signed, "content-type": "application/json"}


def _from_environment() -> Stack | None:
    dsn_host = os.environ.get("COLLECTIONS_TEST_PG_HOST")
    kafka = os.environ.get("COLLECTIONS_TEST_KAFKA_BOOTSTRAP")
    if not dsn_host or not kafka:
        return None
    kafka_host, kafka_port = kafka.rsplit(":", 1)
    layout = Layout(
        pg_host=dsn_host,
        pg_port=int(os.environ.get("COLLECTIONS_TEST_PG_PORT", "5432")),
        kafka_host=kafka_host,
        kafka_port=int(kafka_port),
    )
    key_file = Path(os.environ.get("COLLECTIONS_TEST_SIGNING_KEY_FILE", str(layout.jwt_private_key)))
    return Stack(
        layout=layout,
        service_urls={
            s: os.environ.get(f"COLLECTIONS_TEST_{s.upper()}_URL", layout.service_url(s)) for s in SERVICES
        },
        sandbox_url=os.environ.get(
            "COLLECTIONS_TEST_SANDBOX_URL", f"http://127.0.0.1:{layout.sandbox_http_port}"
        ),
        signing_key=key_file.read_bytes(),
        mode="environment",
    )


def _docker_engine_answers() -> bool:
    docker = shutil.which("docker")
    if docker is None:
        return False
    try:
        return subprocess.run([docker, "info"], capture_output=True, timeout=10, check=False).returncode == 0  # noqa: S603
    except (OSError, subprocess.TimeoutExpired):
        return False


def _with_testcontainers(request: pytest.FixtureRequest) -> Stack:
    from testcontainers.kafka import KafkaContainer
    from testcontainers.postgres import PostgresContainer

    # A throwaway container; trust auth as in the dev stack, the password is never checked.
    pg = PostgresContainer("postgres:16", username="postgres", password="unused", dbname="collections")  # noqa: S106
    pg.with_env("POSTGRES_HOST_AUTH_METHOD", "trust")
    kafka = KafkaContainer("apache/kafka:4.1.1").with_kraft()
    pg.start()
    request.addfinalizer(pg.stop)
    kafka.start()
    request.addfinalizer(kafka.stop)
    kafka_host, kafka_port = kafka.get_bootstrap_server().rsplit(":", 1)
    layout = Layout(
        pg_host=pg.get_container_host_ip(),
        pg_port=int(pg.get_exposed_port(5432)),
        kafka_host=kafka_host,
        kafka_port=int(kafka_port),
    )
    started = devstack.up(layout, external_infra=True)
    request.addfinalizer(lambda: devstack.down(layout, started))
    return _local(layout, started, mode="testcontainers")


def _local(layout: Layout, started: devstack.Started, *, mode: str) -> Stack:
    return Stack(
        layout=layout,
        service_urls={s: layout.service_url(s) for s in SERVICES},
        sandbox_url=f"http://127.0.0.1:{layout.sandbox_http_port}",
        signing_key=layout.jwt_private_key.read_bytes(),
        mode=mode,
        started=started,
    )


@pytest.fixture(scope="session")
def stack(request: pytest.FixtureRequest) -> Iterator[Stack]:
    found = _from_environment()
    if found is not None:
        yield found
        return
    if _docker_engine_answers() and os.environ.get("COLLECTIONS_TEST_NO_DOCKER") != "1":
        yield _with_testcontainers(request)
        return
    layout = Layout()
    started = devstack.up(layout)
    try:
        yield _local(layout, started, mode="reused" if not started.anything else "launched")
    finally:
        if started.anything:
            devstack.down(layout, started)
