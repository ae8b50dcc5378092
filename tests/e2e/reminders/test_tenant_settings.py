"""A lender's own settings as reminders applies them: the strategy its new accounts follow, how far
apart rungs due at once go, and whether an account may escalate to a field visit. Bad settings are
refused with the field named, and another tenant's settings never touch this one's accounts."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import asyncpg
import orjson
import pytest

from common.auth import Role
from common.contracts.reminders import TOPIC as REMINDERS_TOPIC
from tests.e2e.reminders.desk import PROBLEM_JSON, Desk
from tests.e2e.reminders.placements import placement, steady_zone
from tests.e2e.reminders.test_strategies import CN_SMS
from tests.support.cli import collectctl
from tests.support.kafka import read_all
from tests.support.waiting import eventually

pytestmark = pytest.mark.e2e


async def put_settings(desk: Desk, body: dict[str, Any], role: Role = Role.OPS) -> Any:
    return await desk.http.reminders.put("/v1/settings", json=body, headers=desk.headers(role))


async def settings(desk: Desk) -> dict[str, Any]:
    reply = await desk.http.reminders.get("/v1/settings", headers=desk.headers())
    assert reply.status_code == 200, reply.text
    found: dict[str, Any] = reply.json()
    return found


async def test_a_tenant_without_settings_gets_the_defaults_and_bad_ones_are_refused(desk: Desk) -> None:
    view = await settings(desk)
    assert view["version"] == 0
    assert view["saved"] == {"default_strategy": None, "contact_spacing_s": None, "visits_enabled": None}
    assert view["effective"] == {
        "default_strategy": "builtin",
        "contact_spacing_s": 86_400,
        "visits_enabled": True,
    }

    for body, field in (
        ({"default_strategy": "never-saved"}, "default_strategy"),
        ({"contact_spacing_s": 60}, "contact_spacing_s"),
        ({"contact_spacing_s": "1d"}, "contact_spacing_s"),
        ({"visits_enabled": "no"}, "visits_enabled"),
        ({"spacing": 7200}, "spacing"),
    ):
        reply = await put_settings(desk, body)
        assert reply.status_code == 422, (body, reply.text)
        assert reply.headers["content-type"].startswith(PROBLEM_JSON)
        assert any(field in e["field"] for e in reply.json()["errors"]), reply.json()
    # an agent works calls; settings are for ops
    assert (await put_settings(desk, {"visits_enabled": False}, Role.AGENT)).status_code == 403
    assert (await settings(desk))["version"] == 0


async def test_rungs_due_at_once_are_spaced_as_the_tenant_set(desk: Desk) -> None:
    saved = await put_settings(desk, {"contact_spacing_s": 7_200})
    assert saved.status_code == 200, saved.text
    assert saved.json()["effective"]["contact_spacing_s"] == 7_200
    assert saved.json()["updated_by"] == "test"
    # 8 days overdue: the first reminder and the DPD 7 SMS are due at once
    placed = await desk.place(placement("CN", steady_zone(range(9, 16)), overdue_days=8))
    first, latest = await desk.jobs_when(placed.account_id, lambda js: len(js) == 2, timeout_s=60)
    gap = datetime.fromisoformat(latest["due_at"]) - datetime.fromisoformat(first["due_at"])
    assert gap == timedelta(hours=2), (first, latest)


async def test_new_accounts_follow_the_strategy_the_settings_name(
    desk: Desk, other: Desk, pg: asyncpg.Pool
) -> None:
    gentle = {"jurisdiction": "CN", "steps": [{"dpd": 0, "channel": "sms", "templates": {"zh-CN": CN_SMS}}]}
    reply = await desk.http.reminders.put("/v1/strategies/gentle", json=gentle, headers=desk.headers())
    assert reply.status_code == 200, reply.text
    assert (await put_settings(desk, {"default_strategy": "gentle"})).status_code == 200

    placed = await desk.place(placement("CN", steady_zone(range(9, 16))))
    row = await pg.fetchrow(
        "SELECT strategy FROM reminders.accounts WHERE account_id = $1::uuid", placed.account_id
    )
    assert row is not None and row["strategy"] == "gentle"
    # a GB account of the same tenant: the CN strategy is not for it, the built-in one is
    abroad = await desk.place(placement("GB", steady_zone(range(9, 16))))
    row = await pg.fetchrow(
        "SELECT strategy FROM reminders.accounts WHERE account_id = $1::uuid", abroad.account_id
    )
    assert row is not None and row["strategy"] == "builtin"
    # and another tenant's accounts never follow this tenant's choice
    theirs = await other.place(placement("CN", steady_zone(range(9, 16))))
    row = await pg.fetchrow(
        "SELECT strategy FROM reminders.accounts WHERE account_id = $1::uuid", theirs.account_id
    )
    assert row is not None and row["strategy"] == "builtin"


async def test_a_tenant_without_visits_escalates_to_review(desk: Desk) -> None:
    assert (await put_settings(desk, {"visits_enabled": False})).status_code == 200
    assert (await settings(desk))["effective"]["visits_enabled"] is False
    # 45 days overdue with 12,345.00 owed: the built-in CN strategy escalates to a visit at DPD 30
    placed = await desk.place(placement("CN", steady_zone(range(9, 16)), overdue_days=45))
    found: list[dict[str, Any]] = []

    async def escalated() -> bool:
        records = await read_all(desk.stack.kafka_bootstrap, REMINDERS_TOPIC)
        found[:] = [
            orjson.loads(r.value)
            for r in records
            if dict(r.headers).get("ce_type") == b"collection.escalated"
            and dict(r.headers).get("ce_subject") == placed.account_id.encode()
        ]
        return bool(found)

    await eventually(escalated, timeout_s=60)
    assert [e["to"] for e in found] == ["review"], found


async def test_collectctl_changes_one_setting_and_keeps_the_others(desk: Desk) -> None:
    env = {"COLLECTCTL_SIGNING_KEY_FILE": str(desk.stack.layout.jwt_private_key)}
    where = ("--tenant", desk.tenant, "--url", desk.stack.service_urls["reminders"])
    await collectctl("tenant", "set", *where, "--no-visits", env=env)
    view = json.loads(
        await collectctl("tenant", "set", *where, "--contact-spacing", "43200", "--json", env=env)
    )
    assert view["saved"] == {"default_strategy": None, "contact_spacing_s": 43_200, "visits_enabled": False}
    assert view["version"] == 2

    table = await collectctl("tenant", "show", *where, env=env)
    lines = {line.split()[0]: line.split()[1:] for line in table.splitlines() if line.strip()}
    assert lines["contact_spacing_s"] == ["43200", "43200"]
    assert lines["visits_enabled"] == ["false", "false"]
    assert lines["default_strategy"] == ["-", "builtin"]

    view = json.loads(
        await collectctl("tenant", "set", *where, "--reset", "visits_enabled", "--json", env=env)
    )
    assert view["saved"]["visits_enabled"] is None and view["effective"]["visits_enabled"] is True
    assert view["saved"]["contact_spacing_s"] == 43_200
