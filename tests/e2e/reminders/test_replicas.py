"""Two processes of compliance and of reminders at once, as an operator scales out under load: they
share the consumer groups and the outboxes, the partitions move between them while placements flow,
and still every reminder goes out once and no borrower gets more than the rules allow."""

from __future__ import annotations

import asyncio
import copy
from collections import Counter
from collections.abc import AsyncIterator

import asyncpg
import pytest

from common.devstack import stack as devstack
from common.testing.stack import Stack
from tests.e2e.intake import builders as b
from tests.e2e.reminders.desk import Desk, Placed
from tests.e2e.reminders.placements import DAYTIME, Placement, placement, steady_zone
from tests.support.kafka import group_state
from tests.support.waiting import eventually

pytestmark = pytest.mark.e2e

SCALED = ("compliance", "reminders")
# The consumer groups of the scaled services (one per service and topic it reads).
GROUPS = (
    "compliance.intake.v1",
    "compliance.reminders.v1",
    "compliance.visits.v1",
    "reminders.intake.v1",
    "reminders.compliance.v1",
)
BORROWERS = 12
# Each borrower has this many accounts, each with a first reminder due at once; one message a day per
# person (house spacing), so exactly one of them may go out.
ACCOUNTS_EACH = 2


@pytest.fixture
async def replicas(stack: Stack) -> AsyncIterator[None]:
    try:
        for service in SCALED:
            await asyncio.to_thread(devstack.start_service, stack.layout, service, replica=1)
        yield
    finally:
        for service in SCALED:
            await asyncio.to_thread(devstack.stop_service, stack.layout, service, replica=1)
        # The groups settle back on one process each before the next test counts on them.
        for group in GROUPS:
            await eventually(lambda g=group: _settled_on_one(stack, g), timeout_s=90, interval_s=0.5)


def same_borrower(first: Placement) -> Placement:
    """Another account of the first placement's borrower, placed by its own lender event."""
    event = copy.deepcopy(first.event)
    event["event_id"] = b.fresh("hb-evt")
    event["account"]["external_account_id"] = b.fresh("A")
    return Placement(
        event=event, jurisdiction=first.jurisdiction, zone=first.zone, phone=first.phone, email=first.email
    )


async def test_two_replicas_share_the_work_and_every_guarantee_holds(
    stack: Stack, desk: Desk, pg: asyncpg.Pool, replicas: None
) -> None:
    zone = steady_zone(DAYTIME)
    firsts = [placement("CN", zone) for _ in range(BORROWERS)]
    placed: list[Placed] = []
    for first in firsts:
        for p in [first, *(same_borrower(first) for _ in range(ACCOUNTS_EACH - 1))]:
            placed.append(await desk.place(p, wait=False))
    accounts = [p.account_id for p in placed]

    # Both processes of each service are in its groups, each with partitions of its own.
    for group in GROUPS:
        await eventually(lambda g=group: _has_members(stack, g, 2), timeout_s=60, interval_s=0.5)

    # Every first reminder is settled: one per borrower sent, the other accounts' held back. A job
    # deferred for a moment (compliance had not read the placement yet) is not settled: it asks
    # again, so "deferred" alone does not end the wait while its borrower has nothing sent.
    async def settled() -> bool:
        rows = await pg.fetch(
            "select j.state, a.borrower_id from reminders.jobs j join reminders.accounts a using (account_id)"
            " where j.account_id = any($1::uuid[]) and j.purpose = 'collection' and j.step_dpd = 0",
            accounts,
        )
        borrowers = {r["borrower_id"] for r in rows}
        served = {r["borrower_id"] for r in rows if r["state"] == "sent"}
        return (
            len(rows) == len(accounts)
            and all(r["state"] in ("sent", "deferred") for r in rows)
            and served == borrowers
        )

    await eventually(settled, timeout_s=120, interval_s=0.5)
    jobs = await pg.fetch(
        "select j.job_id::text, j.state, a.borrower_id from reminders.jobs j"
        " join reminders.accounts a using (account_id)"
        " where j.account_id = any($1::uuid[]) and j.purpose = 'collection' and j.step_dpd = 0",
        accounts,
    )
    sent = Counter(r["borrower_id"] for r in jobs if r["state"] == "sent")
    assert sent == dict.fromkeys({r["borrower_id"] for r in jobs}, 1), sent

    # One message per borrower reached the gateway, under the job's own idempotency key.
    sent_jobs = {r["job_id"] for r in jobs if r["state"] == "sent"}
    for first in firsts:
        keys = [m["idempotency_key"] for m in await desk.messages(first.phone)]
        assert len(keys) == 1 and keys[0] in sent_jobs, keys

    # Each request was decided once and audited once, whichever process took it; allows never
    # exceeded one per borrower, and each was used by exactly one delivery.
    decisions = await pg.fetch(
        "select request_id, outcome, borrower_id, used_at from compliance.decisions"
        " where account_id = any($1::uuid[])",
        accounts,
    )
    audited = await pg.fetch(
        "select content::jsonb->>'request_id' as request_id, count(*) as n from compliance.audit_log"
        " where kind = 'decision' and content::jsonb->>'account_id' = any($1::text[]) group by 1",
        accounts,
    )
    assert {r["request_id"]: r["n"] for r in audited} == {r["request_id"]: 1 for r in decisions}
    allowed = Counter(r["borrower_id"] for r in decisions if r["outcome"] == "allow")
    assert set(allowed.values()) == {1}, allowed
    ledger = await pg.fetch(
        "select borrower_id, count(*) as n from compliance.ledger where account_id = any($1::uuid[])"
        " group by 1",
        accounts,
    )
    assert {r["borrower_id"]: r["n"] for r in ledger} == dict.fromkeys(allowed, 1)


async def _has_members(stack: Stack, group: str, n: int) -> bool:
    return (await group_state(stack.kafka_bootstrap, group))[1] >= n


async def _settled_on_one(stack: Stack, group: str) -> bool:
    return await group_state(stack.kafka_bootstrap, group) == ("Stable", 1)
