"""Reminders' routes. Every change publishes through the outbox in the same transaction."""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import date, datetime, timedelta
from typing import Annotated, Any

import httpx
import phonenumbers
from fastapi import APIRouter, Body, Depends, Path, Query, Request
from pydantic import ValidationError

import common.contracts.intake as c
from common.access import Can, allow, may
from common.auth import Principal, Role, ensure_tenant
from common.crypto import mask_phone
from common.db import unit_of_work
from common.fields import CLOCK_SKEW
from common.problems import ProblemError, field_errors
from reminders import commands, promises
from reminders import repository as repo
from reminders.api import schemas as s
from reminders.api.webhooks import Webhook, answer_no_sooner
from reminders.commands import CallOutcome, InboundSms, LoggedContact
from reminders.domain.strategy import (
    MAX_STRATEGY_TEXT_CHARS,
    Fallback,
    Step,
    Strategy,
    load_default,
    text_chars,
)
from reminders.templates import check_template

router = APIRouter(prefix="/v1", tags=["reminders"])

Strategist = Annotated[Principal, Depends(allow(Can.STRATEGIES))]
StrategyReader = Annotated[Principal, Depends(allow(Can.STRATEGIES, Can.READ_TENANT))]
Agent = Annotated[Principal, Depends(allow(Can.WORK_CALLS))]
# what an agent works with, and what ops and compliance read everywhere in the tenant
WorkReader = Annotated[Principal, Depends(allow(Can.WORK_CALLS, Can.READ_TENANT))]
Reader = Annotated[Principal, Depends(allow(Can.READ_TENANT))]

MESSAGE_CHANNELS = ("sms", "email", "push")
# A promise is due within a year (a longer arrangement is a plan), a plan's installments within ten:
# an active promise pauses the ladder until its date, so a date far ahead would pause it for good.
PROMISE_HORIZON = timedelta(days=366)
PLAN_HORIZON = timedelta(days=3653)


async def _account(request: Request, principal: Principal, account_id: uuid.UUID) -> Any:
    async with request.app.state.runtime.sessions() as session:
        row = await repo.account(session, account_id)
    if row is None:
        raise ProblemError(404, "not found")
    ensure_tenant(principal, row.tenant)
    return row


# --- strategies ---------------------------------------------------------------------------------


@router.put(
    "/strategies/{name}",
    summary="Save a dunning strategy; every template is linted by compliance",
    response_model=s.StrategyOut,
)
async def put_strategy(
    name: Annotated[str, Path(max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")],
    request: Request,
    principal: Strategist,
    document: Annotated[dict[str, Any], Body()],
) -> s.StrategyOut:
    try:
        strategy = Strategy.model_validate(document)
    except ValidationError as exc:
        raise ProblemError(
            422, "the strategy did not validate", errors=field_errors(exc.errors(include_url=False))
        ) from None
    chars = text_chars(strategy)
    if chars > MAX_STRATEGY_TEXT_CHARS:
        too_long = f"templates and subjects add up to {chars} characters; at most {MAX_STRATEGY_TEXT_CHARS}"
        raise ProblemError(422, too_long, errors=[{"field": "body", "message": too_long}])
    # Up to MAX_STRATEGY_TEXT_CHARS of templates to parse: not on the loop every tenant shares.
    problems = await asyncio.to_thread(_template_problems, strategy)
    if problems:
        raise ProblemError(
            422,
            "templates use unknown variables, bad syntax or what mail-merge templates may not contain",
            errors=problems,
        )
    findings = await _lint(request, strategy)
    if findings:
        raise ProblemError(
            422, "compliance refused templates of this strategy", title="Templates refused", errors=findings
        )
    async with unit_of_work(request.app.state.runtime.sessions) as session:
        version = await repo.save_strategy(session, principal.tenant, name, strategy.model_dump(mode="json"))
    return s.StrategyOut(name=name, version=version, document=strategy.model_dump(mode="json"))


def _template_problems(strategy: Strategy) -> list[dict[str, str]]:
    """What `check_template` finds in each template and subject, by its field (path and language)."""
    return [
        {"field": f"{path}.{part}.{lang}", "message": problem}
        for path, message in _messages(strategy)
        for part, texts in (("templates", message.templates), ("subject", message.subject))
        for lang, body in (texts or {}).items()
        for problem in check_template(body)
    ]


def _messages(strategy: Strategy) -> list[tuple[str, Step | Fallback]]:
    """Every message a strategy can send, with its field path: steps, variant steps, fallbacks."""
    steps = [(f"steps.{i}", st) for i, st in enumerate(strategy.steps)]
    for v, variant in enumerate(strategy.variants):
        steps += [(f"variants.{v}.steps.{i}", st) for i, st in enumerate(variant.steps or [])]
    messages: list[tuple[str, Step | Fallback]] = []
    for path, step in steps:
        if step.channel in MESSAGE_CHANNELS:
            messages.append((path, step))
        if step.fallback is not None:
            messages.append((f"{path}.fallback", step.fallback))
    return messages


async def _lint(request: Request, strategy: Strategy) -> list[dict[str, str]]:
    """Ask compliance to lint every template, with the caller's own token."""
    url = f"{request.app.state.settings.compliance_url}/v1/templates:lint"
    headers = {"Authorization": request.headers.get("authorization", "")}
    findings: list[dict[str, str]] = []
    try:
        async with httpx.AsyncClient(timeout=10) as client:
            for path, message in _messages(strategy):
                for language, body in (message.templates or {}).items():
                    subject = (message.subject or {}).get(language)
                    reply = await client.post(
                        url,
                        headers=headers,
                        json={
                            "jurisdiction": strategy.jurisdiction,
                            "channel": message.channel,
                            "language": language,
                            "body": body,
                            "subject": subject,
                        },
                    )
                    if reply.status_code != 200:
                        raise ProblemError(502, f"compliance could not lint a template ({reply.status_code})")
                    for f in reply.json()["findings"]:
                        findings.append(
                            {
                                "field": f"{path}.templates.{language}",
                                "message": f["message"],
                                "rule": f["rule"],
                                "category": f["category"],
                            }
                        )
    except httpx.HTTPError as exc:
        raise ProblemError(
            503, f"compliance is not reachable to lint templates: {type(exc).__name__}"
        ) from None
    return findings


@router.get(
    "/strategies/{name}",
    summary="A saved strategy, or a built-in one (builtin-CN, builtin-US, builtin-GB)",
    response_model=s.StrategyOut,
)
async def get_strategy(
    name: Annotated[str, Path(max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")],
    request: Request,
    principal: StrategyReader,
) -> s.StrategyOut:
    if name.startswith("builtin-"):
        try:
            strategy = load_default(name.removeprefix("builtin-"))
        except (KeyError, ValueError, FileNotFoundError):
            raise ProblemError(404, f"no built-in strategy {name!r}") from None
        return s.StrategyOut(name=name, version=0, document=strategy.model_dump(mode="json"))
    async with request.app.state.runtime.sessions() as session:
        row = await repo.strategy(session, principal.tenant, name)
    if row is None:
        raise ProblemError(404, f"no strategy {name!r}")
    return s.StrategyOut(name=name, version=row.version, document=row.document)


# --- jobs -----------------------------------------------------------------------------------------


@router.get(
    "/accounts/{account_id}/reminders",
    summary="The account's reminder jobs and their states",
    response_model=s.JobsOut,
)
async def account_reminders(account_id: uuid.UUID, request: Request, principal: Reader) -> s.JobsOut:
    await _account(request, principal, account_id)
    async with request.app.state.runtime.sessions() as session:
        rows = await repo.jobs_of(session, account_id)
    return s.JobsOut(
        account_id=str(account_id),
        items=[
            s.JobOut(
                job_id=str(j.job_id),
                step_dpd=j.step_dpd,
                channel=j.channel,
                purpose=j.purpose,
                state=j.state,
                due_at=j.due_at,
                not_before=j.not_before,
                permit_id=str(j.permit_id) if j.permit_id else None,
                permit_expires_at=j.permit_expires_at,
                reasons=j.reasons,
                delivery=j.delivery,
                provider=j.provider,
                updated_at=j.updated_at,
            )
            for j in rows
        ],
    )


# --- call tasks and contact logging ----------------------------------------------------------------


@router.get(
    "/call-tasks",
    summary="An agent's open call tasks (assigning free ones up to 20)",
    response_model=s.CallTasksOut,
)
async def list_call_tasks(
    request: Request,
    principal: WorkReader,
    agent_id: Annotated[str | None, Query(max_length=128, pattern=r"^[^\x00-\x1f]*$")] = None,
) -> s.CallTasksOut:
    if principal.role == Role.AGENT:
        if agent_id not in (None, principal.sub):
            raise ProblemError(403, "an agent sees only their own call tasks")
        agent_id = principal.sub
    runtime = request.app.state.runtime
    async with unit_of_work(runtime.sessions) as session:
        if agent_id is not None and may(principal.role, frozenset({Can.WORK_CALLS})):
            await repo.assign_call_tasks(session, principal.tenant, agent_id, up_to=20)
        tasks = await repo.call_tasks_of(session, principal.tenant, agent_id)
        items = []
        accounts = await repo.accounts_by_id(session, {t.account_id for t in tasks})
        for t in tasks:
            phone = _task_phone(runtime.cipher, accounts.get(t.account_id), t.contact_point_id)
            own = principal.role == Role.AGENT and t.agent_id == principal.sub
            items.append(
                s.CallTaskOut(
                    task_id=str(t.task_id),
                    account_id=str(t.account_id),
                    agent_id=t.agent_id,
                    phone=phone if own or phone is None else mask_phone(phone),
                    permit_expires_at=t.permit_expires_at,
                    created_at=t.created_at,
                )
            )
    return s.CallTasksOut(items=items)


def _task_phone(cipher: Any, account: Any, contact_point_id: str | None) -> str | None:
    for p in (account.contacts or {}).get("phones", []) if account else []:
        if p["id"] == contact_point_id:
            return str(cipher.decrypt(p["number"], context=c.CTX_PHONE))
    return None


@router.post(
    "/call-tasks/{task_id}/outcome",
    summary="What happened on a call; counted in the compliance ledger",
    response_model=s.Recorded,
    status_code=201,
)
async def call_outcome(
    task_id: uuid.UUID, body: s.CallOutcomeIn, request: Request, principal: Agent
) -> s.Recorded:
    runtime = request.app.state.runtime
    now = runtime.clock.now()
    problems = _happened(body.at, now, "at")
    if body.promise is not None:
        problems += _due(body.promise.due_date, now, PROMISE_HORIZON, "promise.due_date")
    if problems:
        raise ProblemError(
            422, "the call outcome did not validate", title="Validation failed", errors=problems
        )
    promise = (body.promise.amount_minor, body.promise.due_date) if body.promise is not None else None
    command = CallOutcome(task_id=task_id, outcome=body.outcome, at=body.at, by=principal, promise=promise)
    async with unit_of_work(runtime.sessions) as session:
        attempt_id = await commands.record_call_outcome(session, command)
    return s.Recorded(status="recorded", id=attempt_id)


@router.post(
    "/contacts",
    summary="Log a contact made outside a task (desk phone, inbound call)",
    response_model=s.Recorded,
    status_code=201,
)
async def log_contact(body: s.ContactIn, request: Request, principal: Agent) -> s.Recorded:
    if principal.role == Role.AGENT and body.agent_id not in (None, principal.sub):
        raise ProblemError(
            403,
            "an agent logs contacts in their own name",
            errors=[{"field": "agent_id", "message": f"must be {principal.sub} or left out"}],
        )
    account = await _account(request, principal, body.account_id)
    now = request.app.state.runtime.clock.now()
    problems = _happened(body.at, now, "at") + _contact_problems(body, account)
    if problems:
        raise ProblemError(422, "the contact did not validate", title="Validation failed", errors=problems)
    command = LoggedContact(
        channel=body.channel,
        direction=body.direction,
        recipient=body.recipient,
        outcome=body.outcome,
        at=body.at,
        agent_id=body.agent_id or principal.sub,
        contact_point_id=body.contact_point_id,
        third_party_id=body.third_party_id,
        refused=body.refused,
    )
    async with unit_of_work(request.app.state.runtime.sessions) as session:
        attempt_id = await commands.log_contact(session, account, command)
    return s.Recorded(status="recorded", id=attempt_id)


# Which of the account's contact points a channel reaches the debtor on.
_POINTS_OF = {"voice_call": "phones", "sms": "phones", "email": "emails", "letter": "addresses"}
_WHERE = "see borrower.phones, .emails, .addresses and .third_parties in intake's GET /v1/accounts/{id}"


def _contact_problems(body: s.ContactIn, account: Any) -> list[dict[str, str]]:
    """Field errors when a logged contact does not say whom it reached (so caps can count it)."""
    problems: list[dict[str, str]] = []
    if body.recipient == "third_party":
        known = {t["id"] for t in account.third_parties or []}
        if body.third_party_id not in known:
            problems.append(
                {"field": "third_party_id", "message": f"name one of the account's third parties; {_WHERE}"}
            )
        return problems
    if body.third_party_id is not None:
        problems.append({"field": "third_party_id", "message": "only for a contact with a third party"})
    if body.refused:
        problems.append(
            {
                "field": "refused",
                "message": "a debtor who wants no more contact makes a cease request (via the lender)",
            }
        )
    kind = _POINTS_OF.get(body.channel)
    points = {p["id"] for p in (account.contacts or {}).get(kind, [])} if kind else set()
    required = body.channel in ("voice_call", "sms", "email")
    if body.contact_point_id is None and required:
        problems.append(
            {"field": "contact_point_id", "message": f"name the {body.channel} contact point; {_WHERE}"}
        )
    elif body.contact_point_id is not None and body.contact_point_id not in points:
        problems.append(
            {
                "field": "contact_point_id",
                "message": f"not one of this account's {kind or 'contact points'}; {_WHERE}",
            }
        )
    return problems


def _happened(at: datetime, now: datetime, field: str) -> list[dict[str, str]]:
    """A field error when `at`, the time something happened, is ahead of our clock beyond its skew:
    it would count in the compliance ledger's windows before it happened."""
    if at <= now + CLOCK_SKEW:
        return []
    return [
        {"field": field, "message": f"in the future (our clock says {now.isoformat(timespec='seconds')})"}
    ]


def _due(day: date, now: datetime, horizon: timedelta, field: str) -> list[dict[str, str]]:
    """A field error unless `day` is today or later and within `horizon` of today."""
    today = now.date()
    if today <= day <= today + horizon:
        return []
    return [{"field": field, "message": f"must be between today ({today}) and {today + horizon}"}]


# --- promises and plans ---------------------------------------------------------------------------


@router.post("/promises", summary="Record a promise to pay", response_model=s.PromiseOut, status_code=201)
async def create_promise(body: s.PromiseIn, request: Request, principal: Agent) -> s.PromiseOut:
    account = await _account(request, principal, body.account_id)
    runtime = request.app.state.runtime
    problems = _due(body.due_date, runtime.clock.now(), PROMISE_HORIZON, "due_date")
    if problems:
        raise ProblemError(422, "a promise is for today or later, within a year", errors=problems)
    async with unit_of_work(runtime.sessions) as session:
        promise_id = await promises.make_promise(
            session,
            account,
            amount_minor=body.amount_minor,
            due_date=body.due_date,
            source=body.source,
            at=runtime.clock.now(),
        )
        row = next(
            p for p in await repo.promises_of(session, account.account_id) if p.promise_id == promise_id
        )
    return _promise_out(row)


def _promise_out(p: Any) -> s.PromiseOut:
    return s.PromiseOut(
        promise_id=str(p.promise_id),
        account_id=str(p.account_id),
        amount_minor=p.amount_minor,
        paid_minor=p.paid_minor,
        due_date=p.due_date,
        state=p.state,
        source=p.source,
        created_at=p.created_at,
    )


@router.get(
    "/accounts/{account_id}/promises", summary="The account's promises", response_model=list[s.PromiseOut]
)
async def list_promises(account_id: uuid.UUID, request: Request, principal: WorkReader) -> list[s.PromiseOut]:
    await _account(request, principal, account_id)
    async with request.app.state.runtime.sessions() as session:
        return [_promise_out(p) for p in await repo.promises_of(session, account_id)]


@router.post("/plans", summary="Record a repayment plan", response_model=s.PlanOut, status_code=201)
async def create_plan(body: s.PlanIn, request: Request, principal: Agent) -> s.PlanOut:
    account = await _account(request, principal, body.account_id)
    dates = [i.due_date for i in body.installments]
    if dates != sorted(dates) or len(set(dates)) != len(dates):
        raise ProblemError(
            422,
            "installments must have distinct dates in order",
            errors=[{"field": "installments", "message": "dates out of order or repeated"}],
        )
    runtime = request.app.state.runtime
    now = runtime.clock.now()
    problems = [
        problem
        for i, installment in enumerate(body.installments)
        for problem in _due(installment.due_date, now, PLAN_HORIZON, f"installments.{i}.due_date")
    ]
    if problems:
        raise ProblemError(422, "installments are due from today on, within ten years", errors=problems)
    async with unit_of_work(runtime.sessions) as session:
        plan_id = await promises.make_plan(
            session,
            account,
            installments=[(i.due_date, i.amount_minor) for i in body.installments],
            at=runtime.clock.now(),
        )
        row = next(p for p in await repo.plans_of(session, account.account_id) if p.plan_id == plan_id)
    return _plan_out(row)


def _plan_out(p: Any) -> s.PlanOut:
    return s.PlanOut(
        plan_id=str(p.plan_id),
        account_id=str(p.account_id),
        installments=p.installments,
        state=p.state,
        created_at=p.created_at,
    )


@router.get(
    "/accounts/{account_id}/plans", summary="The account's repayment plans", response_model=list[s.PlanOut]
)
async def list_plans(account_id: uuid.UUID, request: Request, principal: WorkReader) -> list[s.PlanOut]:
    await _account(request, principal, account_id)
    async with request.app.state.runtime.sessions() as session:
        return [_plan_out(p) for p in await repo.plans_of(session, account_id)]


# --- provider webhooks ----------------------------------------------------------------------------


@router.post(
    "/inbound/sms",
    summary="An SMS reply; STOP and its equivalents opt the number out at once",
    description="Answers the same, in about the same time, whether or not the sender is known.",
    response_model=s.InboundOut,
)
async def inbound_sms(body: s.InboundSmsIn, request: Request, caller: Webhook) -> s.InboundOut:
    started = time.monotonic()
    try:
        number = phonenumbers.parse(body.from_, None)
    except phonenumbers.NumberParseException:
        raise ProblemError(
            422, "`from` must be an E.164 number", errors=[{"field": "from", "message": "not E.164"}]
        ) from None
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    runtime = request.app.state.runtime
    problems = _happened(body.received_at, runtime.clock.now(), "received_at")
    if problems:
        raise ProblemError(422, "the reply cannot have been received yet", errors=problems)
    command = InboundSms(e164=e164, text=body.text, received_at=body.received_at)
    async with unit_of_work(runtime.sessions) as session:
        await commands.receive_sms(session, runtime.cipher, command, caller=caller)
    # Masks hide only a few digits: an answer that told a borrower from a stranger, by its body or by
    # how long it took, would let a caller find the rest. So every sender gets the same, no sooner.
    await answer_no_sooner(started, request.app.state.settings.inbound_answer_floor_s)
    return s.InboundOut(status="received")


@router.post("/receipts/{provider}", summary="A provider's delivery receipt", response_model=s.Recorded)
async def receipt(
    provider: Annotated[str, Path(max_length=32, pattern=r"^[A-Za-z0-9_.-]+$")],
    body: s.ReceiptIn,
    request: Request,
    caller: Webhook,
) -> s.Recorded:
    async with unit_of_work(request.app.state.runtime.sessions) as session:
        await commands.record_receipt(
            session, provider, body.provider_message_id, status=body.status, caller=caller
        )
    return s.Recorded(status="recorded", id=body.provider_message_id)
