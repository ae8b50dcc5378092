"""Compliance's routes. Dry runs decide exactly as the permit flow does but record nothing."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import StreamingResponse

from common.access import Can, allow
from common.auth import Principal, Role, ensure_tenant
from common.fields import Instant
from common.pagination import TIME_AND_ID, decode_cursor, encode_cursor
from common.problems import ProblemError
from compliance import audit_store, decisions, dryrun, handlers
from compliance import repository as repo
from compliance.api import schemas as s
from compliance.domain.audit import LEGACY_CHAIN
from compliance.domain.ledger import ledger_counts, unreachable, validation_notice_due
from compliance.domain.lint import UnknownJurisdictionError, lint_template
from compliance.domain.model import Decision
from compliance.domain.packs import Pack, pack_for
from compliance.views import ledger_from_rows, state_from_rows

router = APIRouter(prefix="/v1", tags=["compliance"])

Evaluator = Annotated[Principal, Depends(allow(Can.DRY_RUN))]
Reader = Annotated[Principal, Depends(allow(Can.COMPLIANCE, Can.READ_TENANT))]
# Ops has its strategies' templates linted as it saves them (reminders asks with the caller's token).
Linter = Annotated[Principal, Depends(allow(Can.COMPLIANCE, Can.STRATEGIES))]


async def _account(request: Request, principal: Principal, account_id: uuid.UUID) -> tuple[Any, Any]:
    async with request.app.state.runtime.sessions() as session:
        account = await repo.account(session, account_id)
        borrower = await repo.borrower(session, account.borrower_id) if account else None
    if account is None or borrower is None:
        raise ProblemError(404, "not found")
    ensure_tenant(principal, account.tenant)
    return account, borrower


def _reasons(decision: Decision) -> list[s.ReasonView]:
    return [s.ReasonView(rule=r.rule, message=r.message, citation=r.citation) for r in decision.reasons]


@router.post(
    "/permits:evaluate",
    summary="May we contact this person, this way, at this time? (records nothing)",
    response_model=s.EvaluationView,
)
async def evaluate_permit(
    body: s.EvaluateRequest, request: Request, principal: Evaluator
) -> s.EvaluationView:
    runtime = request.app.state.runtime
    deps: handlers.Deps = request.app.state.deps
    account, borrower = await _account(request, principal, body.account_id)
    now = runtime.clock.now()
    stale = decisions.not_yet_known(borrower, account, body.intake_seq, now)
    if stale is None and body.intake_seq is None:
        stale = await _lagging(request, str(account.borrower_id), now)
    if stale is not None:
        return s.EvaluationView(
            outcome=stale.outcome,
            not_before=stale.not_before,
            expires_at=None,
            reasons=_reasons(stale),
            policy=stale.policy,
        )
    base = decisions.permit_request(
        body, account_id=str(account.account_id), borrower_id=str(account.borrower_id), at=body.at or now
    )
    async with runtime.sessions() as session:
        bench = await decisions.load(
            session,
            packs=deps.packs,
            permit_ttl=deps.permit_ttl,
            visit_tenants=deps.visit_tenants,
            account_ids=[account.account_id],
            borrower_ids=[account.borrower_id],
            instants=[base.at],
            lock=False,
        )
    candidates: list[dryrun.Target | None] = [*dryrun.targets(base, borrower)]
    answers: list[tuple[dryrun.Target | None, Decision]] = []
    for target in candidates or [None]:
        permit = base if target is None else dryrun.aimed_at(base, target)
        decision, _ = bench.decide(permit, account, borrower, reserve=False)
        answers.append((target, decision))
    overall = dryrun.best([decision for _, decision in answers])
    return s.EvaluationView(
        outcome=overall.outcome,
        not_before=overall.not_before,
        expires_at=overall.expires_at,
        reasons=_reasons(overall),
        policy=overall.policy,
        evaluated_rules=overall.evaluated_rules,
        targets=[
            s.TargetDecision(
                kind=target.kind,
                contact_point_id=target.contact_point_id,
                third_party_id=target.third_party_id,
                relationship=target.relationship,
                outcome=decision.outcome,
                not_before=decision.not_before,
                expires_at=decision.expires_at,
                reasons=_reasons(decision),
            )
            for target, decision in answers
            if target is not None
        ],
    )


async def _lagging(request: Request, borrower_id: str, now: datetime) -> Decision | None:
    """A deferral while intake events of this borrower's partition wait to be applied here."""
    behind = await request.app.state.intake_lag.behind(borrower_id)
    if behind == 0:
        return None
    return decisions.provisional(
        now,
        "compliance.state_not_fresh",
        f"{behind} intake event(s) on this borrower's partition are not applied here yet: ask again shortly",
    )


@router.get(
    "/accounts/{account_id}/state", summary="What compliance knows of an account", response_model=s.StateView
)
async def account_state(account_id: uuid.UUID, request: Request, principal: Reader) -> s.StateView:
    runtime = request.app.state.runtime
    deps: handlers.Deps = request.app.state.deps
    account, borrower = await _account(request, principal, account_id)
    now = runtime.clock.now()
    pack = deps.packs[pack_for(account.jurisdiction)]
    state = state_from_rows(account, borrower, tenant_allows_visits=account.tenant in deps.visit_tenants)
    async with runtime.sessions() as session:
        ledger = ledger_from_rows(
            await repo.attempts(session, account.borrower_id, until=now),
            reserved=await repo.outstanding_permits(session, account.borrower_id, at=now),
        )
    sources = borrower.zone_sources or {}
    return s.StateView(
        account_id=str(account.account_id),
        borrower_id=str(account.borrower_id),
        jurisdiction=account.jurisdiction,
        policy=pack.version_tag,
        timezones=list(borrower.timezones),
        zones=[s.ZoneView(zone=zone, sources=sources.get(zone, [])) for zone in borrower.timezones],
        holds=sorted(state.holds),
        channel_opt_outs=sorted(state.channel_opt_outs),
        consents=dict(borrower.consents),
        preferences=dict(borrower.preferences),
        ledger_counts=ledger_counts(state, ledger, now, pack=pack),
        first_contact_at=account.first_contact_at,
        validation_notice=s.ValidationNotice(
            due=validation_notice_due(state, pack),
            sent_at=account.validation_notice_sent_at,
            period_ends=account.validation_period_ends,
        ),
        notices=dict(state.notices),
        dispute=s.DisputeView(received_at=state.dispute.received_at, written=state.dispute.written)
        if state.dispute
        else None,
        debtor_unreachable=unreachable(state, ledger, now, pack=pack),
        refused_third_parties=sorted(state.refused_third_parties),
        contacted_third_parties=sorted(state.contacted_third_parties),
        intake_seq=borrower.intake_seq,
    )


@router.get(
    "/accounts/{account_id}/decisions",
    summary="Every decision on an account, newest first",
    response_model=s.DecisionPage,
)
async def account_decisions(
    account_id: uuid.UUID,
    request: Request,
    principal: Reader,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
) -> s.DecisionPage:
    await _account(request, principal, account_id)
    before = decode_cursor(cursor, TIME_AND_ID)
    async with request.app.state.runtime.sessions() as session:
        rows = await repo.decisions_of(session, account_id, limit=limit + 1, before=before)
    items = [
        s.StoredDecision(
            permit_id=str(r.permit_id),
            request_id=r.request_id,
            requester=r.requester,
            channel=r.channel,
            request=r.request,
            outcome=r.outcome,
            not_before=r.not_before,
            expires_at=r.expires_at,
            reasons=[s.ReasonView(**x) for x in r.reasons],
            policy=r.policy,
            evaluated_rules=r.evaluated_rules,
            decided_at=r.decided_at,
            used_at=r.used_at,
            used_by=r.used_by,
        )
        for r in rows[:limit]
    ]
    next_cursor = None
    if len(rows) > limit:
        last = rows[limit - 1]
        next_cursor = encode_cursor([last.decided_at.isoformat(), str(last.permit_id)])
    return s.DecisionPage(items=items, next_cursor=next_cursor)


def _summary(pack: Pack) -> s.PolicySummary:
    return s.PolicySummary(
        pack=pack.name,
        version=pack.version,
        version_tag=pack.version_tag,
        title=pack.title,
        extends=pack.base.name if pack.base else None,
        retention_years=pack.retention_years,
        rules=len(pack.rules),
    )


@router.get("/policies", summary="The policy packs and their versions", response_model=s.PolicyPacks)
async def policies(request: Request, principal: Reader) -> s.PolicyPacks:
    packs: dict[str, Pack] = request.app.state.deps.packs
    return s.PolicyPacks(packs=[_summary(p) for _, p in sorted(packs.items())])


@router.get(
    "/policies/{pack}",
    summary="One pack: every rule with its parameters and citation",
    response_model=s.PolicyDetail,
)
async def policy(pack: str, request: Request, principal: Reader) -> s.PolicyDetail:
    packs: dict[str, Pack] = request.app.state.deps.packs
    found = packs.get(pack)
    if found is None:
        raise ProblemError(404, f"no policy pack {pack!r}; there are {', '.join(sorted(packs))}")
    return s.PolicyDetail(
        **_summary(found).model_dump(),
        sources=list(found.sources),
        retention_citation=found.retention_citation,
        rule_list=[r.model_dump(mode="json") for r in found.rules],
    )


@router.post(
    "/templates:lint", summary="Findings in a message template, by category", response_model=s.LintView
)
async def lint(body: s.LintRequest, principal: Linter) -> s.LintView:
    try:
        result = lint_template(
            jurisdiction=body.jurisdiction,
            channel=body.channel,
            language=body.language,
            body=body.body,
            subject=body.subject,
        )
    except UnknownJurisdictionError as exc:
        raise ProblemError(422, str(exc), errors=[{"field": "jurisdiction", "message": str(exc)}]) from None
    return s.LintView(
        ok=result.ok,
        findings=[
            s.FindingView(
                rule=f.rule,
                category=f.category,
                span=f.span,
                message=f.message,
                suggestion=f.suggestion,
                citation=f.citation,
            )
            for f in result.findings
        ],
    )


# a tenant id (common.auth.TENANT_PATTERN) or the legacy chain "*"
CHAIN_PATTERN = r"^(\*|[A-Za-z0-9][A-Za-z0-9._-]{0,63})$"


def _audit_chain(principal: Principal, tenant: str | None) -> str | None:
    """The chain a caller reads: its tenant's (another tenant's answers 404); an admin names one, or
    None for every chain."""
    if tenant is None:
        return None if principal.role == Role.ADMIN else principal.tenant
    if tenant != LEGACY_CHAIN:
        ensure_tenant(principal, tenant)
    elif principal.role != Role.ADMIN:
        raise ProblemError(404, "no such audit chain")
    return tenant


@router.get(
    "/audit/verify",
    summary="Walk the tenant's audit chain (an admin: every chain); name the first altered, removed or "
    "reordered entry",
    response_model=s.VerifyView,
)
async def audit_verify(
    request: Request,
    principal: Reader,
    tenant: Annotated[
        str | None, Query(pattern=CHAIN_PATTERN, description="admin: one chain; default all")
    ] = None,
) -> s.VerifyView:
    chain = _audit_chain(principal, tenant)
    async with request.app.state.runtime.sessions() as session:
        names = [chain] if chain is not None else await audit_store.chains(session)
        entries, heads = 0, {}
        for name in names:
            result = await audit_store.verify(session, name)
            entries += result.entries
            heads[name] = result.head
            if not result.ok:
                return s.VerifyView(
                    ok=False,
                    chain=name,
                    chains=len(names),
                    entries=result.entries,
                    head=result.head,
                    first_bad_seq=result.first_bad_seq,
                    problem=result.problem,
                )
    return s.VerifyView(
        ok=True,
        chain=chain,
        chains=len(names),
        entries=entries,
        head=heads.get(chain) if chain is not None else None,
        first_bad_seq=None,
    )


@router.get(
    "/audit/export",
    summary="One audit chain as NDJSON, a page at a time, each ending with a signed checkpoint; "
    "verifiable offline",
    response_class=StreamingResponse,
    responses={200: {"content": {"application/x-ndjson": {"schema": {"type": "string"}}}}},
)
async def audit_export(
    request: Request,
    principal: Reader,
    from_: Annotated[int, Query(alias="from", ge=1, le=2**62)] = 1,
    to: Annotated[int | None, Query(ge=1, le=2**62)] = None,
    limit: Annotated[int, Query(ge=1, le=100_000)] = 10_000,
    tenant: Annotated[
        str | None, Query(pattern=CHAIN_PATTERN, description="admin: the chain to export")
    ] = None,
) -> StreamingResponse:
    chain = _audit_chain(principal, tenant)
    if chain is None:
        raise ProblemError(
            400, "name the chain to export", errors=[{"field": "tenant", "message": "required for an admin"}]
        )
    runtime = request.app.state.runtime
    key: bytes = request.app.state.audit_key
    async with runtime.sessions() as session:
        following = await audit_store.seq_after(session, chain, first=from_, skip=limit, last=to)
    headers = {}
    if following is not None:
        query = {
            "from": following,
            "limit": limit,
            **({"to": to} if to else {}),
            **({"tenant": tenant} if tenant else {}),
        }
        headers["Link"] = f'<{request.url.path}?{urlencode(query)}>; rel="next"'

    async def lines() -> AsyncIterator[bytes]:
        last = None
        async with runtime.sessions() as session:
            async for row in audit_store.rows(session, chain, first=from_, last=to, limit=limit):
                last = row
                yield audit_store.export_line(row, include_content=True)
        if last is not None:
            yield audit_store.checkpoint_export_line(key, last, at=runtime.clock.now())

    return StreamingResponse(lines(), media_type="application/x-ndjson", headers=headers)


@router.get(
    "/violations",
    summary="Contacts made without a valid permit, newest first",
    response_model=s.ViolationPage,
)
async def list_violations(
    request: Request, principal: Reader, limit: Annotated[int, Query(ge=1, le=1000)] = 100
) -> s.ViolationPage:
    tenant = None if principal.role == Role.ADMIN else principal.tenant
    async with request.app.state.runtime.sessions() as session:
        rows = await repo.violations_of(session, tenant, limit=limit)
    return s.ViolationPage(
        items=[
            s.ViolationView(
                violation_id=str(r.violation_id),
                account_id=str(r.account_id),
                kind=r.kind,
                attempt_id=r.attempt_id,
                permit_id=str(r.permit_id) if r.permit_id else None,
                detail=r.detail,
                detected_at=r.detected_at,
            )
            for r in rows
        ]
    )


@router.get(
    "/reports/decisions",
    summary="Decisions per outcome and denials per rule in a period",
    response_model=s.DecisionReport,
)
async def decision_report(
    request: Request,
    principal: Reader,
    from_: Annotated[Instant | None, Query(alias="from")] = None,
    to: Annotated[Instant | None, Query()] = None,
) -> s.DecisionReport:
    end = to or datetime.now(UTC)
    start = from_ or end - timedelta(days=7)
    if start >= end:
        raise ProblemError(
            422, "`from` must be before `to`", errors=[{"field": "from", "message": "after to"}]
        )
    tenant = None if principal.role == Role.ADMIN else principal.tenant
    async with request.app.state.runtime.sessions() as session:
        report = await repo.denial_report(session, tenant, start, end)
    return s.DecisionReport(start=start, end=end, **report)
