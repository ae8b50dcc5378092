"""Intake's routes: lender events in (one JSON event or an NDJSON batch), accounts out."""

from __future__ import annotations

import asyncio
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError

from common.access import Can, allow
from common.auth import Principal, ensure_tenant
from common.db import unit_of_work
from common.pagination import TIME_AND_ID, decode_cursor, encode_cursor
from common.problems import ProblemError
from intake import handlers, repository
from intake.api import schemas as s
from intake.api.views import AccountPage, AccountView, account_view

router = APIRouter(prefix="/v1", tags=["intake"])

Poster = Annotated[Principal, Depends(allow(Can.POST_EVENTS))]
Reader = Annotated[Principal, Depends(allow(Can.READ_OWN_ACCOUNTS, Can.READ_TENANT))]

NDJSON = ("application/x-ndjson", "application/jsonl", "application/ndjson")
MAX_BATCH_LINES = 10_000
MAX_BODY_BYTES = 16 * 1024 * 1024

EVENTS_OPENAPI: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            # The app adds LenderEvent and its parts to the components when it builds the schema.
            "application/json": {"schema": {"$ref": "#/components/schemas/LenderEvent"}},
            "application/x-ndjson": {"schema": {"type": "string", "description": "one event per line"}},
        },
    },
    "responses": {
        "200": {
            "description": "NDJSON batch: one result per line",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/BatchResult"}}},
        },
        "202": {
            "description": "single event accepted or duplicate",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/EventAccepted"}}},
        },
        "409": {"description": "the event_id was used with another payload"},
        "413": {"description": "body or batch too large"},
        "415": {"description": "unsupported content type"},
        "422": {"description": "the event did not validate"},
        "429": {"description": "tenant over its rate"},
    },
}


async def _read_body(request: Request) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise ProblemError(413, f"the body is larger than {MAX_BODY_BYTES} bytes")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise ProblemError(413, f"the body is larger than {MAX_BODY_BYTES} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


@router.post(
    "/events",
    summary="Post one lender event (application/json) or a batch (application/x-ndjson)",
    openapi_extra=EVENTS_OPENAPI,
    responses={200: {"model": s.BatchResult}, 202: {"model": s.EventAccepted}},
)
async def post_events(request: Request, principal: Poster) -> JSONResponse:
    content_type = request.headers.get("content-type", "application/json").split(";")[0].strip().lower()
    if content_type not in ("application/json", *NDJSON):
        raise ProblemError(
            415,
            f"send application/json for one event or application/x-ndjson for a batch, not {content_type}",
        )
    body = await _read_body(request)
    runtime = request.app.state.runtime
    if content_type in NDJSON:
        raw_lines = [ln for ln in body.split(b"\n") if ln.strip()]
        if len(raw_lines) > MAX_BATCH_LINES:
            raise ProblemError(
                413, f"a batch holds at most {MAX_BATCH_LINES} lines; this one has {len(raw_lines)}"
            )
        if not raw_lines:
            raise ProblemError(422, "the batch is empty", errors=[{"field": "body", "message": "no lines"}])
        request.app.state.rate_limiter.take(principal.tenant, len(raw_lines))
        parsed = []
        for i, raw in enumerate(raw_lines):
            if i % handlers.YIELD_EVERY == handlers.YIELD_EVERY - 1:
                await asyncio.sleep(0)  # a small request posted beside this batch gets its turn
            parsed.append(handlers.parse_line(i + 1, raw))
        lines = await _ingest(runtime, principal.tenant, parsed)
        counts = {k: sum(1 for ln in lines if ln.status == k) for k in ("accepted", "duplicate", "rejected")}
        result = s.BatchResult(**counts, results=[ln.result() for ln in lines])
        return JSONResponse(result.model_dump(mode="json"), status_code=200)
    request.app.state.rate_limiter.take(principal.tenant, 1)
    (line,) = await _ingest(runtime, principal.tenant, [handlers.parse_line(1, body)])
    if line.status == "rejected":
        if line.conflict:
            raise ProblemError(
                409, "this event_id was already used with a different payload", errors=line.errors
            )
        raise ProblemError(422, "the event did not validate", title="Validation failed", errors=line.errors)
    return JSONResponse({"status": line.status, "account_id": str(line.account_id)}, status_code=202)


async def _ingest(runtime: Any, tenant: str, lines: list[handlers.Line]) -> list[handlers.Line]:
    # A concurrent request may win a race on the same event or account: retry once and the
    # idempotency check then sees its rows.
    for attempt in (1, 2):
        fresh = [_reset(ln) for ln in lines]
        try:
            async with unit_of_work(runtime.sessions) as session:
                return await handlers.ingest(
                    session, cipher=runtime.cipher, tenant=tenant, lines=fresh, now=runtime.clock.now()
                )
        except IntegrityError:
            if attempt == 2:
                raise ProblemError(409, "a concurrent request changed the same events; retry") from None
    raise AssertionError("unreachable")


def _reset(line: handlers.Line) -> handlers.Line:
    if line.event is None:
        return line
    return handlers.Line(
        number=line.number, event=line.event, event_id=line.event_id, payload_hash=line.payload_hash
    )


@router.get(
    "/accounts/{account_id}", summary="One account, with masked personal data", response_model=AccountView
)
async def get_account(account_id: uuid.UUID, request: Request, principal: Reader) -> AccountView:
    runtime = request.app.state.runtime
    async with runtime.sessions() as session:
        row = await repository.account_view(session, account_id)
    if row is None:
        raise ProblemError(404, "not found")
    ensure_tenant(principal, row.tenant)
    return account_view(row, runtime.cipher, now=runtime.clock.now())


@router.get(
    "/accounts", summary="Accounts of the caller's tenant, oldest placement first", response_model=AccountPage
)
async def list_accounts(
    request: Request,
    principal: Reader,
    external_account_id: Annotated[str | None, Query(max_length=128, pattern=s.NO_CONTROL)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
) -> AccountPage:
    runtime = request.app.state.runtime
    after = decode_cursor(cursor, TIME_AND_ID)
    async with runtime.sessions() as session:
        keys = await repository.account_page(
            session, principal.tenant, external_account_id=external_account_id, after=after, limit=limit + 1
        )
        rows = await repository.account_views(session, [k.account_id for k in keys[:limit]])
    items = [account_view(r, runtime.cipher, now=runtime.clock.now()) for r in rows]
    next_cursor = None
    if len(keys) > limit:
        last = keys[limit - 1]
        next_cursor = encode_cursor([last.placed_at.isoformat(), str(last.account_id)])
    return AccountPage(items=items, next_cursor=next_cursor)
