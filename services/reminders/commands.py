"""What agents and providers tell reminders, as commands. A route checks the input and names the
caller; the handler here loads what it needs, writes state and the outbox in the caller's
transaction, and refuses (a problem with its status) what the state does not allow."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from prometheus_client import Counter
from sqlalchemy.ext.asyncio import AsyncSession

import common.contracts.contact as k
from common.auth import Principal, Role, ensure_tenant
from common.crypto import FieldCipher
from common.problems import ProblemError
from reminders import promises
from reminders import repository as repo
from reminders.outgoing import publish

RECEIPTS = Counter("delivery_receipts_total", "Providers' receipts by status", ["provider", "status"])
# Replies that opt a number out of SMS at once (TCPA keywords, CN carriers' 退订/TD/T).
STOP_WORDS = frozenset(
    {
        "stop",
        "stopall",
        "unsubscribe",
        "cancel",
        "end",
        "quit",
        "revoke",
        "opt out",
        "optout",
        "退订",
        "td",
        "t",
    }
)


@dataclass(frozen=True)
class CallOutcome:
    """An agent's word on a call task; a promise made on the call comes with it."""

    task_id: uuid.UUID
    outcome: str
    at: datetime
    by: Principal
    promise: tuple[int, date] | None = None  # (amount_minor, due_date)


async def record_call_outcome(session: AsyncSession, cmd: CallOutcome) -> str:
    """The task done, the call counted (contact.attempted), a promise recorded; the attempt's id."""
    task = await repo.call_task(session, cmd.task_id, lock=True)
    if task is None:
        raise ProblemError(404, "not found")
    ensure_tenant(cmd.by, task.tenant)
    if cmd.by.role == Role.AGENT and task.agent_id != cmd.by.sub:
        raise ProblemError(403, "this call task is assigned to another agent")
    if task.state != "open":
        raise ProblemError(409, f"this call task is already {task.state}")
    await repo.update_call_task(session, cmd.task_id, state="done", outcome=cmd.outcome, outcome_at=cmd.at)
    attempt_id = f"task:{cmd.task_id}"
    await publish(
        session,
        k.ContactAttempted(
            attempt_id=attempt_id,
            account_id=str(task.account_id),
            borrower_id=str(task.borrower_id),
            channel="voice_call",
            outcome=cmd.outcome,
            at=cmd.at,
            permit_id=str(task.permit_id) if task.permit_id else None,
            contact_point_id=task.contact_point_id,
            agent_id=cmd.by.sub,
        ),
        tenant=task.tenant,
        borrower_id=task.borrower_id,
        account_id=task.account_id,
    )
    if cmd.promise is not None:
        amount_minor, due_date = cmd.promise
        account = await repo.account(session, task.account_id)
        await promises.make_promise(
            session, account, amount_minor=amount_minor, due_date=due_date, source="call", at=cmd.at
        )
    return attempt_id


@dataclass(frozen=True)
class LoggedContact:
    """A contact made outside a task (desk phone, inbound call), already checked against the account."""

    channel: str
    direction: str
    recipient: str
    outcome: str
    at: datetime
    agent_id: str
    contact_point_id: str | None = None
    third_party_id: str | None = None
    refused: bool = False


async def log_contact(session: AsyncSession, account: Any, cmd: LoggedContact) -> str:
    """Counted in the compliance ledger like any contact of ours; the attempt's id."""
    attempt_id = f"manual:{uuid.uuid4()}"
    await publish(
        session,
        k.ContactAttempted(
            attempt_id=attempt_id,
            account_id=str(account.account_id),
            borrower_id=str(account.borrower_id),
            channel=cmd.channel,
            recipient=cmd.recipient,
            direction=cmd.direction,
            outcome=cmd.outcome,
            at=cmd.at,
            agent_id=cmd.agent_id,
            contact_point_id=cmd.contact_point_id,
            third_party_id=cmd.third_party_id,
            refused=cmd.refused,
        ),
        tenant=account.tenant,
        borrower_id=account.borrower_id,
        account_id=account.account_id,
    )
    return attempt_id


@dataclass(frozen=True)
class InboundSms:
    """A reply from a number, as the provider passed it on (E.164 already)."""

    e164: str
    text: str
    received_at: datetime


async def receive_sms(
    session: AsyncSession, cipher: FieldCipher, cmd: InboundSms, *, caller: Principal | None
) -> None:
    """A reply from a number we text: kept (sealed) on its account; STOP opts every account that
    number belongs to out of SMS at once, cancels their pending texts and tells compliance. A number
    we do not know leaves no trace. `caller` is an ops token (its tenant only) or None for a signed
    provider call (any tenant)."""
    point_id = cipher.lookup_hash(cmd.e164, purpose="phone")
    keyword = cmd.text.strip().lower()
    stop = keyword in STOP_WORDS
    points = await repo.accounts_by_contact_point(session, point_id)
    if caller is not None:
        points = [p for p in points if caller.can_access_tenant(p.tenant)]
    if not points:  # a stranger's text is not ours to keep, and a probe must leave no trace
        return
    await repo.insert_inbound(
        session,
        message_id=uuid.uuid4(),
        contact_point_id=point_id,
        account_id=points[0].account_id,
        text_sealed=cipher.encrypt(cmd.text, context="reminders.inbound_text"),
        keyword=keyword if stop else None,
        received_at=cmd.received_at,
    )
    if not stop:
        return
    for p in points:
        account = await repo.account(session, p.account_id, lock=True)
        await repo.update_account(session, p.account_id, opted_out=sorted(set(account.opted_out) | {"sms"}))
        await repo.cancel_pending(
            session, [p.account_id], reason="the borrower replied STOP", channels=["sms"]
        )
        await publish(
            session,
            k.OptOutReceived(
                account_id=str(p.account_id),
                borrower_id=str(p.borrower_id),
                channel="sms",
                contact_point_id=point_id,
                keyword=keyword,
                received_at=cmd.received_at,
            ),
            tenant=p.tenant,
            borrower_id=p.borrower_id,
            account_id=p.account_id,
        )


async def record_receipt(
    session: AsyncSession, provider: str, provider_message_id: str, *, status: str, caller: Principal | None
) -> None:
    """A provider's delivery receipt on its message. A signed provider call may update any tenant's
    job of its own; an ops token only its tenant's (an admin's any)."""
    tenant = None if caller is None or caller.role == Role.ADMIN else caller.tenant
    if not await repo.record_receipt(session, provider, provider_message_id, status=status, tenant=tenant):
        raise ProblemError(404, "no message with this provider_message_id")
    RECEIPTS.labels(provider, status).inc()
