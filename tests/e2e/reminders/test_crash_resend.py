"""Killed right after the provider took a reminder, before recording it: the restarted service sends
it again under the same idempotency key, so the borrower gets it once and compliance counts it once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass

import asyncpg
import pytest

from common.devstack import processes
from common.devstack import stack as devstack
from common.testing.stack import Stack
from tests.e2e.reminders.desk import Desk
from tests.e2e.reminders.placements import DAYTIME, placement, steady_zone
from tests.support.waiting import eventually

pytestmark = pytest.mark.e2e

SERVICE = "reminders"


def crash_after_send(tenant: str) -> dict[str, str]:
    """Die right after the provider took a message of this tenant's (another test's never counts)."""
    return {"REMINDERS_FAULTS": f"reminders.after_send@{tenant}"}


@dataclass
class Reminders:
    """The dev stack's reminders process, restarted with or without crash points."""

    stack: Stack
    faulty: bool = False

    @property
    def alive(self) -> bool:
        return processes.read_pid(self.stack.layout.run / f"{SERVICE}.pid") is not None

    async def restart(self, extra_env: dict[str, str] | None = None) -> None:
        await asyncio.to_thread(devstack.stop_service, self.stack.layout, SERVICE)
        await asyncio.to_thread(devstack.start_service, self.stack.layout, SERVICE, extra_env=extra_env)
        self.faulty = extra_env is not None


@pytest.fixture
async def reminders(stack: Stack, desk: Desk) -> AsyncIterator[Reminders]:
    """Reminders restarted to die right after a provider accepts a message of the desk's tenant; a
    normal reminders service is running again afterwards, whatever happened."""
    service = Reminders(stack)
    try:
        await service.restart(crash_after_send(desk.tenant))
        yield service
    finally:
        if service.faulty or not devstack.service_running(stack.layout, SERVICE):
            await service.restart()


async def test_a_crash_after_the_provider_took_the_reminder_still_sends_it_once(
    stack: Stack, desk: Desk, pg: asyncpg.Pool, reminders: Reminders
) -> None:
    # A CN borrower where it is daytime: the first thing sent is the SMS (a US account's would be
    # its validation notice).
    home = placement("CN", steady_zone(DAYTIME))

    placed = await desk.place(home, wait=False)

    await eventually(lambda: not reminders.alive, timeout_s=60)
    assert not devstack.service_running(stack.layout, SERVICE)
    (taken,) = await desk.messages(home.phone)  # the provider had the message when the process died
    state = await pg.fetchval(
        "select state from reminders.jobs where account_id = $1 and channel = 'sms'", placed.account_id
    )
    assert state == "sending", state  # the send was never recorded

    await reminders.restart()

    job = await desk.first_reminder_sent(placed)
    assert job["delivery"] == "duplicate", job  # the provider recognised the idempotency key
    assert job["job_id"] == taken["idempotency_key"]
    decision = await desk.permit_used(placed.account_id, job["permit_id"])
    assert decision["used_by"] == f"job:{job['job_id']}"
    assert [m["id"] for m in await desk.messages(home.phone)] == [taken["id"]]
    attempts = await pg.fetch(
        "select attempt_id, outcome, permit_id::text from compliance.ledger where account_id = $1",
        placed.account_id,
    )
    assert [tuple(a) for a in attempts] == [(f"job:{job['job_id']}", "delivered", job["permit_id"])]
    assert await desk.violations_of(placed.account_id) == []
