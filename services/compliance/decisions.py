"""Deciding permits a run at a time: what a run needs is read with one statement per table, the pure
engine decides each request in order in memory, and each allow is reserved for the requests after it.

The permit flow (a run of `permit.requested` from a partition) and dry runs (one request, or one per
contact point) decide here, the same way.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from compliance import repository as repo
from compliance.domain.engine import evaluate
from compliance.domain.model import AccountState, Attempt, Decision, Ledger, PermitRequest, Reason
from compliance.domain.packs import Pack, pack_for
from compliance.domain.version import ENGINE
from compliance.views import (
    attempt_from_row,
    reserved_from_row,
    snapshot_with,
    state_from_rows,
    state_snapshot,
)

# A request for an account whose placement (or latest intake event) compliance has not read yet is
# deferred this long, not decided on what compliance knew before.
NOT_YET_KNOWN_RETRY = timedelta(seconds=2)


def provisional(now: datetime, rule: str, message: str) -> Decision:
    """A deferral for a request compliance cannot decide yet: it would be deciding on old state."""
    return Decision(
        outcome="defer",
        not_before=now + NOT_YET_KNOWN_RETRY,
        expires_at=None,
        reasons=[Reason(rule=rule, message=message, citation="")],
        policy="none",
        evaluated_rules=[],
    )


def not_yet_known(borrower: Any, account: Any, intake_seq: int | None, now: datetime) -> Decision | None:
    """Why compliance may not decide now (its view lags what the requester saw), or None."""
    if account is None or borrower is None:
        return provisional(
            now, "compliance.account_not_yet_known", "compliance has not read this account's placement yet"
        )
    if intake_seq is not None and borrower.intake_seq < intake_seq:
        return provisional(
            now,
            "compliance.state_not_fresh",
            f"compliance has applied the borrower's intake events up to {borrower.intake_seq}, "
            f"the requester saw {intake_seq}: decided once it has caught up",
        )
    return None


def permit_request(d: Any, *, account_id: str, borrower_id: str, at: datetime) -> PermitRequest:
    """The engine's request from a permit.requested payload or a dry run's body."""
    return PermitRequest(
        account_id=account_id,
        borrower_id=borrower_id,
        channel=d.channel,
        recipient=d.recipient,
        at=at,
        autodialed=d.autodialed,
        prerecorded=d.prerecorded,
        purpose=d.purpose,
        contact_point_id=d.contact_point_id,
        third_party_id=d.third_party_id,
        crew_size=d.crew_size,
        recording=d.recording,
        id_shown=d.id_shown,
        until=getattr(d, "until", None),
    )


def recorded_versions(pack: Pack, permit_ttl: timedelta) -> dict[str, Any]:
    """The part of a decision's snapshot that says which code and which rules decided it."""
    return {
        "engine": ENGINE,
        "policy": pack.version_tag,
        "packs": pack.hashes,
        "permit_ttl_s": int(permit_ttl.total_seconds()),  # whole seconds (COMPLIANCE_PERMIT_TTL_S)
    }


@dataclass
class Reserved:
    """An allowed permit not used yet: a contact that may still happen, until it expires. A permit
    asked for by a requester's job is one contact of that job, whichever of its permits it uses."""

    attempt: Attempt
    expires_at: datetime
    job_id: str | None = None


@dataclass
class Bench:
    """Everything a run of requests is decided on, read once; it remembers the run's own allows."""

    packs: dict[str, Pack]
    permit_ttl: timedelta
    visit_tenants: frozenset[str]
    borrowers: dict[uuid.UUID, Any]
    accounts: dict[uuid.UUID, Any]
    history: dict[uuid.UUID, list[Attempt]]
    reserved: dict[uuid.UUID, list[Reserved]]
    _states: dict[uuid.UUID, tuple[AccountState, dict[str, Any]]] = field(default_factory=dict)
    _versions: dict[str, dict[str, Any]] = field(default_factory=dict)

    def versions(self, pack: Pack) -> dict[str, Any]:
        """What a decision was made under: engine, pack versions and their files' hashes, the TTL."""
        found = self._versions.get(pack.name)
        if found is None:
            found = self._versions[pack.name] = recorded_versions(pack, self.permit_ttl)
        return found

    def state(self, account: Any, borrower: Any) -> tuple[AccountState, dict[str, Any]]:
        """The account's state for the engine, and its snapshot, built once per run."""
        cached = self._states.get(account.account_id)
        if cached is None:
            state = state_from_rows(
                account, borrower, tenant_allows_visits=account.tenant in self.visit_tenants
            )
            cached = self._states[account.account_id] = (state, state_snapshot(state))
        return cached

    def decide(
        self,
        request: PermitRequest,
        account: Any,
        borrower: Any,
        *,
        reserve: bool = True,
        job_id: str | None = None,
    ) -> tuple[Decision, dict[str, Any]]:
        """Decide one request; an allow is reserved for the requests after it in the run (a dry run's
        answers are alternatives, not contacts: they reserve nothing). A job that asks again (its
        answer was slow) is not held back by the permit it was already given: it sends once."""
        state, state_json = self.state(account, borrower)
        borrower_id = account.borrower_id
        outstanding = [
            r.attempt
            for r in self.reserved.get(borrower_id, ())
            if r.expires_at > request.at and (job_id is None or r.job_id != job_id)
        ]
        attempts = sorted([*self.history.get(borrower_id, ()), *outstanding], key=lambda a: a.at)
        ledger = Ledger(attempts=tuple(attempts))
        pack = self.packs[pack_for(account.jurisdiction)]
        decision = evaluate(request, state, ledger, pack, permit_ttl=self.permit_ttl)
        if reserve and decision.outcome == "allow" and decision.expires_at is not None:
            held = Attempt(
                at=request.at,
                channel=request.channel,
                outcome="reserved",
                contact_point_id=request.contact_point_id,
                account_id=request.account_id,
                borrower_id=request.borrower_id,
                recipient=request.recipient,
                purpose=request.purpose,
                third_party_id=request.third_party_id,
            )
            self.reserved.setdefault(borrower_id, []).append(Reserved(held, decision.expires_at, job_id))
        snap = snapshot_with(request, state_json, ledger)
        snap["versions"] = self.versions(pack)
        return decision, snap


async def load(
    session: AsyncSession,
    *,
    packs: dict[str, Pack],
    permit_ttl: timedelta,
    visit_tenants: frozenset[str],
    account_ids: Iterable[uuid.UUID],
    borrower_ids: Iterable[uuid.UUID],
    instants: Sequence[datetime],
    lock: bool,
) -> Bench:
    """Read a run's borrowers (locked in id order when `lock`), accounts, ledgers and outstanding
    permits: one statement each, whatever the size of the run."""
    borrowers = sorted(set(borrower_ids))
    first, last = min(instants), max(instants)
    borrower_rows = await repo.borrowers_by_id(session, borrowers, lock=lock)
    account_rows = await repo.accounts_by_id(session, sorted(set(account_ids)))
    history: dict[uuid.UUID, list[Attempt]] = defaultdict(list)
    for row in await repo.attempts_of(session, borrowers, since=first - repo.LEDGER_LOOKBACK, until=last):
        history[row.borrower_id].append(attempt_from_row(row))
    reserved: dict[uuid.UUID, list[Reserved]] = defaultdict(list)
    for row in await repo.outstanding_permits_of(session, borrowers, at=first):
        reserved[row.borrower_id].append(
            Reserved(reserved_from_row(row), row.expires_at, row.request.get("job_id"))
        )
    return Bench(
        packs=packs,
        permit_ttl=permit_ttl,
        visit_tenants=visit_tenants,
        borrowers=borrower_rows,
        accounts=account_rows,
        history=history,
        reserved=reserved,
    )
