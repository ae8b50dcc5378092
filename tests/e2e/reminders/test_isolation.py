"""Another tenant's token never reads or changes an account's reminders, promises or plans: its ids
answer 404."""

from __future__ import annotations

import uuid

import pytest

from common.auth import Role
from tests.e2e.reminders.desk import Desk, now_utc
from tests.e2e.reminders.placements import DAYTIME, daytime_home, placement, steady_zone

pytestmark = pytest.mark.e2e


async def test_another_tenants_ops_token_gets_404_for_an_accounts_reminders(desk: Desk, other: Desk) -> None:
    placed = await desk.place(placement("CN", steady_zone(DAYTIME)))
    jobs = await desk.jobs_when(placed.account_id, lambda js: True)

    for path in ("reminders", "promises", "plans"):
        url = f"/v1/accounts/{placed.account_id}/{path}"
        own = await desk.http.reminders.get(url, headers=desk.headers())
        foreign = await desk.http.reminders.get(url, headers=other.headers(Role.OPS))
        assert own.status_code == 200, (path, own.text)
        nobodys = await desk.http.reminders.get(f"/v1/accounts/{uuid.uuid4()}/{path}", headers=desk.headers())
        assert foreign.status_code == nobodys.status_code == 404, (path, foreign.text)
        # Indistinguishable from an id that does not exist: nothing leaks.
        assert foreign.json()["detail"] == nobodys.json()["detail"]
    decisions = await desk.http.compliance.get(
        f"/v1/accounts/{placed.account_id}/decisions", headers=other.headers(Role.COMPLIANCE)
    )
    assert decisions.status_code == 404, decisions.text
    assert [j["job_id"] for j in await desk.jobs(placed.account_id)] == [j["job_id"] for j in jobs]


async def test_another_tenants_ops_token_cannot_change_a_delivery_by_receipt(desk: Desk, other: Desk) -> None:
    placed = await desk.place(placement(*daytime_home()))
    job = await desk.first_reminder_sent(placed)
    (message,) = await desk.messages(placed.placement.phone)
    receipt = {"provider_message_id": message["id"], "status": "failed", "at": now_utc().isoformat()}

    foreign = await desk.http.reminders.post("/v1/receipts/primary", json=receipt, headers=other.headers())

    assert foreign.status_code == 404, foreign.text
    assert (await desk.jobs(placed.account_id))[0]["delivery"] == job["delivery"] == "accepted"
    delivered = {**receipt, "status": "delivered"}
    own = await desk.http.reminders.post("/v1/receipts/primary", json=delivered, headers=desk.headers())
    assert own.status_code == 200, own.text
    assert own.json() == {"status": "recorded", "id": message["id"]}
    assert (await desk.jobs(placed.account_id))[0]["delivery"] == "delivered"
