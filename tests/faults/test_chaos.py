"""The fault suite (`make test-faults`; `make test` runs it too): while a lender's book of a couple of
thousand placements flows through the pipeline, every service is killed with SIGKILL in turn, then
the broker, PostgreSQL stops as a power cut would, and one reminders process is frozen (SIGSTOP)
past its consumer session while a second one takes its partitions, then thawed. Afterwards:

- every lender event was applied once by every service (one audit entry per placement, one account
  row per service), however often the outboxes re-published and the consumers re-read;
- every account got exactly one first reminder (one job sent, one message at the provider, under the
  job's idempotency key), and compliance counted one contact for it;
- no permit was used twice and no contact was made without one.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable

import asyncpg
import httpx
import orjson
import pytest

from common.auth import Role
from common.devstack import kafka, postgres, processes
from common.devstack import stack as devstack
from common.devstack.layout import SERVICES
from common.testing.stack import Stack
from tests.e2e.reminders.placements import DAYTIME, placement, steady_zone
from tests.support.waiting import eventually

pytestmark = [pytest.mark.e2e, pytest.mark.faults]

ACCOUNTS = int(os.environ.get("FAULTS_ACCOUNTS", "2000"))
BATCH = 250


@pytest.fixture
async def pg(stack: Stack) -> AsyncIterator[asyncpg.Pool]:
    pool = await asyncpg.create_pool(stack.superuser_dsn, min_size=1, max_size=4)
    try:
        yield pool
    finally:
        await pool.close()


@pytest.fixture
async def chaos(stack: Stack) -> AsyncIterator[None]:
    """Whatever the faults leave behind, the stack is whole again afterwards (one process each)."""
    try:
        yield
    finally:
        for pid_file in stack.layout.run.glob("*.pid"):
            if (pid := processes.read_pid(pid_file)) is not None:
                os.kill(pid, signal.SIGCONT)
        await asyncio.to_thread(devstack.stop_service, stack.layout, "reminders", replica=1)
        await asyncio.to_thread(devstack.up, stack.layout)


async def kill_9(stack: Stack, name: str, port: int | None = None) -> None:
    """SIGKILL, then wait until the process is gone and its port free (the kernel takes a moment)."""
    pid = processes.read_pid(stack.layout.run / f"{name}.pid")
    assert pid is not None, f"{name} is not running"
    os.kill(pid, signal.SIGKILL)
    await eventually(lambda: not processes.pid_alive(pid), timeout_s=30, interval_s=0.1)
    if port is not None:
        await eventually(lambda: not processes.port_open(port), timeout_s=60, interval_s=0.2)


async def post_book(stack: Stack, tenant: str) -> list[tuple[str, str]]:
    """The lender's whole book in NDJSON batches; (account_id, phone) of each placement."""
    zone = steady_zone(DAYTIME)
    placed: list[tuple[str, str]] = []
    headers = {**stack.headers(tenant=tenant, role=Role.LENDER), "content-type": "application/x-ndjson"}
    async with httpx.AsyncClient(base_url=stack.service_urls["intake"], timeout=120) as http:
        for start in range(0, ACCOUNTS, BATCH):
            batch = [placement("CN", zone) for _ in range(min(BATCH, ACCOUNTS - start))]
            body = b"\n".join(orjson.dumps(p.event) for p in batch) + b"\n"
            for _ in range(60):  # intake itself is among the processes killed
                try:
                    response = await http.post("/v1/events", content=body, headers=headers)
                except httpx.TransportError:
                    await asyncio.sleep(1)
                    continue
                if response.status_code < 500:
                    break
                await asyncio.sleep(1)
            assert response.status_code in (200, 207), response.text
            results = response.json()["results"]
            assert [r["status"] for r in results] == ["accepted"] * len(batch), results[:3]
            placed += [(r["account_id"], p.phone) for r, p in zip(results, batch, strict=True)]
    return placed


async def faults(stack: Stack, log: list[str]) -> None:
    """Each fault in turn, a few seconds apart, while the book flows."""
    layout = stack.layout

    async def step(what: str, act: Callable[[], Awaitable[None]]) -> None:
        await asyncio.sleep(3)
        started = time.monotonic()
        await act()
        log.append(f"{what} ({time.monotonic() - started:.1f} s)")

    for service in SERVICES:

        async def restart(s: str = service) -> None:
            await kill_9(stack, s)
            await asyncio.to_thread(devstack.start_service, layout, s)

        await step(f"kill -9 {service}", restart)

    async def broker() -> None:
        await kill_9(stack, "kafka", port=layout.kafka_port)
        await asyncio.to_thread(kafka.start, layout)

    await step("kill -9 the broker", broker)
    await step(
        "PostgreSQL stopped in immediate mode and started", lambda: asyncio.to_thread(postgres.crash, layout)
    )

    async def frozen() -> None:
        # A second reminders process joins; the first is frozen past its session timeout, so the
        # group moves its partitions away, then it wakes holding work it no longer owns.
        await asyncio.to_thread(devstack.start_service, layout, "reminders", replica=1)
        pid = processes.read_pid(layout.run / "reminders.pid")
        assert pid is not None
        os.kill(pid, signal.SIGSTOP)
        await asyncio.sleep(15)
        os.kill(pid, signal.SIGCONT)

    await step("reminders frozen 15 s (SIGSTOP) beside a second process, then thawed", frozen)


async def test_the_book_survives_every_fault_exactly_once(
    stack: Stack, pg: asyncpg.Pool, chaos: None, figures: list[str]
) -> None:
    tenant = f"faults-{uuid.uuid4().hex[:8]}"
    log: list[str] = []
    posting = asyncio.create_task(post_book(stack, tenant))
    await faults(stack, log)
    placed = await posting
    accounts = [uuid.UUID(a) for a, _ in placed]
    assert len(set(accounts)) == ACCOUNTS

    async def all_sent() -> bool:
        try:
            sent = await pg.fetchval(
                "SELECT count(*) FROM reminders.jobs WHERE account_id = ANY($1::uuid[])"
                " AND purpose = 'collection' AND step_dpd = 0 AND state = 'sent'",
                accounts,
            )
        except (OSError, asyncpg.PostgresError):  # PostgreSQL may still be recovering from its crash
            return False
        return bool(sent == ACCOUNTS)

    await eventually(all_sent, timeout_s=300, interval_s=2)

    # Every lender event applied once by every service.
    for table in ("compliance.accounts", "reminders.accounts", "visits.accounts"):
        rows = await pg.fetchval(f"SELECT count(*) FROM {table} WHERE account_id = ANY($1::uuid[])", accounts)
        assert rows == ACCOUNTS, table
    audited = await pg.fetch(
        "SELECT content::jsonb ->> 'ce_subject' AS account, count(*) AS n FROM compliance.audit_log"
        " WHERE chain = $1 AND kind = 'event' AND content::jsonb ->> 'ce_type' = 'account.placed' GROUP BY 1",
        tenant,
    )
    assert Counter(r["n"] for r in audited) == {1: ACCOUNTS}

    # One first reminder each, at the provider once, and counted once.
    jobs = await pg.fetch(
        "SELECT account_id, job_id::text, state FROM reminders.jobs WHERE account_id = ANY($1::uuid[])"
        " AND purpose = 'collection' AND step_dpd = 0",
        accounts,
    )
    assert Counter(r["state"] for r in jobs) == {"sent": ACCOUNTS}
    # Two borrowers may share a number (random local mobiles): count by the job's idempotency key.
    ours = {r["job_id"] for r in jobs}
    keys: Counter[str] = Counter()
    async with httpx.AsyncClient(base_url=stack.sandbox_url, timeout=30) as sandbox:
        for phone in {phone for _, phone in placed}:
            messages = (await sandbox.get("/v1/messages", params={"to": phone})).json()["messages"]
            keys.update(m["idempotency_key"] for m in messages if m["idempotency_key"] in ours)
    assert set(keys) == ours and set(keys.values()) == {1}
    attempts = await pg.fetch(
        "SELECT account_id, count(*) AS n FROM compliance.ledger WHERE account_id = ANY($1::uuid[]) GROUP BY 1",
        accounts,
    )
    assert Counter(r["n"] for r in attempts) == {1: ACCOUNTS}

    # No permit used twice, none of these contacts made without one.
    used = await pg.fetch(
        "SELECT used_by, count(*) AS n FROM compliance.decisions WHERE account_id = ANY($1::uuid[])"
        " AND used_at IS NOT NULL GROUP BY 1",
        accounts,
    )
    assert all(r["n"] == 1 for r in used)
    violations = await pg.fetchval(
        "SELECT count(*) FROM compliance.violations WHERE account_id = ANY($1::uuid[])", accounts
    )
    assert violations == 0
    figures.append(f"faults: {ACCOUNTS} placements, {len(log)} faults injected: " + "; ".join(log))
