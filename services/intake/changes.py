"""What each lender event other than a placement does to an account, and what it publishes.

One function per event type: check, change the rows, publish through the outbox (same transaction).
"""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

import orjson

import common.contracts.intake as c
from intake import repository as repo
from intake.api import schemas as s
from intake.domain import validation as v
from intake.normalise import (
    Problems,
    check_agreed_hours,
    check_preferences,
    open_pii,
    seal_contacts,
    seal_pii,
    third_parties_of,
)

if TYPE_CHECKING:
    from intake.handlers import Context

# Borrower-level flags as lenders name them, and the hold each sets.
FLAG_HOLDS = {
    "deceased": "deceased",
    "bankrupt": "bankruptcy",
    "vulnerable": "vulnerable",
    "do_not_visit": "do_not_visit",
}
# Years a record is kept after erasure, per jurisdiction's country (SPEC section 5).
RETENTION_YEARS = {"CN": 5, "US": 3, "GB": 6}


async def apply_change(ctx: Context, event: Any, account: Any, problems: Problems) -> None:
    handler = HANDLERS[type(event)]
    await handler(ctx, event, account, problems)


def _base(event: Any, account: Any) -> dict[str, Any]:
    return {
        "lender_event_id": event.event_id,
        "occurred_at": event.occurred_at,
        "account_id": str(account.account_id),
        "borrower_id": str(account.borrower_id),
    }


def _publish(ctx: Context, data: c.IntakeEvent, account: Any, event: Any) -> None:
    ctx.publish(data, borrower_id=account.borrower_id, account_id=account.account_id, at=event.occurred_at)


async def _updated(ctx: Context, event: s.AccountUpdatedIn, account: Any, problems: Problems) -> None:
    change = event.account
    if change.amount_due_minor is not None:
        problems.check(v.validate_amount_minor, change.amount_due_minor, field="account.amount_due_minor")
    if change.due_date is not None:
        problems.check(v.validate_due_date_change, change.due_date, today=ctx.today, field="account.due_date")
    if problems.errors:
        return
    amount = change.amount_due_minor if change.amount_due_minor is not None else account.amount_due_minor
    due = change.due_date or account.due_date
    await repo.update_account(ctx.session, account.account_id, amount_due_minor=amount, due_date=due)
    _publish(
        ctx, c.AccountUpdated(**_base(event, account), amount_due_minor=amount, due_date=due), account, event
    )


async def _payment(ctx: Context, event: s.PaymentReceivedIn, account: Any, problems: Problems) -> None:
    pay = event.payment
    problems.check(v.validate_amount_minor, pay.amount_minor, field="payment.amount_minor", allow_zero=False)
    if problems.errors:
        return
    paid = account.paid_minor + pay.amount_minor
    balance = max(account.amount_due_minor - paid, 0)
    await repo.add_payment(
        ctx.session,
        account_id=account.account_id,
        lender_event_id=event.event_id,
        amount_minor=pay.amount_minor,
        paid_at=pay.paid_at,
        reference=pay.reference,
    )
    closes = balance == 0 and account.status == "open"
    values: dict[str, Any] = {"paid_minor": paid}
    if closes:
        values.update(status="closed", closed_reason="paid")
    await repo.update_account(ctx.session, account.account_id, **values)
    _publish(
        ctx,
        c.PaymentReceived(
            **_base(event, account),
            amount_minor=pay.amount_minor,
            currency=account.currency,
            paid_at=pay.paid_at,
            reference=pay.reference,
            balance_minor=balance,
        ),
        account,
        event,
    )
    if closes:
        _publish(ctx, c.AccountClosed(**_base(event, account), reason="paid"), account, event)


async def _recalled(ctx: Context, event: s.AccountRecalledIn, account: Any, problems: Problems) -> None:
    await repo.update_account(ctx.session, account.account_id, status="closed", closed_reason="recalled")
    _publish(ctx, c.AccountClosed(**_base(event, account), reason="recalled"), account, event)


async def _dispute_opened(ctx: Context, event: s.DisputeOpenedIn, account: Any, problems: Problems) -> None:
    holds = sorted(set(account.holds) | {"dispute"})
    await repo.update_account(ctx.session, account.account_id, holds=holds)
    d = event.dispute
    reason = ctx.cipher.encrypt_optional(d.reason, context=c.CTX_TEXT)
    _publish(
        ctx,
        c.DisputeOpened(**_base(event, account), received_at=d.received_at, written=d.written, reason=reason),
        account,
        event,
    )


async def _dispute_resolved(
    ctx: Context, event: s.DisputeResolvedIn, account: Any, problems: Problems
) -> None:
    resolution = event.dispute.resolution
    values: dict[str, Any] = {"holds": sorted(set(account.holds) - {"dispute"})}
    if resolution == "upheld" and account.status == "open":
        # The borrower was right: the debt as placed is not owed, so collection ends.
        values.update(status="closed", closed_reason="written_off")
    await repo.update_account(ctx.session, account.account_id, **values)
    _publish(ctx, c.DisputeResolved(**_base(event, account), resolution=resolution), account, event)
    if resolution == "upheld" and account.status == "open":
        _publish(ctx, c.AccountClosed(**_base(event, account), reason="written_off"), account, event)


async def _set_borrower_hold(
    ctx: Context, event: Any, account: Any, hold: str, *, on: bool, extra: dict[str, Any] | None = None
) -> None:
    current = set(account.borrower_holds)
    holds = sorted(current | {hold}) if on else sorted(current - {hold})
    await repo.update_borrower(ctx.session, account.borrower_id, holds=holds)
    if on:
        data: c.IntakeEvent = c.HoldSet(**_base(event, account), hold=hold, **(extra or {}))
    else:
        data = c.HoldCleared(**_base(event, account), hold=hold)
    _publish(ctx, data, account, event)


async def _cease(ctx: Context, event: s.CeaseRequestedIn, account: Any, problems: Problems) -> None:
    extra = {"received_at": event.cease.received_at, "written": event.cease.written}
    await _set_borrower_hold(ctx, event, account, "cease_communication", on=True, extra=extra)


async def _attorney(ctx: Context, event: s.AttorneyRetainedIn, account: Any, problems: Problems) -> None:
    a = event.attorney
    phone = email = None
    if a.phone is not None:
        number = problems.check(v.normalise_phone, a.phone or "", region=None, field="attorney.phone")
        phone = number.e164 if number else None
    if a.email is not None:
        email = problems.check(v.validate_email, a.email or "", field="attorney.email")
    if problems.errors:
        return
    details = ctx.cipher.encrypt(
        orjson.dumps({"name": a.name, "phone": phone, "email": email}).decode(), context=c.CTX_ATTORNEY
    )
    await _set_borrower_hold(ctx, event, account, "attorney", on=True, extra={"details": details})


async def _flagged(ctx: Context, event: s.BorrowerFlaggedIn, account: Any, problems: Problems) -> None:
    await _set_borrower_hold(ctx, event, account, FLAG_HOLDS[event.flag], on=event.set)


async def _contact_changed(ctx: Context, event: s.ContactChangedIn, account: Any, problems: Problems) -> None:
    if account.erased_at is not None:
        problems.add("borrower", "this borrower's personal data was erased; place a new account instead")
        return
    b = event.borrower
    contacts = seal_contacts(
        ctx.cipher,
        problems,
        prefix="borrower",
        phones=b.phones,
        emails=b.emails,
        addresses=b.addresses,
        timezone=b.timezone,
        default_region=v.jurisdiction_country(account.jurisdiction),
        declared_before=account.declared_timezone,
    )
    if problems.errors:
        return
    row = await repo.borrower(ctx.session, account.borrower_id, lock=True)
    pii = open_pii(ctx.cipher, row.pii_sealed)
    for kind in ("phones", "emails", "addresses"):
        pii[kind] = contacts.plain.get(kind, [])
    # Nothing to place the borrower by any more: keep the zones we had rather than none.
    zone_sources = contacts.zone_sources or dict(row.zone_sources) or {z: [] for z in row.timezones}
    await repo.update_borrower(
        ctx.session,
        account.borrower_id,
        pii_sealed=seal_pii(ctx.cipher, pii),
        timezones=list(zone_sources),
        declared_timezone=contacts.declared_timezone,
        zone_sources=zone_sources,
    )
    _publish(
        ctx,
        c.ContactChanged(
            **_base(event, account),
            phones=contacts.phones,
            emails=contacts.emails,
            addresses=contacts.addresses,
            timezones=list(zone_sources),
            zone_sources=zone_sources,
        ),
        account,
        event,
    )


async def _preferences(ctx: Context, event: s.PreferencesChangedIn, account: Any, problems: Problems) -> None:
    prefs = event.preferences
    windows = check_preferences(problems, prefs)
    agreed = check_agreed_hours(problems, prefs)
    if problems.errors:
        return
    before = account.borrower_preferences or {}
    sent = prefs.model_fields_set
    # A field the lender left out keeps its value; one sent as null clears it.
    language = prefs.language if "language" in sent else account.borrower_language
    agreed_hours = agreed.model_dump() if "agreed_hours" in sent and agreed else None
    if "agreed_hours" not in sent:
        agreed_hours = before.get("agreed_hours")
    no_work_contact = bool(
        prefs.no_work_contact if "no_work_contact" in sent else before.get("no_work_contact")
    )
    stored = {
        "inconvenient": [w.model_dump() for w in windows],
        "language": language,
        "channels": prefs.channels,
        "agreed_hours": agreed_hours,
        "no_work_contact": no_work_contact,
    }
    await repo.update_borrower(ctx.session, account.borrower_id, preferences=stored, language=language)
    _publish(
        ctx,
        c.PreferencesChanged(
            **_base(event, account),
            inconvenient=windows,
            language=language,
            channels=prefs.channels,
            agreed_hours=c.AgreedHours(**agreed_hours) if agreed_hours else None,
            no_work_contact=no_work_contact,
        ),
        account,
        event,
    )


async def _erasure(ctx: Context, event: s.ErasureRequestedIn, account: Any, problems: Problems) -> None:
    row = await repo.borrower(ctx.session, account.borrower_id, lock=True)
    if row.erased_at is None:
        pii = open_pii(ctx.cipher, row.pii_sealed)
        # Identity stays (sealed) for the retention period; contact points go now.
        retained = {"name": pii.get("name"), "national_id": pii.get("national_id")}
        years = RETENTION_YEARS.get(v.jurisdiction_country(account.jurisdiction), 6)
        today = ctx.today
        await repo.update_borrower(
            ctx.session,
            account.borrower_id,
            pii_sealed=None,
            national_id_hash=None,
            retained_sealed=seal_pii(ctx.cipher, retained),
            retain_until=_add_years(today, years),
            erased_at=ctx.now,
        )
    _publish(
        ctx, c.BorrowerErased(**_base(event, account), erased_at=row.erased_at or ctx.now), account, event
    )


# Outcomes that fit each kind of channel: a letter is not "busy", a call is not "bounced".
_MESSAGE_OUTCOMES = frozenset({"delivered", "failed", "bounced"})
_CALL_OUTCOMES = frozenset(
    {"busy", "no_answer", "voicemail", "connected", "conversation", "wrong_number", "failed"}
)
# A contact reported for the future, or long ago, is a mistake in the lender's feed.
_REPORT_SKEW = timedelta(minutes=5)
_REPORT_MAX_AGE = timedelta(days=400)


async def _reported(ctx: Context, event: s.ContactReportedIn, account: Any, problems: Problems) -> None:
    """A contact the lender or another agency made: hashed like ours, published for the shared caps."""
    r = event.contact
    fits = _CALL_OUTCOMES if r.channel in ("voice_call", "visit") else _MESSAGE_OUTCOMES
    if r.outcome not in fits:
        problems.add("contact.outcome", f"{r.outcome} is not an outcome of a {r.channel}")
    if r.at > ctx.now + _REPORT_SKEW or r.at < ctx.now - _REPORT_MAX_AGE:
        problems.add("contact.at", "must be within the last 400 days, and not in the future")
    point = await _reported_point(ctx, r, account, problems)
    if problems.errors:
        return
    _publish(
        ctx,
        c.ContactReported(
            **_base(event, account),
            attempt_id=f"reported:{uuid.uuid4()}",
            reported_by=r.by,
            channel=r.channel,
            direction=r.direction,
            recipient=r.recipient,
            outcome=r.outcome,
            at=r.at,
            contact_point_id=point,
            third_party_id=r.third_party_id,
        ),
        account,
        event,
    )


async def _reported_point(ctx: Context, r: s.ContactReportIn, account: Any, problems: Problems) -> str | None:
    """The hashed contact point a reported contact used, checked against what the lender placed."""
    if r.recipient == "third_party":
        known = await _third_party_ids(ctx, account)
        if r.third_party_id is None or r.third_party_id not in known:
            problems.add("contact.third_party_id", "name one of the account's third parties by its id")
        return None
    if r.phone is not None:
        number = problems.check(
            v.normalise_phone,
            r.phone,
            region=v.jurisdiction_country(account.jurisdiction),
            field="contact.phone",
        )
        return ctx.cipher.lookup_hash(number.e164, purpose="phone") if number else None
    if r.email is not None:
        address = problems.check(v.validate_email, r.email, field="contact.email")
        return ctx.cipher.lookup_hash(address.lower(), purpose="email") if address else None
    return None


async def _third_party_ids(ctx: Context, account: Any) -> set[str]:
    row = await repo.borrower(ctx.session, account.borrower_id)
    return {t["id"] for t in third_parties_of(ctx.cipher, open_pii(ctx.cipher, row.pii_sealed))}


def _add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


HANDLERS: dict[type, Any] = {
    s.AccountUpdatedIn: _updated,
    s.PaymentReceivedIn: _payment,
    s.AccountRecalledIn: _recalled,
    s.DisputeOpenedIn: _dispute_opened,
    s.DisputeResolvedIn: _dispute_resolved,
    s.CeaseRequestedIn: _cease,
    s.AttorneyRetainedIn: _attorney,
    s.BorrowerFlaggedIn: _flagged,
    s.ContactChangedIn: _contact_changed,
    s.PreferencesChangedIn: _preferences,
    s.ErasureRequestedIn: _erasure,
    s.ContactReportedIn: _reported,
}
