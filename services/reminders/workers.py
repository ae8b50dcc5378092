"""The background loops of reminders: dispatch due jobs to compliance, send permitted ones exactly
once, and plan the ladder as days pass. Each claims its rows with FOR UPDATE SKIP LOCKED, so any
number of replicas can run them."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import structlog
from prometheus_client import Counter
from sqlalchemy.ext.asyncio import AsyncSession

import common.contracts.contact as k
import common.contracts.intake as c
from common.clock import ShiftableClock
from common.db import unit_of_work
from common.messaging.outbox import OutgoingEvent, enqueue
from common.service import Runtime
from common.tracing import current_traceparent
from common.wakeup import wait_for
from reminders import planner, promises, wake
from reminders import repository as repo
from reminders.channels import Channels
from reminders.channels.base import OutgoingMessage, PermanentDeliveryError, TransientDeliveryError
from reminders.domain.jobs import PERMIT_CHANNEL, AccountView, permit_usable, stop_reason
from reminders.domain.strategy import Step, choose_language, steps_for
from reminders.handlers import settled
from reminders.notices import mailing_address, render_validation_notice
from reminders.outgoing import SOURCE, TOPIC, publish
from reminders.settings import RemindersSettings
from reminders.tables import outbox
from reminders.templates import TemplateRenderError, render

log = structlog.get_logger(__name__)
DELIVERIES = Counter("deliveries_total", "Reminders handed to a channel, by outcome", ["channel", "outcome"])

MAX_SEND_TRIES = 5
PLAN_BATCH = 500
DISPATCH_BATCH = 500
SENDER_FALLBACK_S = 10.0


@dataclass
class Workers:
    runtime: Runtime
    settings: RemindersSettings
    channels: Channels

    def __post_init__(self) -> None:
        self.spacing = timedelta(seconds=self.settings.contact_spacing_s)
        self.permit_wait = timedelta(seconds=self.settings.permit_wait_s)

    def start(self) -> None:
        wakeups = self.runtime.wakeups
        loops: list[tuple[str, Callable[[], Awaitable[bool]], float, asyncio.Event]] = [
            ("dispatch", self.dispatch_due, self.settings.dispatch_interval_s, wakeups.event(wake.DISPATCH)),
            ("plan", self.plan_ladder, self.settings.planner_interval_s, asyncio.Event()),
        ]
        sendable = wakeups.event(wake.SEND)
        # A job becomes sendable only when a permit arrives, which wakes the senders; their own look
        # is a fallback (a lost notification), so it can be rare.
        loops += [
            (f"send-{n}", self.send_one, SENDER_FALLBACK_S, sendable) for n in range(self.settings.senders)
        ]
        for name, step, idle, woken in loops:
            if isinstance(self.runtime.clock, ShiftableClock):
                # Days passed on a moved clock: plan and dispatch now rather than at the next tick.
                self.runtime.clock.on_shift(woken.set)
            self.runtime.tasks.append(
                asyncio.create_task(self._loop(name, step, idle, woken), name=f"reminders-{name}")
            )

    async def _loop(
        self, name: str, step: Callable[[], Awaitable[bool]], idle_s: float, wake: asyncio.Event
    ) -> None:
        """Run `step` while it finds work; then wait for a wake-up (work committed by any replica, or
        the clock moved) or `idle_s` at most, for work that only time makes due."""
        stop = self.runtime.stop
        while not stop.is_set():
            try:
                busy = await step()
            except Exception as exc:  # a failing pass is retried; its transaction rolled back
                log.warning("reminders loop pass failed", loop=name, error=str(exc), exc_info=True)
                busy = False
            if not busy:
                await wait_for(wake, stop, idle_s)

    # --- dispatch: due jobs ask compliance for a permit -------------------------------------------

    async def dispatch_due(self) -> bool:
        """Ask compliance for a permit for each due job: a run of them claimed, their accounts read and
        the jobs updated together, the requests written to the outbox in one go."""
        now = self.runtime.clock.now()
        async with unit_of_work(self.runtime.sessions) as session:
            due = await repo.claim_due_jobs(
                session, now=now, stale_after=self.permit_wait, limit=DISPATCH_BATCH
            )
            accounts = await repo.accounts_by_id(session, {j.account_id for j in due})
            strategies = planner.Strategies(session)
            requests: list[OutgoingEvent] = []
            changes: dict[uuid.UUID, dict[str, Any]] = {}
            stopped: list[Any] = []
            for job in due:
                account = accounts.get(job.account_id)
                if account is None:
                    continue
                channel, point, reason = await _reachable(strategies, account, job)
                if reason is not None or point is None:
                    message = reason or "no contact point"
                    changes[job.job_id] = {
                        "state": "cancelled",
                        "reasons": [{"rule": "reminders.precheck", "message": message}],
                    }
                    stopped.append(job)
                    continue
                request_id = str(uuid.uuid4())
                changes[job.job_id] = {
                    "state": "awaiting_permit",
                    "request_id": request_id,
                    "contact_point_id": point["id"],
                    "channel": channel,
                }
                # in the trace the job was planned in (its placement's, or a deferral's decision)
                with self.runtime.tracing.continuing(
                    job.traceparent, "dispatch reminder", attributes=_traced(job)
                ):
                    requests.append(
                        _permit_request(
                            job, account, request_id, channel, point["id"], now, current_traceparent()
                        )
                    )
            await repo.update_jobs(session, changes)
            for job in stopped:
                await settled(session, job, now=now, spacing=self.spacing)
            await enqueue(session, outbox, requests, source=SOURCE)
        return len(due) == DISPATCH_BATCH

    # --- send: exactly once, holding the job's row lock across the provider call ------------------

    async def send_one(self) -> bool:
        now = self.runtime.clock.now()
        async with unit_of_work(self.runtime.sessions) as session:
            job = await repo.claim_sendable_job(session)
            if job is None:
                return False
            account = await repo.account(session, job.account_id)
            reason = stop_reason(_view(account), job.channel, job.purpose)
            if reason is not None:
                await repo.update_job(
                    session,
                    job.job_id,
                    state="cancelled",
                    reasons=[{"rule": "reminders.recheck", "message": reason}],
                )
                return True
            if not permit_usable(job.permit_expires_at, now):
                # Too late to use this permit: ask for a fresh one rather than send on an expired one.
                await repo.update_job(session, job.job_id, state="planned", due_at=now, permit_id=None)
                await wake.jobs_due(session)
                return True
            if job.channel == "call_task":
                await self._hand_to_agents(session, job, now)
                return True
            # in the trace of the permit decision that made it sendable
            with self.runtime.tracing.continuing(job.traceparent, "send reminder", attributes=_traced(job)):
                await self._deliver(session, job, account, now)
        return True

    async def _hand_to_agents(self, session: AsyncSession, job: Any, now: datetime) -> None:
        await repo.insert_call_task(
            session,
            task_id=uuid.uuid4(),
            tenant=job.tenant,
            account_id=job.account_id,
            borrower_id=job.borrower_id,
            job_id=job.job_id,
            contact_point_id=job.contact_point_id,
            permit_id=job.permit_id,
            permit_expires_at=job.permit_expires_at,
        )
        await repo.update_job(session, job.job_id, state="sent", delivery="handed_to_agents", sent_at=now)

    async def _deliver(self, session: AsyncSession, job: Any, account: Any, now: datetime) -> None:
        try:
            message = await self._message(session, job, account, now)
            result = await self.channels.deliver(message.outgoing)
        except TransientDeliveryError as exc:
            tries = job.tries + 1
            state = "failed" if tries >= MAX_SEND_TRIES else "sending"
            await repo.update_job(session, job.job_id, tries=tries, state=state, delivery=str(exc)[:500])
            if state == "failed":
                await self._attempted(session, job, outcome="failed", now=now)
                await settled(session, job, now=now, spacing=self.spacing)
            return
        except PermanentDeliveryError as exc:
            await repo.update_job(session, job.job_id, state="failed", delivery=str(exc)[:500])
            await self._attempted(session, job, outcome="failed", now=now)
            await settled(session, job, now=now, spacing=self.spacing)
            return
        self.runtime.crash_points.reach("reminders.after_send", tenant=job.tenant)
        await repo.update_job(
            session,
            job.job_id,
            state="sent",
            sent_at=now,
            provider=result.provider,
            provider_message_id=result.provider_message_id,
            delivery=result.status,
            validation_period_ends=message.validation_period_ends,
        )
        await self._attempted(
            session,
            job,
            outcome="delivered",
            now=now,
            provider_message_id=result.provider_message_id,
            validation_period_ends=message.validation_period_ends,
        )
        await settled(session, job, now=now, spacing=self.spacing)

    async def _attempted(
        self,
        session: AsyncSession,
        job: Any,
        *,
        outcome: str,
        now: datetime,
        provider_message_id: str | None = None,
        validation_period_ends: date | None = None,
    ) -> None:
        DELIVERIES.labels(PERMIT_CHANNEL[job.channel], outcome).inc()
        await publish(
            session,
            k.ContactAttempted(
                attempt_id=f"job:{job.job_id}",
                account_id=str(job.account_id),
                borrower_id=str(job.borrower_id),
                channel=PERMIT_CHANNEL[job.channel],
                outcome=outcome,
                at=now,
                permit_id=str(job.permit_id) if job.permit_id else None,
                contact_point_id=job.contact_point_id,
                provider_message_id=provider_message_id,
                validation_period_ends=validation_period_ends,
            ),
            tenant=job.tenant,
            borrower_id=job.borrower_id,
            account_id=job.account_id,
        )

    async def _message(self, session: AsyncSession, job: Any, account: Any, now: datetime) -> Message:
        if job.purpose == "validation_notice":
            return self._notice(job, account, now)
        step = await _step_of(planner.Strategies(session), account, job)
        content: Any = step
        if step is not None and step.channel != job.channel:
            content = step.fallback if step.fallback and step.fallback.channel == job.channel else None
        if content is None or not content.templates:
            raise PermanentDeliveryError(f"the strategy has no {job.channel} template for DPD {job.step_dpd}")
        language = choose_language(content.templates, account.language)
        context = self._context(account, now, job.step_dpd)
        try:
            body = render(content.templates[language], context)
            subject = None
            if content.subject and language in content.subject:
                subject = render(content.subject[language], context)
        except TemplateRenderError as exc:
            # Retrying cannot help, and a job left to retry would be every sender's oldest.
            raise PermanentDeliveryError(f"the {language} template cannot render: {exc}") from exc
        point = _point_on_file(account, job.channel, job.contact_point_id)
        cipher = self.runtime.cipher
        if job.channel == "email":
            to = cipher.decrypt(point["address"], context=c.CTX_EMAIL)
        else:
            to = cipher.decrypt(point["number"], context=c.CTX_PHONE)
        headers = {"List-Unsubscribe": f"<{self.settings.unsubscribe_url}>"} if job.channel == "email" else {}
        return Message(
            OutgoingMessage(
                channel="voice_call" if job.channel == "voice" else job.channel,
                to=to,
                body=body,
                subject=subject,
                idempotency_key=str(job.job_id),
                headers=headers,
            )
        )

    def _notice(self, job: Any, account: Any, now: datetime) -> Message:
        """The validation notice, dated today in the borrower's first zone, by e-mail or letter."""
        sent_on = planner.local_today(list(account.timezones), now)
        cipher = self.runtime.cipher
        notice = render_validation_notice(
            account,
            cipher=cipher,
            settings=self.settings,
            sent_on=sent_on,
            address_id=job.contact_point_id if job.channel == "letter" else None,
        )
        if job.channel == "letter":
            to = mailing_address(cipher, account.contacts or {}, job.contact_point_id)
            name = (account.contacts or {}).get("name")
            if to and name:
                to = f"{cipher.decrypt(name, context=c.CTX_NAME)}, {to}"
        else:
            point = _point_on_file(account, "email", job.contact_point_id)
            to = cipher.decrypt(point["address"], context=c.CTX_EMAIL)
        if not to:
            raise PermanentDeliveryError("no postal address for the validation notice")
        return Message(
            OutgoingMessage(
                channel="letter" if job.channel == "letter" else "email",
                to=to,
                body=notice.body,
                subject=notice.subject,
                idempotency_key=str(job.job_id),
            ),
            validation_period_ends=notice.validation_period_ends,
        )

    def _context(self, account: Any, now: datetime, step_dpd: int) -> dict[str, Any]:
        balance = max(account.amount_due_minor - account.paid_minor, 0)
        return {
            "lender_name": account.tenant,
            "amount": f"{balance / 100:,.2f}",
            "currency": account.currency,
            "due_date": account.due_date.isoformat(),
            "dpd": planner.days_past_due(account.due_date, planner.local_today(list(account.timezones), now)),
            "agency_name": self.settings.agency_name,
            "agency_phone": self.settings.agency_phone,
            "pay_url": self.settings.pay_url,
        }

    # --- plan: the ladder grows with DPD; promises and plans are swept ----------------------------

    async def plan_ladder(self) -> bool:
        """Plan the accounts whose day has turned (each knows when it next needs planning), then
        sweep promises and plans. Busy while a full batch was due."""
        now = self.runtime.clock.now()
        async with unit_of_work(self.runtime.sessions) as session:
            due = await planner.plan_due(session, now=now, spacing=self.spacing, limit=PLAN_BATCH)
        if due == PLAN_BATCH:
            return True
        async with unit_of_work(self.runtime.sessions) as session:
            await promises.sweep(session, now=now)
        return False


async def _step_of(strategies: planner.Strategies, account: Any, job: Any) -> Step | None:
    strategy = await strategies.get(
        tenant=account.tenant, name=account.strategy, jurisdiction=account.jurisdiction
    )
    variant = next((v for v in strategy.variants if v.name == account.variant), strategy.variants[0])
    return next((s for s in steps_for(strategy, variant) if s.dpd == job.step_dpd), None)


def _traced(job: Any) -> dict[str, str]:
    """What a job's spans say about it (ids and names: no personal data)."""
    return {
        "reminders.job_id": str(job.job_id),
        "reminders.channel": job.channel,
        "reminders.purpose": job.purpose,
        "cloudevents.event_subject": str(job.account_id),
        "tenant": job.tenant,
    }


def _permit_request(
    job: Any,
    account: Any,
    request_id: str,
    channel: str,
    point_id: str,
    now: datetime,
    traceparent: str | None,
) -> OutgoingEvent:
    return OutgoingEvent(
        topic=TOPIC,
        key=str(job.borrower_id),
        data=k.PermitRequested(
            request_id=request_id,
            requester="reminders",
            account_id=str(job.account_id),
            borrower_id=str(job.borrower_id),
            channel=PERMIT_CHANNEL[channel],
            at=now,
            purpose=job.purpose,
            contact_point_id=point_id,
            job_id=str(job.job_id),
            intake_seq=account.intake_seq or None,
        ),
        tenant=job.tenant,
        subject=str(job.account_id),
        traceparent=traceparent,
    )


async def _reachable(
    strategies: planner.Strategies, account: Any, job: Any
) -> tuple[str, dict[str, Any] | None, str | None]:
    """The channel and contact point a job can use now, falling back as its step allows (SMS → e-mail,
    a validation notice's e-mail → letter), or the reason it cannot go ahead."""
    channel, reason = job.channel, stop_reason(_view(account), job.channel, job.purpose)
    point = _contact_point(account, channel) if reason is None else None
    if point is None:
        fallback: Any = None
        if job.purpose == "validation_notice":
            fallback = _LETTER if channel == "email" else None
        else:
            step = await _step_of(strategies, account, job)
            fallback = step.fallback if step is not None else None
        if fallback is not None and stop_reason(_view(account), fallback.channel, job.purpose) is None:
            fallback_point = _contact_point(account, fallback.channel)
            if fallback_point is not None:
                return fallback.channel, fallback_point, None
    if reason is None and point is None:
        reason = (
            "no app device on file for push"
            if channel == "push"
            else f"no {channel} contact point with consent"
        )
    return channel, point, reason


@dataclass(frozen=True)
class Message:
    """What a job sends, and what its validation notice states, if it is one."""

    outgoing: OutgoingMessage
    validation_period_ends: date | None = None


@dataclass(frozen=True)
class _Fallback:
    channel: str


_LETTER = _Fallback("letter")


def _view(account: Any) -> AccountView:
    return AccountView(
        status=account.status,
        holds=frozenset(account.holds),
        opted_out=frozenset(account.opted_out),
        balance_minor=account.amount_due_minor - account.paid_minor,
        jurisdiction=account.jurisdiction,
    )


_POINT_KINDS = {"email": "emails", "letter": "addresses"}


def _points(account: Any, channel: str) -> list[dict[str, Any]]:
    contacts = account.contacts or {}
    if channel == "push":
        return []  # lenders send no app devices yet; a phone number is not a push token
    return list(contacts.get(_POINT_KINDS.get(channel, "phones"), []))


def _point_on_file(account: Any, channel: str, point_id: str | None) -> dict[str, Any]:
    """The contact point a job was permitted for; gone (the lender changed the borrower's contacts,
    or they were erased) means this job cannot be sent, not that the pass should fail and retry."""
    for point in _points(account, channel):
        if point["id"] == point_id:
            return point
    raise PermanentDeliveryError("the contact point this job was permitted for is no longer on file")


def _contact_point(account: Any, channel: str) -> dict[str, Any] | None:
    points = _points(account, channel)
    if channel == "sms":
        usable = [p for p in points if p.get("consent_sms") and p.get("is_mobile")]
    elif channel == "email":
        usable = [p for p in points if p.get("consent") and not p.get("employer")]
    elif channel == "letter":
        usable = sorted(points, key=lambda p: p.get("type") != "home")
    else:
        usable = points
    return usable[0] if usable else None
