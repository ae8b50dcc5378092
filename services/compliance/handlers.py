"""Compliance's event handlers: keep its view of each account, decide permits, count contacts, and
write every consumed event and every decision to the audit trail, each in the event's transaction."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

import common.contracts.contact as k
import common.contracts.intake as c
from common.clock import Clock
from common.contracts.catalog import TOPICS, topics_read_by
from common.messaging.consumer import BatchHandler, EventRouter, NotYet
from common.messaging.envelope import Event
from common.messaging.outbox import Publisher
from common.tracing import traceparent_of
from compliance import audit_store, decisions
from compliance import repository as repo
from compliance.domain.packs import Pack, PackArchive
from compliance.metrics import count_decision
from compliance.tables import outbox

SOURCE = "compliance"
# Purposes whose delivery compliance remembers per account, for the rules that need a notice first.
NOTICE_PURPOSES = frozenset(
    {
        "forbearance_offer",
        "visit_notice",
        "notice_efforts_terminated",
        "notice_may_invoke_remedy",
        "notice_will_invoke_remedy",
    }
)


@dataclass
class Deps:
    packs: dict[str, Pack]
    clock: Clock
    permit_ttl: timedelta
    visit_tenants: frozenset[str]
    # every pack version ever released, for replay (today's `packs` are its newest)
    archive: PackArchive = field(default_factory=PackArchive)


Handler = Callable[[AsyncSession, Event[Any]], Awaitable[None]]


def build_router(deps: Deps) -> EventRouter:
    """Every event type compliance reads is audited; those that change its view also apply."""
    router = EventRouter()
    effects: dict[str, Callable[[AsyncSession, Event[Any], Deps], Awaitable[None]]] = {
        "contact.reported": _contact_reported,
        "account.closed": _closed,
        "dispute.opened": _dispute_opened,
        "dispute.resolved": _dispute_resolved,
        "hold.set": _hold_set,
        "hold.cleared": _hold_cleared,
        "borrower.contact_changed": _contact_changed,
        "borrower.preferences_changed": _preferences,
        "contact.attempted": _contact_attempted,
        "optout.received": _opted_out,
    }
    runs: dict[str, Callable[[AsyncSession, list[Event[Any]], Deps], Awaitable[None]]] = {
        "account.placed": _placed,
        "permit.requested": _permits_requested,
    }
    # Everything else on the topics compliance reads (the catalogue's) is only audited: amounts,
    # promises and plans, escalations, and a visit's life with its evidence hashes (in the chain,
    # nothing can be swapped later).
    read = {ce_type for topic in topics_read_by("compliance") for ce_type in TOPICS[topic].types}
    audited_only = sorted(read - effects.keys() - runs.keys())
    for ce_type in effects:
        router.on(ce_type)(_audited(effects.get(ce_type), deps))
    # The frequent types are handled a run at a time.
    for ce_type in audited_only:
        router.on_batch(ce_type)(_audited_run(_seqs_advanced, deps))
    for ce_type, effect in runs.items():
        router.on_batch(ce_type)(_audited_run(effect, deps))
    return router


# Stop events the priority lane applies ahead of a backlog of placements when it may: from then on
# every permit for the account or borrower is refused, even while the placements are still queued.
PRIORITY = ("hold.set", "account.closed", "dispute.opened")


def build_priority_router(deps: Deps) -> EventRouter:
    """The priority lane's router: the stop events, each applied only if every earlier intake event
    of its borrower has been applied here (else `NotYet`: the ordered consumer applies it)."""
    lane = EventRouter()
    effects: dict[str, Callable[[AsyncSession, Event[Any], Deps], Awaitable[None]]] = {
        "hold.set": _hold_set,
        "account.closed": _closed,
        "dispute.opened": _dispute_opened,
    }
    for ce_type in PRIORITY:
        ordered = _audited(effects[ce_type], deps)

        async def ahead(session: AsyncSession, event: Event[Any], ordered: Handler = ordered) -> None:
            borrower = await repo.borrower(session, uuid.UUID(event.data.borrower_id))
            if not event.data.seq or borrower is None or borrower.intake_seq != event.data.seq - 1:
                raise NotYet
            await ordered(session, event)

        lane.on(ce_type)(ahead)
    return lane


def _audit_event(session: AsyncSession, event: Event[Any], deps: Deps) -> None:
    env = event.envelope
    audit_store.append(
        session,
        kind="event",
        tenant=env.tenant,
        content={
            "ce_id": str(env.id),
            "ce_type": env.type,
            "ce_source": env.source,
            "ce_time": env.time.isoformat(),
            "ce_subject": env.subject,
            "data": event.data.model_dump(mode="json"),
        },
        at=deps.clock.now(),
    )


def _audited_run(
    effect: Callable[[AsyncSession, list[Event[Any]], Deps], Awaitable[None]], deps: Deps
) -> BatchHandler:
    async def handle(session: AsyncSession, events: list[Event[Any]]) -> None:
        for event in events:
            _audit_event(session, event, deps)
        await effect(session, events, deps)

    return handle


def _audited(
    effect: Callable[[AsyncSession, Event[Any], Deps], Awaitable[None]] | None, deps: Deps
) -> Handler:
    async def handle(session: AsyncSession, event: Event[Any]) -> None:
        _audit_event(session, event, deps)
        if effect is not None:
            await effect(session, event, deps)
        if isinstance(event.data, c.IntakeEvent) and event.data.seq:
            await repo.advance_intake_seq(session, uuid.UUID(event.data.borrower_id), event.data.seq)

    return handle


def _ids(data: Any) -> tuple[uuid.UUID, uuid.UUID]:
    return uuid.UUID(data.account_id), uuid.UUID(data.borrower_id)


def _line_type(phone: c.Phone) -> str:
    """What the line is used for: a work line is a work line even on a mobile (209 CMR 18.16 counts
    place of employment apart); otherwise mobile, then a home (residential) line."""
    if phone.type == "work":
        return "work"
    if phone.is_mobile or phone.type == "mobile":
        return "mobile"
    return "residential" if phone.type == "home" else "other"


def _consents(
    phones: list[c.Phone], emails: list[c.Email], addresses: list[c.Address], *, checked: datetime
) -> dict[str, dict[str, Any]]:
    """What compliance keeps per hashed contact point: consents (the lender vouched for them when it
    sent the event), a phone's line type, an address's place."""
    out: dict[str, dict[str, Any]] = {}
    for p in phones:
        out[p.id] = {
            "kind": "phone",
            "sms": p.consent_sms,
            "autodialer": p.consent_autodialer,
            "is_mobile": p.is_mobile,
            "line_type": _line_type(p),
            "consent_checked_at": checked.date().isoformat(),
        }
    for e in emails:
        out[e.id] = {"kind": "email", "email": e.consent, "employer_email": e.employer}
    for a in addresses:
        out[a.id] = {"kind": "address", "place": a.type if a.type in ("home", "work") else "other"}
    return out


async def _seqs_advanced(session: AsyncSession, events: list[Event[Any]], deps: Deps) -> None:
    """Remember how far into each borrower's intake events the run went (audited by the caller)."""
    seqs: dict[uuid.UUID, int] = {}
    for event in events:
        if isinstance(event.data, c.IntakeEvent) and event.data.seq:
            borrower_id = uuid.UUID(event.data.borrower_id)
            seqs[borrower_id] = max(seqs.get(borrower_id, 0), event.data.seq)
    await repo.advance_intake_seqs(session, seqs)


async def _placed(session: AsyncSession, events: list[Event[c.AccountPlaced]], deps: Deps) -> None:
    """A run of placements: the borrowers (locked in id order) and accounts in a statement each."""
    existing = await repo.borrowers_by_id(
        session, sorted({uuid.UUID(e.data.borrower_id) for e in events}), lock=True
    )
    third_parties: dict[uuid.UUID, dict[str, Any]] = {
        borrower_id: dict(row.third_parties) for borrower_id, row in existing.items()
    }
    people: dict[uuid.UUID, dict[str, Any]] = {}
    accounts: dict[uuid.UUID, dict[str, Any]] = {}
    for event in events:
        d = event.data
        account_id, borrower_id = _ids(d)
        known = third_parties.setdefault(borrower_id, {})
        known.update(
            {t.id: {"relationship": t.relationship, "phone_id": t.phone_id} for t in d.third_parties}
        )
        b = d.borrower
        # A borrower placed twice in the run is written once, as of the later placement.
        people[borrower_id] = {
            "borrower_id": borrower_id,
            "tenant": event.envelope.tenant,
            "timezones": b.timezones,
            "zone_sources": b.zone_sources,
            "consents": _consents(b.phones, b.emails, b.addresses, checked=d.occurred_at),
            "third_parties": dict(known),
        }
        accounts.setdefault(
            account_id,
            {
                "account_id": account_id,
                "tenant": event.envelope.tenant,
                "borrower_id": borrower_id,
                "jurisdiction": d.account.jurisdiction,
            },
        )
    await repo.upsert_borrowers(session, [people[b] for b in sorted(people)])
    await repo.insert_accounts(session, list(accounts.values()))
    await _seqs_advanced(session, events, deps)


async def _account_holds(
    session: AsyncSession, data: Any, *, add: str | None = None, remove: str | None = None
) -> None:
    account_id, _ = _ids(data)
    row = await repo.account(session, account_id)
    if row is None:
        return
    holds = set(row.holds)
    if add:
        holds.add(add)
    if remove:
        holds.discard(remove)
    await repo.update_account(session, account_id, holds=sorted(holds))


async def _closed(session: AsyncSession, event: Event[c.AccountClosed], deps: Deps) -> None:
    await _account_holds(session, event.data, add="closed")


async def _dispute_opened(session: AsyncSession, event: Event[c.DisputeOpened], deps: Deps) -> None:
    d = event.data
    await _account_holds(session, d, add="dispute")
    dispute = {"received_at": d.received_at.isoformat(), "written": d.written}
    await repo.update_account(session, uuid.UUID(d.account_id), dispute=dispute)


async def _dispute_resolved(session: AsyncSession, event: Event[c.DisputeResolved], deps: Deps) -> None:
    await _account_holds(session, event.data, remove="dispute")
    await repo.update_account(session, uuid.UUID(event.data.account_id), dispute=None)


async def _borrower_hold(session: AsyncSession, data: Any, *, on: bool) -> None:
    _, borrower_id = _ids(data)
    row = await repo.borrower(session, borrower_id, lock=True)
    if row is None:
        return
    if data.hold == "channel_opt_out":
        outs = set(row.channel_opt_outs)
        if data.channel:
            (outs.add if on else outs.discard)(data.channel)
        await repo.update_borrower(session, borrower_id, channel_opt_outs=sorted(outs))
        return
    holds = set(row.holds)
    (holds.add if on else holds.discard)(data.hold)
    await repo.update_borrower(session, borrower_id, holds=sorted(holds))


async def _hold_set(session: AsyncSession, event: Event[c.HoldSet], deps: Deps) -> None:
    await _borrower_hold(session, event.data, on=True)


async def _hold_cleared(session: AsyncSession, event: Event[c.HoldCleared], deps: Deps) -> None:
    await _borrower_hold(session, event.data, on=False)


async def _contact_changed(session: AsyncSession, event: Event[c.ContactChanged], deps: Deps) -> None:
    d = event.data
    _, borrower_id = _ids(d)
    if await repo.borrower(session, borrower_id, lock=True) is None:
        return
    await repo.update_borrower(
        session,
        borrower_id,
        timezones=d.timezones,
        zone_sources=d.zone_sources,
        consents=_consents(d.phones, d.emails, d.addresses, checked=d.occurred_at),
    )


async def _preferences(session: AsyncSession, event: Event[c.PreferencesChanged], deps: Deps) -> None:
    d = event.data
    _, borrower_id = _ids(d)
    row = await repo.borrower(session, borrower_id, lock=True)
    if row is None:
        return
    prefs = {
        **row.preferences,
        "inconvenient": [w.model_dump() for w in d.inconvenient],
        "agreed_hours": d.agreed_hours.model_dump() if d.agreed_hours else None,
        "no_work_contact": d.no_work_contact,
    }
    await repo.update_borrower(session, borrower_id, preferences=prefs)


async def _opted_out(session: AsyncSession, event: Event[k.OptOutReceived], deps: Deps) -> None:
    _, borrower_id = _ids(event.data)
    row = await repo.borrower(session, borrower_id, lock=True)
    if row is None:
        return
    outs = sorted(set(row.channel_opt_outs) | {event.data.channel})
    await repo.update_borrower(session, borrower_id, channel_opt_outs=outs)


async def _permits_requested(
    session: AsyncSession, events: list[Event[k.PermitRequested]], deps: Deps
) -> None:
    """Decide a run of requests: one read per table, the engine in memory, one write per table."""
    seen = await repo.decided_requests(session, [e.data.request_id for e in events])
    todo: list[Event[k.PermitRequested]] = []
    for event in events:
        if event.data.request_id not in seen:  # an answered request keeps its answer
            seen.add(event.data.request_id)
            todo.append(event)
    if not todo:
        return
    now = deps.clock.now()
    bench = await decisions.load(
        session,
        packs=deps.packs,
        permit_ttl=deps.permit_ttl,
        visit_tenants=deps.visit_tenants,
        account_ids=[uuid.UUID(e.data.account_id) for e in todo],
        borrower_ids=[uuid.UUID(e.data.borrower_id) for e in todo],
        instants=[max(e.data.at, now) for e in todo],
        lock=True,
    )
    rows = [await _decide_one(session, bench, event, now=now) for event in todo]
    await repo.insert_decisions(session, rows)


async def _decide_one(
    session: AsyncSession, bench: decisions.Bench, event: Event[k.PermitRequested], *, now: datetime
) -> dict[str, Any]:
    """One request of the run: decided, its permit.decided published, its audit entry appended."""
    d, tenant = event.data, event.envelope.tenant
    account_id, borrower_id = _ids(d)
    at = max(d.at, now)
    account, borrower = bench.accounts.get(account_id), bench.borrowers.get(borrower_id)
    decision = decisions.not_yet_known(borrower, account, d.intake_seq, now)
    snap: dict[str, Any]
    if decision is None:
        request = decisions.permit_request(d, account_id=d.account_id, borrower_id=d.borrower_id, at=at)
        decision, snap = bench.decide(request, account, borrower, job_id=d.job_id)
    else:
        snap = {"request": {"account_id": d.account_id}, "state": None, "ledger": []}
    reasons = [{"rule": r.rule, "message": r.message, "citation": r.citation} for r in decision.reasons]
    # (a run retried after a failure counts its decisions again: the figure is a rate, not a ledger)
    count_decision(decision.outcome, (r["rule"] for r in reasons))
    permit_id = uuid.uuid4()
    decided = k.PermitDecided(
        permit_id=str(permit_id),
        request_id=d.request_id,
        requester=d.requester,
        account_id=d.account_id,
        borrower_id=d.borrower_id,
        channel=d.channel,
        recipient=d.recipient,
        outcome=decision.outcome,
        not_before=decision.not_before,
        expires_at=decision.expires_at,
        reasons=[k.DecisionReason(**r) for r in reasons],
        policy=decision.policy,
        decided_at=now,
        job_id=d.job_id,
    )
    # The entry keeps the snapshot's hash and what decided it: replay proves it used what the
    # engine saw, and a snapshot altered afterwards is found by the chain's verify.
    audited = decided.model_dump(mode="json")
    audited["snapshot_sha256"] = audit_store.snapshot_sha256(snap)
    if "versions" in snap:
        audited["engine"], audited["packs"] = snap["versions"]["engine"], snap["versions"]["packs"]
    audit_store.append(session, kind="decision", tenant=tenant, content=audited, at=now, ref=str(permit_id))
    await _publish(
        session,
        decided,
        tenant=tenant,
        borrower_id=borrower_id,
        account_id=account_id,
        traceparent=traceparent_of(event),  # this request's consume span: its own trace, run or not
    )
    return {
        "permit_id": permit_id,
        "request_id": d.request_id,
        "tenant": tenant,
        "account_id": account_id,
        "borrower_id": borrower_id,
        "requester": d.requester,
        "channel": d.channel,
        "request": {**d.model_dump(mode="json"), "at": at.isoformat()},
        "outcome": decision.outcome,
        "not_before": decision.not_before,
        "expires_at": decision.expires_at,
        "reasons": reasons,
        "evaluated_rules": decision.evaluated_rules,
        "policy": decision.policy,
        "snapshot": snap,
        "decided_at": now,
    }


_publish = Publisher(outbox=outbox, topic=k.COMPLIANCE_TOPIC, source=SOURCE).publish


# Clocks of senders and compliance differ a little; a permit used earlier than this before its time is not.
EARLY_USE_TOLERANCE = timedelta(seconds=5)

# Outcomes that mean the message or call reached the person (first contact, notice delivered).
REACHED = frozenset(
    {"delivered", "connected", "conversation", "voicemail", "met_promise", "met_paid", "met_refused"}
)
# Only a delivered letter or e-mail is a validation notice provided (12 CFR 1006.34(a), 1006.42).
NOTICE_MEDIA = frozenset({"letter", "email"})


async def _contact_attempted(session: AsyncSession, event: Event[k.ContactAttempted], deps: Deps) -> None:
    d = event.data
    tenant = event.envelope.tenant
    account_id, borrower_id = _ids(d)
    borrower = await repo.borrower(session, borrower_id, lock=True)
    permit_id = uuid.UUID(d.permit_id) if d.permit_id else None
    permit = await repo.decision(session, permit_id, lock=True) if permit_id else None
    granted = permit.request.get("purpose") if permit is not None and permit.outcome == "allow" else None
    fresh = await repo.record_attempt(
        session,
        attempt_id=d.attempt_id,
        tenant=tenant,
        borrower_id=borrower_id,
        account_id=account_id,
        channel=d.channel,
        recipient=d.recipient,
        direction=d.direction,
        outcome=d.outcome,
        contact_point_id=d.contact_point_id,
        third_party_id=d.third_party_id,
        permit_id=permit_id,
        purpose=granted,
        at=d.at,
    )
    if not fresh:
        return
    purpose = None
    if d.direction == "outbound":
        purpose = await _check_permit(
            session, d, tenant=tenant, permit=permit, permit_id=permit_id, deps=deps
        )
    account = await repo.account(session, account_id)
    if account is not None and d.recipient == "debtor" and d.outcome in REACHED:
        await _remember_reach(session, account, d, purpose)
    if borrower is not None and d.recipient == "third_party" and d.third_party_id:
        contacted = sorted(set(borrower.contacted_third_parties) | {d.third_party_id})
        refused = set(borrower.refused_third_parties)
        if d.refused or d.outcome == "met_refused":
            refused.add(d.third_party_id)
        await repo.update_borrower(
            session, borrower_id, contacted_third_parties=contacted, refused_third_parties=sorted(refused)
        )


async def _remember_reach(
    session: AsyncSession, account: Any, d: k.ContactAttempted, purpose: str | None
) -> None:
    """The first communication starts the validation-notice clock; a delivered notice is remembered."""
    changes: dict[str, Any] = {}
    if account.first_contact_at is None:
        changes["first_contact_at"] = d.at
    delivered = d.direction == "outbound" and d.outcome == "delivered"
    if purpose == "validation_notice" and delivered and d.channel in NOTICE_MEDIA:
        if account.validation_notice_sent_at is None:
            changes["validation_notice_sent_at"] = d.at
        if d.validation_period_ends is not None:
            changes["validation_period_ends"] = d.validation_period_ends
    if purpose in NOTICE_PURPOSES:
        changes["notices"] = {**(account.notices or {}), purpose: d.at.isoformat()}
    if changes:
        await repo.update_account(session, account.account_id, **changes)


async def _contact_reported(session: AsyncSession, event: Event[c.ContactReported], deps: Deps) -> None:
    """The lender's own or another agency's contact: counted in the ledger like ours, no permit."""
    d = event.data
    account_id, borrower_id = _ids(d)
    await repo.borrower(session, borrower_id, lock=True)
    await repo.record_attempt(
        session,
        attempt_id=d.attempt_id,
        tenant=event.envelope.tenant,
        borrower_id=borrower_id,
        account_id=account_id,
        channel=d.channel,
        recipient=d.recipient,
        direction=d.direction,
        outcome=d.outcome,
        contact_point_id=d.contact_point_id,
        third_party_id=d.third_party_id,
        permit_id=None,
        purpose=None,
        at=d.at,
    )


async def _check_permit(
    session: AsyncSession,
    d: k.ContactAttempted,
    *,
    tenant: str,
    permit: Any,
    permit_id: uuid.UUID | None,
    deps: Deps,
) -> str | None:
    """A delivery needs an unused, unexpired allow for this account and channel; anything else is a
    violation. Returns the permit's purpose when it was valid."""
    problem: tuple[str, str] | None = None
    purpose = None
    if permit_id is None:
        problem = ("delivery_without_permit", "an outbound contact was made without a permit")
    elif permit is None:
        problem = ("delivery_without_permit", f"permit {permit_id} does not exist")
    elif permit.outcome != "allow":
        problem = ("permit_denied", f"permit {permit_id} was a {permit.outcome}, not an allow")
    elif str(permit.account_id) != d.account_id or permit.channel != d.channel:
        problem = ("permit_mismatch", f"permit {permit_id} is for another account or channel")
    elif permit.used_at is not None and permit.used_by != d.attempt_id:
        problem = ("permit_reused", f"permit {permit_id} was already used by attempt {permit.used_by}")
    elif d.at < datetime.fromisoformat(permit.request["at"]) - EARLY_USE_TOLERANCE:
        problem = (
            "permit_mismatch",
            f"permit {permit_id} was granted for {permit.request['at']}, used earlier",
        )
    elif permit.expires_at is not None and d.at > permit.expires_at:
        problem = ("permit_expired", f"permit {permit_id} expired at {permit.expires_at.isoformat()}")
    if permit is not None and permit.outcome == "allow" and permit.used_at is None:
        await repo.use_permit(session, permit.permit_id, at=d.at, by=d.attempt_id)
        purpose = permit.request.get("purpose")
        if job_id := permit.request.get("job_id"):
            # The job's other permits (it asked again while compliance lagged) will never be used.
            await repo.release_job_permits(
                session, permit.borrower_id, job_id, at=d.at, by=d.attempt_id, keep=permit.permit_id
            )
    if problem is None:
        return purpose
    kind, detail = problem
    now = deps.clock.now()
    violation = k.ViolationDetected(
        violation_id=str(uuid.uuid4()),
        account_id=d.account_id,
        borrower_id=d.borrower_id,
        kind=kind,
        attempt_id=d.attempt_id,
        permit_id=str(permit_id) if permit_id else None,
        detail=detail,
        detected_at=now,
    )
    await repo.insert_violation(
        session,
        violation_id=uuid.UUID(violation.violation_id),
        tenant=tenant,
        account_id=uuid.UUID(d.account_id),
        borrower_id=uuid.UUID(d.borrower_id),
        kind=kind,
        attempt_id=d.attempt_id,
        permit_id=permit_id,
        detail=detail,
        detected_at=now,
    )
    audit_store.append(
        session, kind="violation", tenant=tenant, content=violation.model_dump(mode="json"), at=now
    )
    await _publish(
        session,
        violation,
        tenant=tenant,
        borrower_id=uuid.UUID(d.borrower_id),
        account_id=uuid.UUID(d.account_id),
    )
    return None
