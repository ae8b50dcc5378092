"""Every hot query uses an index: the statements the repositories really send, explained over tables
filled with tens of thousands of rows inside a transaction that is rolled back.

A statement that reads a whole table is fine on a quiet test database and a disaster on a lender's
book (compliance once scanned every decision for every decision); this test fails on the first
sequential scan of a filled table and prints the statement and its plan.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession, create_async_engine

from common.testing.stack import Stack
from tests.support.plans import fill, recorder, sequential_scans

pytestmark = pytest.mark.integration

ROWS = 30_000
BORROWERS = 10_000


def uid(prefix: str, n: int) -> uuid.UUID:
    """The uuid `fill` gives row n of a prefix: md5(prefix || n)::uuid."""
    return uuid.UUID(hashlib.md5(f"{prefix}{n}".encode()).hexdigest())


B = "md5('b' || (g % 10000 + 1))::uuid"  # a borrower of row g
A = "md5('a' || g)::uuid"  # row g's own account id
A_OF = "md5('a' || (g % 30000 + 1))::uuid"  # an account of row g
SOON = "now() + make_interval(mins => g % 600 - 300)"  # expiries and due times around now


@pytest.fixture
async def db(stack: Stack) -> AsyncIterator[AsyncConnection]:
    engine = create_async_engine(stack.superuser_dsn.replace("postgresql://", "postgresql+asyncpg://", 1))
    try:
        async with engine.connect() as conn:
            transaction = await conn.begin()
            # Another test's rows must not change the plans: this transaction sees only what it adds.
            await conn.execute(text("SET LOCAL lock_timeout = '10s'"))
            try:
                yield conn
            finally:
                await transaction.rollback()
    finally:
        await engine.dispose()


Call = Callable[[AsyncSession], Awaitable[Any]]


async def assert_indexed(conn: AsyncConnection, filled: set[str], calls: dict[str, Call]) -> None:
    session = AsyncSession(bind=conn)
    failures = []
    with recorder(conn) as rec:
        for name, call in calls.items():
            with rec.recording() as statements:
                await call(session)
            assert statements, f"{name} sent no statement"
            for statement, parameters in statements:
                scanned, plan = await sequential_scans(conn, statement, parameters, filled)
                if scanned:
                    failures.append(f"{name} scans {scanned}:\n{statement[:400]}\n{plan}")
    assert not failures, "\n\n".join(failures)


async def test_compliance_hot_queries_use_indexes(stack: Stack, db: AsyncConnection) -> None:
    from compliance import audit_store
    from compliance import repository as repo

    filled = {
        "compliance.audit_log",
        "compliance.audit_checkpoints",
        "compliance.borrowers",
        "compliance.accounts",
        "compliance.ledger",
        "compliance.decisions",
        "compliance.inbox",
        "compliance.outbox",
    }
    await fill(db, "compliance.borrowers", BORROWERS, borrower_id="md5('b' || g)::uuid")
    await fill(db, "compliance.accounts", ROWS, account_id=A, borrower_id=B)
    await fill(db, "compliance.ledger", ROWS, borrower_id=B, account_id=A_OF, at=SOON)
    await fill(
        db,
        "compliance.decisions",
        ROWS,
        borrower_id=B,
        account_id=A_OF,
        outcome="CASE WHEN g % 3 = 0 THEN 'allow' ELSE 'deny' END",
        used_at="CASE WHEN g % 30 = 0 THEN NULL ELSE now() END",
        expires_at=SOON,
        decided_at=SOON,
    )
    await fill(db, "compliance.inbox", ROWS)
    # The audit chains of 20 tenants, and a checkpoint of each every so often.
    await fill(db, "compliance.audit_log", ROWS, chain="'t' || (g % 20)", seq="g")
    await fill(db, "compliance.audit_checkpoints", ROWS, chain="'t' || (g % 20)", seq="g")
    await fill(db, "compliance.outbox", ROWS, published_at="CASE WHEN g > 29990 THEN NULL ELSE now() END")
    now = datetime.now(UTC)
    borrowers = [uid("b", n) for n in range(1, 60)]
    accounts = [uid("a", n) for n in range(1, 60)]
    some = (await db.execute(text("SELECT permit_id FROM compliance.decisions LIMIT 1"))).scalar_one()
    await assert_indexed(
        db,
        filled,
        {
            "borrowers_by_id": lambda s: repo.borrowers_by_id(s, borrowers, lock=True),
            "accounts_by_id": lambda s: repo.accounts_by_id(s, accounts),
            "attempts_of": lambda s: repo.attempts_of(
                s, borrowers, since=now - repo.LEDGER_LOOKBACK, until=now
            ),
            "outstanding_permits_of": lambda s: repo.outstanding_permits_of(s, borrowers, at=now),
            "outstanding_permits": lambda s: repo.outstanding_permits(s, borrowers[0], at=now),
            "decided_requests": lambda s: repo.decided_requests(s, ["r1", "r2", "r-new"]),
            "decision": lambda s: repo.decision(s, some, lock=True),
            "decision_by_request": lambda s: repo.decision_by_request(s, "r7"),
            "decisions_of": lambda s: repo.decisions_of(s, accounts[0], limit=50),
            "decisions_between": lambda s: repo.decisions_between(
                s, "t1", now - timedelta(days=1), now + timedelta(days=1), limit=100
            ),
            "decisions_between_all": lambda s: repo.decisions_between(
                s, None, now - timedelta(days=1), now + timedelta(days=1), limit=100
            ),
            "audit_entries_for": lambda s: audit_store.entries_for(s, [str(some)]),
            "use_permit": lambda s: repo.use_permit(s, some, at=now, by="test"),
            "release_job_permits": lambda s: repo.release_job_permits(
                s, borrowers[0], "job-1", at=now, by="job:job-1", keep=some
            ),
            "attempts": lambda s: repo.attempts(s, borrowers[0], until=now),
            "advance_intake_seq": lambda s: repo.advance_intake_seq(s, borrowers[0], 5),
            "account": lambda s: repo.account(s, accounts[0]),
            "audit_head": lambda s: audit_store.head(s, "t3"),
            "audit_rows": lambda s: drain(audit_store.rows(s, "t3", first=100, limit=10)),
            "audit_seq_after": lambda s: audit_store.seq_after(s, "t3", first=100, skip=50),
            "audit_chains": audit_store.chains,
            "audit_last_checkpoint": lambda s: audit_store.last_checkpoint_seq(s, "t3"),
        },
    )


async def drain(rows: AsyncIterator[Any]) -> list[Any]:
    return [row async for row in rows]


async def test_reminders_hot_queries_use_indexes(stack: Stack, db: AsyncConnection) -> None:
    from reminders import repository as repo

    filled = {
        "reminders.accounts",
        "reminders.jobs",
        "reminders.contact_points",
        "reminders.call_tasks",
        "reminders.promises",
        "reminders.plans",
    }
    await fill(
        db,
        "reminders.accounts",
        ROWS,
        account_id=A,
        borrower_id=B,
        status="CASE WHEN g % 5 = 0 THEN 'closed' ELSE 'open' END",
        # a day's worth of next planning times, a few already past
        next_plan_at="now() + make_interval(mins => g % 1440 - 30)",
    )
    # Most jobs are done; a few are planned, waiting, deferred or sending, as on a live book.
    await fill(
        db,
        "reminders.jobs",
        ROWS * 3,
        account_id=A_OF,
        borrower_id=B,
        step_dpd="g",
        purpose="'collection'",
        state=(
            "CASE g % 40 WHEN 0 THEN 'planned' WHEN 1 THEN 'awaiting_permit' WHEN 2 THEN 'deferred'"
            " WHEN 3 THEN 'sending' WHEN 4 THEN 'cancelled' ELSE 'sent' END"
        ),
        due_at=SOON,
        not_before=SOON,
        request_id="'r' || g",
        provider_message_id="'pm' || g",
    )
    await fill(
        db, "reminders.contact_points", ROWS, account_id=A, borrower_id=B, contact_point_id="'cp' || g"
    )
    await fill(
        db,
        "reminders.call_tasks",
        ROWS,
        account_id=A_OF,
        borrower_id=B,
        tenant="'t' || (g % 20)",
        state="CASE WHEN g % 50 = 0 THEN 'open' ELSE 'done' END",
        agent_id="CASE WHEN g % 100 = 0 THEN NULL ELSE 'agent' || (g % 30) END",
    )
    await fill(
        db,
        "reminders.promises",
        ROWS,
        account_id=A_OF,
        state="CASE WHEN g % 50 = 0 THEN 'active' ELSE 'kept' END",
    )
    await fill(
        db,
        "reminders.plans",
        ROWS,
        account_id=A_OF,
        installments="'[]'::jsonb",
        state="CASE WHEN g % 50 = 0 THEN 'active' ELSE 'completed' END",
    )
    now = datetime.now(UTC)
    accounts = [uid("a", n) for n in range(1, 60)]
    job_id = (await db.execute(text("SELECT job_id FROM reminders.jobs LIMIT 1"))).scalar_one()
    await assert_indexed(
        db,
        filled,
        {
            "claim_due_jobs": lambda s: repo.claim_due_jobs(
                s, now=now, stale_after=timedelta(minutes=5), limit=500
            ),
            "claim_sendable_job": repo.claim_sendable_job,
            "job_by_request": lambda s: repo.job_by_request(s, "r11"),
            "job": lambda s: repo.job(s, job_id, lock=True),
            "update_job": lambda s: repo.update_job(s, job_id, state="sent"),
            "cancel_pending": lambda s: repo.cancel_pending(s, accounts, reason="paid"),
            "record_receipt": lambda s: repo.record_receipt(
                s, "primary", "pm12", status="delivered", tenant="t1"
            ),
            "account": lambda s: repo.account(s, accounts[0], lock=True),
            "accounts_by_id": lambda s: repo.accounts_by_id(s, set(accounts)),
            "accounts_of_borrower": lambda s: repo.accounts_of_borrower(s, uid("b", 3)),
            "accounts_by_contact_point": lambda s: repo.accounts_by_contact_point(s, "cp9"),
            "accounts_to_plan": lambda s: repo.accounts_to_plan(s, now=now, limit=500),
            "accounts_of_borrowers": lambda s: repo.accounts_of_borrowers(
                s, [uid("b", n) for n in range(1, 50)]
            ),
            "update_accounts": lambda s: repo.update_accounts(
                s, {a: {"next_plan_at": now, "steps_done": [0]} for a in accounts}
            ),
            "notice_jobs": lambda s: repo.notice_jobs(s, accounts),
            "promises_of_accounts": lambda s: repo.promises_of_accounts(s, accounts),
            "plans_of_accounts": lambda s: repo.plans_of_accounts(s, accounts),
            "advance_intake_seqs": lambda s: repo.advance_intake_seqs(
                s, {uid("b", n): 9 for n in range(1, 50)}
            ),
            "update_jobs": lambda s: repo.update_jobs(
                s, {job_id: {"state": "awaiting_permit", "request_id": "x"}}
            ),
            "jobs_of": lambda s: repo.jobs_of(s, accounts[0]),
            "notice_job": lambda s: repo.notice_job(s, accounts[0]),
            "has_sent": lambda s: repo.has_sent(s, accounts[0], purpose="validation_notice"),
            "advance_intake_seq": lambda s: repo.advance_intake_seq(s, uid("b", 3), 4),
            "due_promises": lambda s: repo.due_promises(s, before=now),
            "active_plans": repo.active_plans,
            "promises_of": lambda s: repo.promises_of(s, accounts[0]),
            "plans_of": lambda s: repo.plans_of(s, accounts[0]),
            "call_tasks_of": lambda s: repo.call_tasks_of(s, "t1", "agent3"),
            "assign_call_tasks": lambda s: repo.assign_call_tasks(s, "t1", "agent3", up_to=5),
        },
    )


async def test_intake_and_outbox_hot_queries_use_indexes(stack: Stack, db: AsyncConnection) -> None:
    from common.messaging.relay import OutboxRelay
    from intake import repository as repo
    from intake.tables import outbox

    filled = {
        "intake.borrowers",
        "intake.accounts",
        "intake.lender_events",
        "intake.payments",
        "intake.outbox",
    }
    await fill(
        db,
        "intake.borrowers",
        BORROWERS,
        borrower_id="md5('b' || g)::uuid",
        tenant="'t' || (g % 20)",
        external_borrower_id="'xb' || g",
    )
    await fill(
        db,
        "intake.accounts",
        ROWS,
        account_id=A,
        borrower_id=B,
        tenant="'t' || (g % 20)",
        external_account_id="'xa' || g",
        placed_at=SOON,
    )
    await fill(
        db, "intake.lender_events", ROWS, tenant="'t' || (g % 20)", event_id="'e' || g", account_id=A_OF
    )
    await fill(db, "intake.payments", ROWS, account_id=A_OF)
    # A day and a bit of published rows, the oldest past the retention; the newest still pending.
    await fill(
        db,
        "intake.outbox",
        ROWS,
        published_at="CASE WHEN g < 10 THEN NULL ELSE now() - make_interval(secs => g * 3) END",
    )

    class Sessions:
        def __init__(self, session: AsyncSession) -> None:
            self.session = session

        def __call__(self) -> Any:
            return _Nested(self.session)

    relay = OutboxRelay(
        sessions=Sessions(AsyncSession(bind=db)), outbox=outbox, producer=None, batch_size=500
    )  # type: ignore[arg-type]
    await assert_indexed(
        db,
        filled,
        {
            "known_lender_events": lambda s: repo.known_lender_events(s, "t1", ["e1", "e21", "e-new"]),
            "accounts_by_external": lambda s: repo.accounts_by_external(s, "t1", ["xa1", "xa21"], lock=True),
            "borrowers_by_external": lambda s: repo.borrowers_by_external(s, "t1", ["xb1", "xb21"]),
            "advance_event_seqs": lambda s: repo.advance_event_seqs(s, {uid("b", 1): 2, uid("b", 2): 1}),
            "account_views": lambda s: repo.account_views(s, [uid("a", 1), uid("a", 2)]),
            "account_id_by_external": lambda s: repo.account_id_by_external(s, "t1", "xa21"),
            "account_page": lambda s: repo.account_page(
                s, "t1", external_account_id=None, after=None, limit=50
            ),
            # A prune deletes a small share of a day's outbox (here 100 of 30,000 rows).
            "prune_published": lambda _s: relay.prune_published(limit=100),
        },
    )


class _Nested:
    """A session context for the relay that runs inside the test's transaction (a savepoint)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def __aenter__(self) -> AsyncSession:
        return self.session

    async def __aexit__(self, *exc: object) -> None:
        return None


async def test_visits_hot_queries_use_indexes(stack: Stack, db: AsyncConnection) -> None:
    from visits import repository as repo

    filled = {"visits.accounts", "visits.visits"}
    await fill(db, "visits.accounts", ROWS, account_id=A, borrower_id=B, tenant="'t' || (g % 20)")
    # Most cases are long finished; a few are open, with their permit requests and door promises.
    await fill(
        db,
        "visits.visits",
        ROWS,
        account_id=A,
        borrower_id=B,
        tenant="'t' || (g % 20)",
        state="CASE WHEN g % 50 = 0 THEN 'permitted' ELSE 'completed' END",
        date="current_date - (g % 400)",
        request_id="'r' || g",
        promise_id="CASE WHEN g % 7 = 0 THEN md5('p' || g)::uuid END",
    )
    accounts = [uid("a", n) for n in range(1, 60)]
    await assert_indexed(
        db,
        filled,
        {
            "account": lambda s: repo.account(s, accounts[0], lock=True),
            "accounts_by_id": lambda s: repo.accounts_by_id(s, accounts),
            "accounts_of_borrower": lambda s: repo.accounts_of_borrower(s, uid("b", 3)),
            "open_visit_of": lambda s: repo.open_visit_of(s, accounts[0]),
            "visits_by_request": lambda s: repo.visits_by_request(s, ["r11", "r12"]),
            "visits_of_accounts": lambda s: repo.visits_of_accounts(s, accounts, states=repo.OPEN),
            "visits_of_day": lambda s: repo.visits_of_day(s, "t3", datetime.now(UTC).date()),
            "visits_with_promise": lambda s: repo.visits_with_promise(s, str(uid("p", 7))),
        },
    )
