"""`collectctl stack status` against the running stack, as an operator reads it: every service ready
with its outbox, every consumer group of the catalogue with its lag per partition, the dead letters
per topic; the same as a table."""

from __future__ import annotations

import secrets
from typing import Any

import httpx
import orjson
import pytest

from common.auth import Role
from common.contracts.catalog import topics_read_by
from common.devstack.layout import SERVICES, TOPICS
from common.testing.stack import Stack
from tests.e2e.intake import builders as b
from tests.support.cli import collectctl
from tests.support.waiting import eventually

pytestmark = pytest.mark.e2e


def environment(stack: Stack) -> dict[str, str]:
    return {
        "COLLECTCTL_SIGNING_KEY_FILE": str(stack.layout.jwt_private_key),
        "COLLECTCTL_KAFKA_BOOTSTRAP": stack.kafka_bootstrap,
    }


def urls(stack: Stack) -> list[str]:
    return [arg for name, url in stack.service_urls.items() for arg in ("--url", f"{name}={url}")]


async def status(stack: Stack) -> dict[str, Any]:
    """The JSON document; collectctl exits 0 only when every service is ready and Kafka answers."""
    printed = await collectctl("stack", "status", "--json", *urls(stack), env=environment(stack))
    parsed: dict[str, Any] = orjson.loads(printed)
    return parsed


async def test_every_service_is_ready_with_its_outbox_and_every_group_has_its_lag(stack: Stack) -> None:
    state = await status(stack)
    assert state["ok"] is True and state["kafka_error"] is None
    assert set(state["services"]) == set(SERVICES)
    for name, service in state["services"].items():
        assert (service["state"], service["checks"], service["error"]) == (
            "ready",
            {"database": "ok", "kafka": "ok"},
            None,
        ), name
        assert service["outbox"]["pending"] >= 0
        if service["outbox"]["pending"] == 0:
            assert service["outbox"]["oldest_pending_age_s"] is None
    groups = {g["group"]: g for g in state["consumer_groups"]}
    expected = {f"{s}.{t}" for s in SERVICES for t in topics_read_by(s)}
    assert expected <= set(groups)
    for name, group in groups.items():
        assert name.startswith(tuple(f"{s}." for s in SERVICES))
        partitions = group["partitions"]
        assert [p["partition"] for p in partitions] == list(range(stack.layout.partitions)), name
        for p in partitions:
            assert p["lag"] >= 0 and (p["committed"] is None or p["committed"] <= p["end"]), (name, p)
        assert group["lag"] == sum(p["lag"] for p in partitions)
    assert set(state["dead_letters"]) == {f"{t}.dlq" for t in TOPICS}
    assert all(isinstance(n, int) and n >= 0 for n in state["dead_letters"].values())


async def test_a_placement_is_applied_and_the_readers_of_its_partition_catch_up(stack: Stack) -> None:
    tenant = f"e2e-status-{secrets.token_hex(5)}"
    async with httpx.AsyncClient(base_url=stack.service_urls["intake"], timeout=30) as intake:
        placed = await intake.post(
            "/v1/events", json=b.account_placed(), headers=stack.headers(tenant=tenant, role=Role.LENDER)
        )
    assert placed.status_code == 202, placed.text
    readers = [f"{s}.intake.v1" for s in SERVICES if "intake.v1" in topics_read_by(s)]
    seen: dict[str, int] = {}

    async def caught_up() -> bool:
        groups = {g["group"]: g for g in (await status(stack))["consumer_groups"]}
        seen.update({name: groups[name]["lag"] for name in readers})
        return all(lag == 0 for lag in seen.values())

    # Other tests may be posting meanwhile; a quiet moment with every reader at the end comes soon.
    await eventually(caught_up, timeout_s=90, interval_s=1.0)


async def test_dead_letters_counted_are_those_collectctl_lists(stack: Stack) -> None:
    listed = await collectctl(
        "dlq", "list", "intake.v1", "--limit", "1000000", "--json", env=environment(stack)
    )
    letters = [line for line in listed.splitlines() if line.strip()]
    counted = (await status(stack))["dead_letters"]["intake.v1.dlq"]
    assert counted >= len(letters)  # letters only accumulate; more may arrive between the two


async def test_the_table_shows_each_service_group_and_dead_letter_topic(stack: Stack) -> None:
    table = await collectctl("stack", "status", *urls(stack), env=environment(stack))
    lines = [line.split() for line in table.splitlines()]
    assert lines[0][:3] == ["SERVICE", "STATE", "DATABASE"]
    rows = {line[0]: line for line in lines if line}
    for name in SERVICES:
        assert rows[name][1:4] == ["ready", "ok", "ok"], rows[name]
    for name in (f"{s}.{t}" for s in SERVICES for t in topics_read_by(s)):
        assert name in rows
    for topic in TOPICS:
        assert rows[f"{topic}.dlq"][1].isdigit()
