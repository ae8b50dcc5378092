"""Reminders' commands (what agents and providers tell it) against the real PostgreSQL, each test in a
transaction that is rolled back:

- a STOP from a number two accounts share opts both out of SMS, cancels their pending texts (not
  their calls) and tells compliance once per account; a reply from a number we do not know, or one
  an ops token of another tenant passes on, leaves no row and no event;
- a call outcome is refused for a task of another agent's (403), one already done (409) and
  another tenant's (404, as if it did not exist); otherwise the task is done, the call counted under
  the task's permit and a promise made on it recorded.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from common.auth import Principal, Role
from common.crypto import FieldCipher, Keyring, generate_keyring_file
from common.problems import ProblemError
from common.testing.stack import Stack
from reminders import commands
from reminders.commands import CallOutcome, InboundSms
from tests.support.plans import fill
from tests.support.rollback import published, rolled_back

pytestmark = pytest.mark.integration

NOW = datetime(2026, 12, 3, 4, 0, tzinfo=UTC)
NUMBER = "+8613800138000"


@pytest.fixture
async def session(stack: Stack) -> AsyncIterator[AsyncSession]:
    async with rolled_back(stack) as conn:
        yield AsyncSession(bind=conn)


@pytest.fixture(scope="module")
def cipher(tmp_path_factory: pytest.TempPathFactory) -> FieldCipher:
    path = tmp_path_factory.mktemp("keys") / "field_keys.json"
    generate_keyring_file(path)
    return FieldCipher(Keyring.load(path))


def principal(tenant: str, role: Role = Role.OPS, sub: str = "someone") -> Principal:
    return Principal(sub=sub, tenant=tenant, role=role)


async def account(session: AsyncSession, tenant: str) -> tuple[uuid.UUID, uuid.UUID]:
    account_id, borrower_id = uuid.uuid4(), uuid.uuid4()
    await fill(
        await session.connection(),
        "reminders.accounts",
        1,
        account_id=f"'{account_id}'::uuid",
        borrower_id=f"'{borrower_id}'::uuid",
        tenant=f"'{tenant}'",
        status="'open'",
    )
    return account_id, borrower_id


async def reached_on(
    session: AsyncSession, point_id: str, ids: tuple[uuid.UUID, uuid.UUID], tenant: str
) -> None:
    await session.execute(
        text(
            "INSERT INTO reminders.contact_points (contact_point_id, account_id, tenant, borrower_id, channel)"
            " VALUES (:p, :a, :t, :b, 'sms')"
        ),
        {"p": point_id, "a": ids[0], "b": ids[1], "t": tenant},
    )


async def pending_job(
    session: AsyncSession, ids: tuple[uuid.UUID, uuid.UUID], tenant: str, channel: str
) -> uuid.UUID:
    job_id = uuid.uuid4()
    await session.execute(
        text(
            "INSERT INTO reminders.jobs (job_id, tenant, account_id, borrower_id, step_dpd, channel, state, due_at)"
            " VALUES (:j, :t, :a, :b, :s, :c, 'planned', :due)"
        ),
        {
            "j": job_id,
            "t": tenant,
            "a": ids[0],
            "b": ids[1],
            "s": 3 if channel == "sms" else 5,
            "c": channel,
            "due": NOW + timedelta(days=1),
        },
    )
    return job_id


async def scalar(session: AsyncSession, sql: str, **params: Any) -> Any:
    return (await session.execute(text(sql), params)).scalar_one()


async def test_stop_from_a_shared_number_opts_out_every_account_it_reaches(
    session: AsyncSession, cipher: FieldCipher
) -> None:
    tenant = f"cmd-{uuid.uuid4().hex[:8]}"
    point = cipher.lookup_hash(NUMBER, purpose="phone")
    first, second = await account(session, tenant), await account(session, tenant)
    for ids in (first, second):
        await reached_on(session, point, ids, tenant)
    text_job = await pending_job(session, first, tenant, "sms")
    call_job = await pending_job(session, first, tenant, "voice_call")

    await commands.receive_sms(
        session, cipher, InboundSms(e164=NUMBER, text=" STOP ", received_at=NOW), caller=None
    )

    for account_id, _ in (first, second):
        opted = await scalar(
            session, "SELECT opted_out FROM reminders.accounts WHERE account_id = :a", a=account_id
        )
        assert opted == ["sms"]
    states = {
        r.job_id: r.state
        for r in await session.execute(
            text("SELECT job_id, state FROM reminders.jobs WHERE job_id = ANY(:ids)"),
            {"ids": [text_job, call_job]},
        )
    }
    assert states == {text_job: "cancelled", call_job: "planned"}
    outs = published(session, "optout.received")
    assert sorted(o["account_id"] for o in outs) == sorted(str(a) for a, _ in (first, second))
    assert {(o["channel"], o["keyword"], o["contact_point_id"]) for o in outs} == {("sms", "stop", point)}
    kept = await scalar(
        session, "SELECT text_sealed FROM reminders.inbound_messages WHERE contact_point_id = :p", p=point
    )
    assert cipher.decrypt(kept, context="reminders.inbound_text") == " STOP "


async def test_a_reply_we_cannot_place_leaves_no_trace(session: AsyncSession, cipher: FieldCipher) -> None:
    tenant, other = f"cmd-{uuid.uuid4().hex[:8]}", f"cmd-{uuid.uuid4().hex[:8]}"
    known = "+8613800138001"
    point = cipher.lookup_hash(known, purpose="phone")
    ids = await account(session, tenant)
    await reached_on(session, point, ids, tenant)

    stranger = InboundSms(e164="+8613800138002", text="STOP", received_at=NOW)
    await commands.receive_sms(session, cipher, stranger, caller=None)
    # An ops token of another tenant relaying a STOP for this tenant's borrower changes nothing.
    relayed = InboundSms(e164=known, text="STOP", received_at=NOW)
    await commands.receive_sms(session, cipher, relayed, caller=principal(other))

    assert (
        await scalar(session, "SELECT opted_out FROM reminders.accounts WHERE account_id = :a", a=ids[0])
        == []
    )
    assert (
        await scalar(
            session, "SELECT count(*) FROM reminders.inbound_messages WHERE contact_point_id = :p", p=point
        )
        == 0
    )
    assert published(session, "optout.received") == []


async def call_task(
    session: AsyncSession, ids: tuple[uuid.UUID, uuid.UUID], tenant: str, *, agent: str, state: str = "open"
) -> tuple[uuid.UUID, uuid.UUID]:
    task_id, permit_id = uuid.uuid4(), uuid.uuid4()
    await session.execute(
        text(
            "INSERT INTO reminders.call_tasks (task_id, tenant, account_id, borrower_id, agent_id, state, permit_id, contact_point_id)"
            " VALUES (:t, :tenant, :a, :b, :agent, :state, :permit, 'point-1')"
        ),
        {
            "t": task_id,
            "tenant": tenant,
            "a": ids[0],
            "b": ids[1],
            "agent": agent,
            "state": state,
            "permit": permit_id,
        },
    )
    return task_id, permit_id


async def test_a_call_outcome_is_refused_unless_the_task_is_the_agents_own_and_open(
    session: AsyncSession,
) -> None:
    tenant = f"cmd-{uuid.uuid4().hex[:8]}"
    ids = await account(session, tenant)
    theirs, _ = await call_task(session, ids, tenant, agent="agent-b")
    done, _ = await call_task(session, ids, tenant, agent="agent-a", state="done")
    agent = principal(tenant, Role.AGENT, "agent-a")

    refusals = {
        "another agent's": (CallOutcome(task_id=theirs, outcome="connected", at=NOW, by=agent), 403),
        "done": (CallOutcome(task_id=done, outcome="connected", at=NOW, by=agent), 409),
        "another tenant's": (
            CallOutcome(
                task_id=theirs, outcome="connected", at=NOW, by=principal("elsewhere", Role.AGENT, "agent-b")
            ),
            404,
        ),
        "unknown": (CallOutcome(task_id=uuid.uuid4(), outcome="connected", at=NOW, by=agent), 404),
    }
    for what, (command, status) in refusals.items():
        async with session.begin_nested():
            with pytest.raises(ProblemError) as refused:
                await commands.record_call_outcome(session, command)
        assert refused.value.status == status, what
    assert published(session, "contact.attempted") == []


async def test_a_call_outcome_counts_the_call_under_its_permit_and_keeps_the_promise(
    session: AsyncSession,
) -> None:
    tenant = f"cmd-{uuid.uuid4().hex[:8]}"
    ids = await account(session, tenant)
    task_id, permit_id = await call_task(session, ids, tenant, agent="agent-a")
    due = date(2026, 12, 20)

    attempt = await commands.record_call_outcome(
        session,
        CallOutcome(
            task_id=task_id,
            outcome="met_promise",
            at=NOW,
            by=principal(tenant, Role.AGENT, "agent-a"),
            promise=(5_000, due),
        ),
    )

    assert attempt == f"task:{task_id}"
    row = (
        await session.execute(
            text("SELECT state, outcome FROM reminders.call_tasks WHERE task_id = :t"), {"t": task_id}
        )
    ).one()
    assert (row.state, row.outcome) == ("done", "met_promise")
    [call] = published(session, "contact.attempted")
    assert (call["attempt_id"], call["channel"], call["permit_id"], call["agent_id"]) == (
        attempt,
        "voice_call",
        str(permit_id),
        "agent-a",
    )
    promise = (
        await session.execute(
            text("SELECT amount_minor, due_date, source FROM reminders.promises WHERE account_id = :a"),
            {"a": ids[0]},
        )
    ).one()
    assert tuple(promise) == (5_000, due, "call")
