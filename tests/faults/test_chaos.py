"""The fault suite (`make test-faults`; `make test` runs it too): while a lender's book of a couple of
thousand placements flows through the pipeline, every service is killed with SIGKILL in turn, then
the broker, PostgreSQL stops as a power cut would, and one reminders process is frozen (SIGSTOP)
past its consumer session while a second one takes its partitions, then thawed. Afterwards:

- every lender event was applied once by every service (one audit entry per placement, one account
  row per service), however often the outboxes re-published and the consumers re-read;
- every account got exactly one first reminder (one job sent, one message at the provider, under the
  job's idempotency key), and compliance counted one contact for it;
- no permit was used twice and no contact was made without one;
- poison reaches `intake.v1.dlq`: records no consumer can read, and a second tenant's placements that
  reminders refuses to store (a database trigger stands in for a bug) while the others apply them;
  once the trigger is gone an operator replays them with `collectctl dlq replay`, reminders applies
  each once, the services that had them skip the copies, and each gets its one first reminder.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import asyncpg
import httpx
import orjson
import pytest

from common.auth import Role
from common.devstack import kafka, postgres, processes
from common.devstack import stack as devstack
from common.devstack.layout import SERVICES
from common.messaging.producer import make_producer
from common.testing.stack import Stack
from tests.e2e.reminders.placements import DAYTIME, placement, steady_zone
from tests.support.cli import collectctl
from tests.support.logs import Tail
from tests.support.waiting import eventually

pytestmark = [pytest.mark.e2e, pytest.mark.faults]

ACCOUNTS = int(os.environ.get("FAULTS_ACCOUNTS", "2000"))
BATCH = 250
POISONED = 5  # the second tenant's placements, which reminders refuses until it is mended
UNREADABLE = 2  # records on intake.v1 that no consumer can decode


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


SERVICE_TABLES = ("compliance.accounts", "reminders.accounts", "visits.accounts")


async def first_reminders_sent(pg: asyncpg.Pool, accounts: list[uuid.UUID]) -> int:
    return int(
        await pg.fetchval(
            "SELECT count(*) FROM reminders.jobs WHERE account_id = ANY($1::uuid[])"
            " AND purpose = 'collection' AND step_dpd = 0 AND state = 'sent'",
            accounts,
        )
    )


async def rows_per_service(pg: asyncpg.Pool, accounts: list[uuid.UUID]) -> dict[str, int]:
    """How many of these accounts each service holds (one row each once every placement applied)."""
    found = {}
    for table in SERVICE_TABLES:
        found[table] = await pg.fetchval(
            f"SELECT count(*) FROM {table} WHERE account_id = ANY($1::uuid[])", accounts
        )
    return found


async def post(stack: Stack, tenant: str, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One NDJSON batch, retried while intake is down (it is among the processes killed)."""
    headers = {**stack.headers(tenant=tenant, role=Role.LENDER), "content-type": "application/x-ndjson"}
    body = b"\n".join(orjson.dumps(e) for e in events) + b"\n"
    async with httpx.AsyncClient(base_url=stack.service_urls["intake"], timeout=120) as http:
        for _ in range(60):
            try:
                response = await http.post("/v1/events", content=body, headers=headers)
            except httpx.TransportError:
                await asyncio.sleep(1)
                continue
            if response.status_code < 500:
                break
            await asyncio.sleep(1)
    assert response.status_code in (200, 207), response.text
    results: list[dict[str, Any]] = response.json()["results"]
    assert [r["status"] for r in results] == ["accepted"] * len(events), results[:3]
    return results


async def post_book(stack: Stack, tenant: str) -> list[tuple[str, str]]:
    """The lender's whole book in NDJSON batches; (account_id, phone) of each placement."""
    zone = steady_zone(DAYTIME)
    placed: list[tuple[str, str]] = []
    for start in range(0, ACCOUNTS, BATCH):
        batch = [placement("CN", zone) for _ in range(min(BATCH, ACCOUNTS - start))]
        results = await post(stack, tenant, [p.event for p in batch])
        placed += [(r["account_id"], p.phone) for r, p in zip(results, batch, strict=True)]
    return placed


async def post_poison(stack: Stack, tenant: str) -> list[str]:
    """Mid-run: records nobody can read, straight onto intake.v1, and the refused tenant's placements."""
    await asyncio.sleep(10)
    producer = make_producer(stack.kafka_bootstrap, client_id="faults-poison")
    await producer.start()
    try:
        for n in range(UNREADABLE):
            await producer.send_and_wait(
                "intake.v1",
                value=b"{not json",
                key=f"poison-{n}".encode(),
                headers=[("ce_tenant", tenant.encode())],
            )
    finally:
        await producer.stop()
    results = await post(
        stack, tenant, [placement("CN", steady_zone(DAYTIME)).event for _ in range(POISONED)]
    )
    return [r["account_id"] for r in results]


@pytest.fixture
async def refused(pg: asyncpg.Pool) -> AsyncIterator[str]:
    """A tenant whose placements reminders cannot store, as a bug in its handler would: every
    attempt fails, so the consumer dead-letters them. Yields the tenant; `mend` removes the fault."""
    tenant = f"refused-{uuid.uuid4().hex[:8]}"
    await pg.execute(f"""
        CREATE OR REPLACE FUNCTION reminders.fault_suite_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF NEW.tenant = '{tenant}' THEN
                RAISE EXCEPTION 'fault suite: reminders refuses tenant %', NEW.tenant;
            END IF;
            RETURN NEW;
        END $$;
        CREATE TRIGGER fault_suite_refuse BEFORE INSERT ON reminders.accounts
            FOR EACH ROW EXECUTE FUNCTION reminders.fault_suite_refuse();
    """)
    try:
        yield tenant
    finally:
        await mend(pg)


async def mend(pg: asyncpg.Pool) -> None:
    await pg.execute(
        "DROP TRIGGER IF EXISTS fault_suite_refuse ON reminders.accounts;"
        " DROP FUNCTION IF EXISTS reminders.fault_suite_refuse();"
    )


async def operator(stack: Stack, *args: str) -> str:
    """`collectctl` against the dev stack's broker."""
    return await collectctl(*args, env={"COLLECTCTL_KAFKA_BOOTSTRAP": stack.kafka_bootstrap})


async def dead_letters(stack: Stack) -> list[dict[str, Any]]:
    listed = await operator(stack, "dlq", "list", "intake.v1", "--limit", "100000", "--json")
    return [orjson.loads(line) for line in listed.splitlines() if line.strip()]


async def faults(stack: Stack, tenant: str, log: list[str]) -> None:
    """Each fault in turn, a few seconds apart, while the book flows."""
    layout = stack.layout

    async def worst_moment(service: str) -> None:
        # Dies right after committing a run of the book's events, before committing their offsets:
        # the group hands the same records out again, and only the inbox stands between them and
        # a second application.
        env = {f"{service.upper()}_FAULTS": f"consumer.after_apply@{tenant}"}
        await asyncio.to_thread(devstack.stop_service, layout, service)
        log = Tail(layout.logs / f"{service}.log")
        await asyncio.to_thread(devstack.start_service, layout, service, extra_env=env, wait=False)
        pid = int((layout.run / f"{service}.pid").read_text())
        await eventually(lambda: not processes.pid_alive(pid), timeout_s=120, interval_s=0.2)
        said = log.text()
        assert "crash point reached: consumer.after_apply" in said, (
            f"{service} died otherwise:\n{said[-3000:]}"
        )
        await asyncio.to_thread(devstack.start_service, layout, service)

    async def step(what: str, act: Callable[[], Awaitable[None]]) -> None:
        await asyncio.sleep(3)
        started = time.monotonic()
        await act()
        log.append(f"{what} ({time.monotonic() - started:.1f} s)")

    for service in ("compliance", "reminders"):

        async def between(s: str = service) -> None:
            await worst_moment(s)

        await step(f"{service} killed between a run's commit and its offsets' commit", between)
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
    stack: Stack, pg: asyncpg.Pool, chaos: None, refused: str, figures: list[str]
) -> None:
    tenant = f"faults-{uuid.uuid4().hex[:8]}"
    log: list[str] = []
    posting = asyncio.create_task(post_book(stack, tenant))
    poisoning = asyncio.create_task(post_poison(stack, refused))
    await faults(stack, tenant, log)
    placed = await posting
    poisoned = [uuid.UUID(a) for a in await poisoning]
    accounts = [uuid.UUID(a) for a, _ in placed]
    assert len(set(accounts)) == ACCOUNTS

    async def all_sent() -> bool:
        try:
            return await first_reminders_sent(pg, accounts) == ACCOUNTS
        except (OSError, asyncpg.PostgresError):  # PostgreSQL may still be recovering from its crash
            return False

    await eventually(all_sent, timeout_s=300, interval_s=2)

    # Every lender event applied once by every service.
    assert await rows_per_service(pg, accounts) == dict.fromkeys(SERVICE_TABLES, ACCOUNTS)
    audited = await pg.fetch(
        "SELECT content::jsonb ->> 'ce_subject' AS account, count(*) AS n FROM compliance.audit_log"
        " WHERE chain = $1 AND kind = 'event' AND content::jsonb ->> 'ce_type' = 'account.placed' GROUP BY 1",
        tenant,
    )
    assert Counter(r["n"] for r in audited) == {1: ACCOUNTS}
    # And every event of the tenant compliance consumed (its own topics' too) is in the chain once.
    twice = await pg.fetch(
        "SELECT content::jsonb ->> 'ce_type' AS type, content::jsonb ->> 'ce_id' AS id, count(*) AS n"
        " FROM compliance.audit_log WHERE chain = $1 AND kind = 'event' GROUP BY 1, 2 HAVING count(*) > 1",
        tenant,
    )
    assert not twice, f"{len(twice)} events applied more than once, e.g. {dict(twice[0])}"
    checked = await pg.fetchval(
        "SELECT count(*) FROM compliance.audit_log WHERE chain = $1 AND kind = 'event'", tenant
    )

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

    replayed = await poison_replayed_once(stack, pg, refused, poisoned)
    figures.append(
        f"faults: {ACCOUNTS} placements ({checked} events checked applied once), {len(log)} faults injected: "
        + "; ".join(log)
        + f"; {UNREADABLE} unreadable records dead-lettered by every consumer, {POISONED} refused"
        f" placements dead-lettered by reminders and {replayed} replayed from the DLQ, each applied once"
    )


async def poison_replayed_once(stack: Stack, pg: asyncpg.Pool, tenant: str, poisoned: list[uuid.UUID]) -> int:
    """The poison is in the DLQ with its reason; replayed once mended, each placement applies once."""

    async def letters() -> list[dict[str, Any]]:
        return [d for d in await dead_letters(stack) if d["ce_tenant"] == tenant]

    async def all_dead() -> bool:
        found = await letters()
        refused = {
            d["ce_id"]
            for d in found
            if d["origin"]["consumer"] == "reminders" and d["reason"] == "handler_error"
        }
        unreadable = Counter(d["origin"]["consumer"] for d in found if d["reason"] == "envelope")
        return len(refused) == POISONED and all(
            unreadable[s] >= UNREADABLE for s in ("compliance", "reminders", "visits")
        )

    await eventually(all_dead, timeout_s=120, interval_s=2)
    found = await letters()
    assert {d["reason"] for d in found} == {"handler_error", "envelope"}, found
    assert all("reminders refuses tenant" in d["error"] for d in found if d["reason"] == "handler_error")
    # The others applied what reminders could not; reminders has none of it.
    assert await rows_per_service(pg, poisoned) == {
        "compliance.accounts": POISONED,
        "reminders.accounts": 0,
        "visits.accounts": POISONED,
    }

    await mend(pg)
    ce_ids = sorted({d["ce_id"] for d in found if d["reason"] == "handler_error"})
    said = await operator(
        stack, "dlq", "replay", "intake.v1", *(a for c in ce_ids for a in ("--ce-id", c)), "--limit", "100000"
    )
    assert said.startswith("replayed "), said

    async def reminded() -> bool:
        return await first_reminders_sent(pg, poisoned) == POISONED

    await eventually(reminded, timeout_s=120, interval_s=1)
    assert await rows_per_service(pg, poisoned) == dict.fromkeys(SERVICE_TABLES, POISONED)
    audited = await pg.fetchval(
        "SELECT count(*) FROM compliance.audit_log WHERE chain = $1 AND kind = 'event'"
        " AND content::jsonb ->> 'ce_type' = 'account.placed'",
        tenant,
    )
    assert audited == POISONED, "a replayed copy was applied again by a service that had it"
    jobs = await pg.fetchval(
        "SELECT count(*) FROM reminders.jobs WHERE account_id = ANY($1::uuid[]) AND purpose = 'collection' AND step_dpd = 0",
        poisoned,
    )
    assert jobs == POISONED
    return int(said.split()[1])
