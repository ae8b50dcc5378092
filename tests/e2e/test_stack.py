"""The dev stack is what it says: Apache Kafka on the JVM, the topics, PostgreSQL on 55432, the sandbox."""

from __future__ import annotations

from pathlib import Path

import asyncpg
import httpx
import pytest

from common.asyncapi import rendered
from common.devstack import kafka as kafka_component
from common.devstack.layout import TOPICS
from common.devstack.processes import read_pid
from common.messaging.admin import partitions_of
from common.testing.stack import Stack

pytestmark = pytest.mark.e2e


async def test_topics_and_dead_letter_topics_have_twelve_partitions(stack: Stack) -> None:
    for topic in TOPICS:
        assert await partitions_of(stack.kafka_bootstrap, topic) == list(range(12))
        assert await partitions_of(stack.kafka_bootstrap, f"{topic}.dlq") == list(range(12))


async def test_postgres_answers_with_the_collections_database(stack: Stack) -> None:
    conn = await asyncpg.connect(stack.superuser_dsn)
    try:
        assert await conn.fetchval("SELECT current_database()") == "collections"
        assert await conn.fetchval("SELECT current_setting('port')") == str(stack.layout.pg_port)
    finally:
        await conn.close()


def test_the_broker_is_apache_kafka_on_the_jvm(stack: Stack) -> None:
    if stack.mode not in ("launched", "reused"):
        pytest.fail(f"this check reads the local launcher's process; the stack came from {stack.mode}")
    pid = read_pid(kafka_component.pidfile(stack.layout))
    assert pid is not None
    cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    assert Path(cmdline[0].decode()).name == "java"
    assert b"kafka.Kafka" in cmdline
    assert any(b"kafka_2.13-" in part for part in cmdline) or any(b"kafka-" in p for p in cmdline)


async def test_the_sandbox_receives_sms_and_lists_it(stack: Stack) -> None:
    async with httpx.AsyncClient(base_url=stack.sandbox_url, timeout=10) as client:
        to = "+15551230042"
        sent = await client.post(
            "/v1/sms", json={"to": to, "text": "hello"}, headers={"Idempotency-Key": "e2e-1"}
        )
        assert sent.status_code in (200, 201)
        listed = (await client.get("/v1/messages", params={"to": to})).json()["messages"]
        assert [m["body"] for m in listed if m["idempotency_key"] == "e2e-1"] == ["hello"]


def test_up_restarts_a_service_that_died(stack: Stack) -> None:
    if stack.mode not in ("launched", "reused"):
        pytest.fail(f"this check drives the local launcher; the stack came from {stack.mode}")
    import os
    import signal

    from common.devstack import stack as devstack

    pidfile = stack.layout.run / "visits.pid"
    pid = read_pid(pidfile)
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    devstack.up(stack.layout)
    assert devstack.service_running(stack.layout, "visits")
    assert read_pid(pidfile) not in (None, pid)


async def test_every_service_serves_the_event_document(stack: Stack) -> None:
    async with httpx.AsyncClient(timeout=30) as client:
        for service, url in stack.service_urls.items():
            answer = await client.get(f"{url}/asyncapi.json")
            assert answer.status_code == 200, service
            assert answer.headers["content-type"].startswith("application/json")
            assert answer.content == rendered(), service
