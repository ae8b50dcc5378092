"""Applying lender events: validate, de-duplicate, change the account, and write the outbox, in one
transaction per request. Placements of a batch go in with COPY; other events apply in line order."""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from typing import Any

import orjson
from pydantic import TypeAdapter, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

import common.contracts.intake as c
from common.crypto import FieldCipher
from common.db import copy_rows
from common.messaging.outbox import OutgoingEvent, outbox_row, write_rows
from common.problems import field_errors
from intake import book
from intake import repository as repo
from intake.api import schemas as s
from intake.changes import apply_change
from intake.normalise import Problems, check_account, check_times, seal_borrower
from intake.tables import accounts, borrowers, lender_events, outbox

SOURCE = "intake"

# The columns the batch path COPYs, in the order of the rows it builds (the bulk benchmark uses them too).
BORROWER_COLUMNS = (
    "borrower_id",
    "tenant",
    "external_borrower_id",
    "pii_sealed",
    "national_id_hash",
    "timezones",
    "language",
    "preferences",
    "holds",
    "declared_timezone",
    "zone_sources",
)
ACCOUNT_COLUMNS = (
    "account_id",
    "tenant",
    "external_account_id",
    "borrower_id",
    "product",
    "currency",
    "amount_due_minor",
    "principal_minor",
    "due_date",
    "jurisdiction",
)
LENDER_EVENT_COLUMNS = ("tenant", "event_id", "payload_hash", "type", "account_id")
EVENT_ADAPTER: TypeAdapter[s.LenderEvent] = TypeAdapter(s.LenderEvent)

# A batch's CPU work (validating and sealing each line) gives the event loop back this often, so a
# payment or hold posted beside a bulk load is not queued behind the whole batch.
YIELD_EVERY = 16


@dataclass
class Line:
    """One lender event as received, then as judged."""

    number: int
    event: Any = None  # a LenderEvent once it validates
    event_id: str | None = None
    payload_hash: str | None = None
    status: str = "rejected"
    account_id: uuid.UUID | None = None
    errors: list[dict[str, str]] = field(default_factory=list)
    conflict: bool = False
    duplicate_of: Line | None = None

    def result(self) -> s.LineResult:
        return s.LineResult(
            line=self.number,
            event_id=self.event_id,
            status=self.status,
            account_id=str(self.account_id) if self.account_id else None,
            errors=self.errors,
        )


def parse_line(number: int, raw: bytes) -> Line:
    """Bytes to a validated LenderEvent, or a rejected line with field errors."""
    line = Line(number=number)
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        line.errors = [{"field": "body", "message": f"not valid JSON: {exc}", "type": "json_invalid"}]
        return line
    if isinstance(data, dict) and isinstance(data.get("event_id"), str):
        line.event_id = data["event_id"]
    if isinstance(data, dict) and data.get("type") is not None and data.get("type") not in s.EVENT_TYPES:
        line.errors = [
            {
                "field": "type",
                "message": f"unknown event type {str(data.get('type'))[:64]!r}; expected one of "
                + ", ".join(s.EVENT_TYPES),
                "type": "unknown_event_type",
            }
        ]
        return line
    try:
        line.event = EVENT_ADAPTER.validate_python(data)
    except ValidationError as exc:
        line.errors = field_errors(_strip_union_tag(exc.errors(include_url=False)))
        return line
    line.payload_hash = hashlib.sha256(orjson.dumps(data, option=orjson.OPT_SORT_KEYS)).hexdigest()
    return line


def _strip_union_tag(errors: Any) -> list[dict[str, Any]]:
    # The discriminated union puts the type name in each location; lenders expect plain field paths.
    out = []
    for err in errors:
        loc = list(err.get("loc", ()))
        if loc and isinstance(loc[0], str) and loc[0] in s.EVENT_TYPES:
            loc = loc[1:]
        out.append({**err, "loc": tuple(loc)})
    return out


@dataclass
class Pending:
    data: c.IntakeEvent
    borrower_id: uuid.UUID
    account_id: uuid.UUID
    at: datetime


@dataclass
class Context:
    session: AsyncSession
    cipher: FieldCipher
    tenant: str
    now: datetime
    today: date
    pending: list[Pending] = field(default_factory=list)

    def publish(
        self, data: c.IntakeEvent, *, borrower_id: uuid.UUID, account_id: uuid.UUID, at: datetime
    ) -> None:
        self.pending.append(Pending(data, borrower_id, account_id, at))

    async def outbox_rows(self) -> list[dict[str, object]]:
        """The outbox rows of everything published, each event numbered in its borrower's sequence."""
        counts: dict[uuid.UUID, int] = {}
        for item in self.pending:
            counts[item.borrower_id] = counts.get(item.borrower_id, 0) + 1
        last = await repo.advance_event_seqs(self.session, counts)
        next_seq = {b: last[b] - n + 1 for b, n in counts.items()}
        rows = []
        for item in self.pending:
            seq = next_seq[item.borrower_id]
            next_seq[item.borrower_id] += 1
            event = OutgoingEvent(
                topic=c.TOPIC,
                key=str(item.borrower_id),
                data=item.data.model_copy(update={"seq": seq}),
                tenant=self.tenant,
                subject=str(item.account_id),
                time=item.at,
            )
            rows.append(outbox_row(event, source=SOURCE))
        return rows


async def ingest(
    session: AsyncSession, *, cipher: FieldCipher, tenant: str, lines: list[Line], now: datetime | None = None
) -> list[Line]:
    """Apply every valid, new line; mark the rest duplicate or rejected. The caller commits."""
    now = now or datetime.now(UTC)
    ctx = Context(session=session, cipher=cipher, tenant=tenant, now=now, today=now.date())
    fresh = await _classify_idempotency(ctx, lines)
    placements = [ln for ln in fresh if isinstance(ln.event, s.AccountPlacedIn)]
    placed = await _place_accounts(ctx, placements)
    for line in fresh:
        if not isinstance(line.event, s.AccountPlacedIn):
            await _apply_change_line(ctx, line, placed)
    accepted = [ln for ln in fresh if ln.status == "accepted" and not isinstance(ln.event, s.AccountPlacedIn)]
    for line in accepted:
        await repo.record_lender_event(
            session,
            tenant=tenant,
            event_id=line.event_id,
            payload_hash=line.payload_hash,
            type=line.event.type,
            account_id=line.account_id,
        )
    _settle_batch_duplicates(lines)
    await write_rows(session, outbox, await ctx.outbox_rows())
    return lines


async def _classify_idempotency(ctx: Context, lines: list[Line]) -> list[Line]:
    """Duplicates answer with the first account id; the same id with another payload is a conflict."""
    valid = [ln for ln in lines if ln.event is not None]
    known = await repo.known_lender_events(ctx.session, ctx.tenant, (ln.event_id or "" for ln in valid))
    first_in_batch: dict[str, Line] = {}
    fresh: list[Line] = []
    for line in valid:
        assert line.event_id is not None
        prior = known.get(line.event_id)
        earlier = first_in_batch.get(line.event_id)
        first_hash = prior.payload_hash if prior is not None else earlier.payload_hash if earlier else None
        if first_hash is None:
            first_in_batch[line.event_id] = line
            fresh.append(line)
        elif first_hash != line.payload_hash:
            line.conflict = True
            line.errors = [
                {
                    "field": "event_id",
                    "message": "this event_id was already used with a different payload",
                    "type": "conflict",
                }
            ]
        elif prior is not None:
            line.status, line.account_id = "duplicate", prior.account_id
        else:
            line.duplicate_of = earlier
    return fresh


def _settle_batch_duplicates(lines: list[Line]) -> None:
    """A repeat inside one batch answers like its first copy: duplicate of an accepted line, or rejected."""
    for line in lines:
        first = line.duplicate_of
        if first is None:
            continue
        if first.status == "accepted":
            line.status, line.account_id = "duplicate", first.account_id
        else:
            line.errors = first.errors


async def _place_accounts(ctx: Context, lines: list[Line]) -> dict[str, book.Placement]:
    """Placements in bulk: each line checked and sealed, the book decides what they place, then new
    borrowers, accounts and lender events go in by COPY and known borrowers are updated."""
    if not lines:
        return {}
    existing = await repo.accounts_by_external(
        ctx.session, ctx.tenant, (ln.event.account.external_account_id for ln in lines)
    )
    known_borrowers = await repo.borrowers_by_external(
        ctx.session, ctx.tenant, (ln.event.borrower.external_borrower_id for ln in lines)
    )
    lines = await _without_replays(ctx, lines, existing)
    candidates: list[book.Candidate] = []
    for n, line in enumerate(lines):
        if n % YIELD_EVERY == YIELD_EVERY - 1:
            await asyncio.sleep(0)  # let a small request (a payment) in between a batch's accounts
        candidates.append(_checked(ctx, line, unchecked=line.event.account.external_account_id in existing))
    planned = book.plan(
        candidates,
        existing_accounts=set(existing),
        known_borrowers={ext: row.borrower_id for ext, row in known_borrowers.items()},
    )
    by_number = {line.number: line for line in lines}
    for number, errors in planned.refused.items():
        by_number[number].errors = errors
    for borrower_id, sealed in planned.known_borrowers.items():
        await repo.update_borrower(ctx.session, borrower_id, **book.borrower_changes(sealed))
    for p in planned.placements:
        line = by_number[p.candidate.number]
        line.status, line.account_id = "accepted", p.account_id
        ctx.publish(
            book.placed_event(p),
            borrower_id=p.borrower_id,
            account_id=p.account_id,
            at=p.candidate.event.occurred_at,
        )
    rows = [book.borrower_row(ctx.tenant, b, sealed) for b, sealed in planned.new_borrowers.items()]
    await copy_rows(ctx.session, borrowers, BORROWER_COLUMNS, rows)
    rows = [book.account_row(ctx.tenant, p) for p in planned.placements]
    await copy_rows(ctx.session, accounts, ACCOUNT_COLUMNS, rows)
    rows = [book.lender_event_row(ctx.tenant, p) for p in planned.placements]
    await copy_rows(ctx.session, lender_events, LENDER_EVENT_COLUMNS, rows)
    return {p.external_account_id: p for p in planned.placements}


def _checked(ctx: Context, line: Line, *, unchecked: bool) -> book.Candidate:
    """The line as the book sees it: checked and its borrower sealed, unless its account exists (a
    conflict whatever the line says)."""
    assert line.event_id is not None
    assert line.payload_hash is not None
    candidate = book.Candidate(line.number, line.event_id, line.payload_hash, line.event)
    if unchecked:
        return candidate
    event: s.AccountPlacedIn = line.event
    problems = Problems()
    check_times(problems, event, now=ctx.now)
    jurisdiction = check_account(problems, event.account, today=ctx.today)
    sealed = seal_borrower(ctx.cipher, problems, event, today=ctx.today, jurisdiction=jurisdiction)
    return replace(candidate, sealed=sealed, jurisdiction=jurisdiction, errors=problems.errors)


async def _without_replays(ctx: Context, lines: list[Line], existing: dict[str, Any]) -> list[Line]:
    """A concurrent copy of a placement may have committed after the idempotency check read
    lender_events: such a line is that copy's duplicate, not a second placement (nor a conflict)."""
    maybe = [ln for ln in lines if ln.event.account.external_account_id in existing]
    if not maybe:
        return lines
    prior = await repo.known_lender_events(ctx.session, ctx.tenant, [ln.event_id or "" for ln in maybe])
    for line in maybe:
        first = prior.get(line.event_id or "")
        if first is not None and first.payload_hash == line.payload_hash:
            line.status, line.account_id = "duplicate", first.account_id
    return [ln for ln in lines if ln.status != "duplicate"]


async def _apply_change_line(ctx: Context, line: Line, placed: dict[str, book.Placement]) -> None:
    ext = line.event.account.external_account_id
    placed_later = ext in placed and placed[ext].candidate.number > line.number
    account = (await repo.accounts_by_external(ctx.session, ctx.tenant, [ext], lock=True)).get(ext)
    if account is None or placed_later:
        line.errors = [
            {
                "field": "account.external_account_id",
                "message": "no placed account has this external_account_id",
                "type": "not_found",
            }
        ]
        return
    problems = Problems()
    check_times(problems, line.event, now=ctx.now)
    if not problems.errors:  # some changes apply without further checks: none may apply with a bad time
        await apply_change(ctx, line.event, account, problems)
    if problems.errors:
        line.errors = problems.errors
        return
    line.status, line.account_id = "accepted", account.account_id
