"""The audit trail in PostgreSQL: append (chained at commit under the tenant's chain lock), verify,
export, checkpoint.

Each tenant has its own chain (`chain` = the tenant, `seq` counting from 1 within it): an officer
verifies and exports only the tenant's trail, and appends of different tenants do not wait for each
other. Entries from before per-tenant chains stay in the legacy chain (`LEGACY_CHAIN`).

Each row's chain body is `{"tenant", "content_sha256"}`: the chain links digests, the content sits
beside it. Verify checks both, so changing a row's content, its digest, or its place is found.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import insert, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from common.db import before_commit, copy_rows
from compliance.domain.audit import (
    GENESIS,
    LEGACY_CHAIN,
    AuditEntry,
    Checkpoint,
    VerifyResult,
    canonical_json,
    checkpoint_line,
    entry_hash,
    sign_checkpoint,
    verify_chain,
)
from compliance.tables import audit_checkpoints, audit_log, decisions

# The advisory lock namespace of the chain heads (with the chain's hash as the second key): appends
# to one tenant's chain, from every replica, line up behind its lock.
AUDIT_LOCK = 0x61756469
_PENDING = "audit_pending"
# Verify reads a chain this many entries at a time: memory stays flat however long the chain.
VERIFY_PAGE = 5000


def snapshot_sha256(snapshot: dict[str, Any]) -> str:
    """The hash a decision's audit entry keeps of its snapshot (canonical JSON: the same bytes from
    the dict the engine saw and from the stored JSONB read back)."""
    return hashlib.sha256(canonical_json(snapshot)).hexdigest()


def snapshot_recorded(content: dict[str, Any], snapshot: dict[str, Any]) -> bool | None:
    """Whether a stored snapshot is the one a decision's audit entry (its parsed content) recorded;
    None when the entry recorded none (entries from before snapshots were hashed)."""
    expected = content.get("snapshot_sha256")
    return None if expected is None else snapshot_sha256(snapshot) == expected


def chain_body(tenant: str, content_sha256: str) -> dict[str, Any]:
    return {"tenant": tenant, "content_sha256": content_sha256}


def append(
    session: AsyncSession,
    *,
    kind: str,
    tenant: str,
    content: dict[str, Any],
    at: datetime,
    ref: str | None = None,
) -> None:
    """Add an entry to the chain in the caller's transaction. Entries are chained and written together
    just before it commits: the chain's lock, which every writer waits for, is held only for that.
    `ref` names the record the entry is about (a decision's permit id), to find the entry by it."""
    raw = canonical_json(content)
    pending: list[dict[str, Any]] = session.info.setdefault(_PENDING, [])
    pending.append(
        {
            "kind": kind,
            "tenant": tenant,
            "content": raw.decode(),
            "content_sha256": hashlib.sha256(raw).hexdigest(),
            "recorded_at": at.isoformat(),
            "ref": ref,
        }
    )
    before_commit(session, "audit", _write_pending, order=100)  # last: it takes the chain's lock


async def _write_pending(session: AsyncSession) -> None:
    pending: list[dict[str, Any]] = session.info.pop(_PENDING, [])
    if not pending:
        return
    by_chain: dict[str, list[dict[str, Any]]] = {}
    for entry in pending:
        by_chain.setdefault(entry["tenant"], []).append(entry)
    rows = []
    for chain in sorted(by_chain):  # one order for every writer: no deadlock between two of them
        # Held until commit: the head read next is the head this transaction extends.
        await session.execute(
            text("SELECT pg_advisory_xact_lock(:ns, hashtext(:chain))"), {"ns": AUDIT_LOCK, "chain": chain}
        )
        last = await head(session, chain)
        seq, prev = (last[0] + 1, last[1]) if last else (1, GENESIS)
        for entry in by_chain[chain]:
            body = chain_body(entry["tenant"], entry["content_sha256"])
            digest = entry_hash(
                seq=seq, prev_hash=prev, kind=entry["kind"], recorded_at=entry["recorded_at"], body=body
            )
            rows.append(
                (
                    chain,
                    seq,
                    prev,
                    entry["kind"],
                    entry["recorded_at"],
                    entry["tenant"],
                    entry["content"],
                    entry["content_sha256"],
                    digest,
                    entry["ref"],
                )
            )
            seq, prev = seq + 1, digest
    await copy_rows(session, audit_log, _COLUMNS, rows)


_COLUMNS = (
    "chain",
    "seq",
    "prev_hash",
    "kind",
    "recorded_at",
    "tenant",
    "content",
    "content_sha256",
    "hash",
    "ref",
)


async def rows(
    session: AsyncSession, chain: str, *, first: int = 1, last: int | None = None, limit: int | None = None
) -> AsyncIterator[Any]:
    stmt = (
        select(audit_log)
        .where(audit_log.c.chain == chain, audit_log.c.seq >= first)
        .order_by(audit_log.c.seq)
    )
    if last is not None:
        stmt = stmt.where(audit_log.c.seq <= last)
    if limit is not None:
        stmt = stmt.limit(limit)
    result = await session.stream(stmt.execution_options(yield_per=2000))
    async for row in result:
        yield row


async def _page(session: AsyncSession, chain: str, *, first: int) -> list[Any]:
    stmt = (
        select(audit_log)
        .where(audit_log.c.chain == chain, audit_log.c.seq >= first)
        .order_by(audit_log.c.seq)
        .limit(VERIFY_PAGE)
    )
    return list((await session.execute(stmt)).all())


async def seq_after(
    session: AsyncSession, chain: str, *, first: int, skip: int, last: int | None = None
) -> int | None:
    """The seq a next page would start at, after `skip` entries from `first` (None: no more)."""
    stmt = (
        select(audit_log.c.seq)
        .where(audit_log.c.chain == chain, audit_log.c.seq >= first)
        .order_by(audit_log.c.seq)
        .offset(skip)
        .limit(1)
    )
    if last is not None:
        stmt = stmt.where(audit_log.c.seq <= last)
    found = (await session.execute(stmt)).scalar()
    return int(found) if found is not None else None


async def chains(session: AsyncSession) -> list[str]:
    """Every chain, read from the primary key's index (one probe per chain, not a table scan)."""
    found = await session.execute(
        text(
            "WITH RECURSIVE c AS ("
            " (SELECT chain FROM compliance.audit_log ORDER BY chain LIMIT 1)"
            " UNION ALL"
            " SELECT (SELECT a.chain FROM compliance.audit_log a WHERE a.chain > c.chain"
            "  ORDER BY a.chain LIMIT 1) FROM c WHERE c.chain IS NOT NULL"
            ") SELECT chain FROM c WHERE chain IS NOT NULL"
        )
    )
    return [str(r.chain) for r in found]


def as_entry(row: Any) -> AuditEntry:
    return AuditEntry(
        seq=row.seq,
        prev_hash=row.prev_hash,
        kind=row.kind,
        recorded_at=row.recorded_at,
        body=chain_body(row.tenant, row.content_sha256),
        hash=row.hash,
    )


def content_intact(row: Any) -> bool:
    return bool(hashlib.sha256(row.content.encode()).hexdigest() == row.content_sha256)


async def verify(session: AsyncSession, chain: str) -> VerifyResult:
    """Walk one chain page by page: links, hashes, and each row's content against its digest. Each
    page after the first is checked on the last entry of the one before, so memory stays flat."""
    count, anchor = 0, None
    while True:
        page = await _page(session, chain, first=anchor.seq + 1 if anchor else 1)
        if not page:
            return VerifyResult(True, count, anchor.hash if anchor else None, None, None)
        entries = [as_entry(row) for row in page]
        if anchor is None:
            result = verify_chain(entries)
        else:
            anchored = verify_chain([anchor, *entries], partial=True)
            result = VerifyResult(
                anchored.ok, anchored.entries - 1, anchored.head, anchored.first_bad_seq, anchored.problem
            )
        bad_content = next((row.seq for row in page if not content_intact(row)), None)
        bad: tuple[int, str] | None = (
            (bad_content, f"entry {bad_content}: content does not match its digest") if bad_content else None
        )
        if bad is None:
            bad = await _decisions_astray(session, page)
        if bad is not None and (result.first_bad_seq is None or bad[0] < result.first_bad_seq):
            # As for a broken link: count and head are those of the intact entries before the bad one.
            intact = [e for e in entries if e.seq < bad[0]]
            head_hash = intact[-1].hash if intact else (anchor.hash if anchor else None)
            return VerifyResult(False, count + len(intact), head_hash, bad[0], bad[1])
        if not result.ok:
            return VerifyResult(
                False, count + result.entries, result.head, result.first_bad_seq, result.problem
            )
        count, anchor = count + len(entries), entries[-1]


async def _decisions_astray(session: AsyncSession, page: list[Any]) -> tuple[int, str] | None:
    """The first decision entry of a page whose stored decision no longer says what the entry
    recorded: its snapshot's hash, its outcome or its policy (a decision row edited afterwards)."""
    entries = [row for row in page if row.kind == "decision" and row.ref]
    if not entries:
        return None
    found = await session.execute(
        select(decisions.c.permit_id, decisions.c.snapshot, decisions.c.outcome, decisions.c.policy).where(
            decisions.c.permit_id.in_([uuid.UUID(row.ref) for row in entries])
        )
    )
    stored = {str(r.permit_id): r for r in found}
    for row in entries:
        content = orjson.loads(row.content)
        decision = stored.get(row.ref)
        if decision is None:
            return row.seq, f"entry {row.seq}: decision {row.ref} is missing from the decisions table"
        if snapshot_recorded(content, decision.snapshot) is False:
            problem = f"entry {row.seq}: decision {row.ref}: its stored snapshot is not the one decided on"
            return row.seq, problem
        if (decision.outcome, decision.policy) != (content.get("outcome"), content.get("policy")):
            return row.seq, f"entry {row.seq}: decision {row.ref}: its stored outcome or policy was changed"
    return None


async def entries_for(session: AsyncSession, refs: list[str]) -> dict[str, Any]:
    """The audit entries about these records (decision permit ids), by ref."""
    if not refs:
        return {}
    found = await session.execute(select(audit_log).where(audit_log.c.ref.in_(refs)))
    return {str(row.ref): row for row in found}


async def head(session: AsyncSession, chain: str) -> tuple[int, str] | None:
    row = (
        await session.execute(
            select(audit_log.c.seq, audit_log.c.hash)
            .where(audit_log.c.chain == chain)
            .order_by(audit_log.c.seq.desc())
            .limit(1)
        )
    ).first()
    return (int(row.seq), str(row.hash)) if row else None


async def last_checkpoint_seq(session: AsyncSession, chain: str) -> int | None:
    found = await session.execute(
        select(audit_checkpoints.c.seq)
        .where(audit_checkpoints.c.chain == chain)
        .order_by(audit_checkpoints.c.seq.desc())
        .limit(1)
    )
    seq = found.scalar()
    return int(seq) if seq is not None else None


def _signed_chain(chain: str) -> str | None:
    return None if chain == LEGACY_CHAIN else chain


async def checkpoint(session: AsyncSession, private_key_pem: bytes, *, at: datetime) -> list[Checkpoint]:
    """Sign the head of every chain that grew since its last checkpoint, and keep the signatures."""
    signed = []
    for chain in await chains(session):
        current = await head(session, chain)
        if current is None or await last_checkpoint_seq(session, chain) == current[0]:
            continue
        cp = sign_checkpoint(
            private_key_pem, seq=current[0], head=current[1], at=at.isoformat(), chain=_signed_chain(chain)
        )
        await session.execute(
            insert(audit_checkpoints).values(
                chain=chain,
                seq=cp.seq,
                head=cp.head,
                at=cp.at,
                key_id=cp.key_id,
                signature_b64=cp.signature_b64,
            )
        )
        signed.append(cp)
    return signed


def export_line(row: Any, *, include_content: bool) -> bytes:
    """One NDJSON line: the chain fields, and the content where the reader may see it."""
    line: dict[str, Any] = {
        "seq": row.seq,
        "prev_hash": row.prev_hash,
        "kind": row.kind,
        "recorded_at": row.recorded_at,
        "body": chain_body(row.tenant, row.content_sha256),
        "hash": row.hash,
    }
    if include_content:
        line["content"] = orjson.loads(row.content)
    return canonical_json(line) + b"\n"


def checkpoint_export_line(private_key_pem: bytes, last: Any, *, at: datetime) -> bytes:
    """The signed line that closes an export: a checkpoint on its last entry, naming its chain."""
    cp = sign_checkpoint(
        private_key_pem, seq=last.seq, head=last.hash, at=at.isoformat(), chain=_signed_chain(last.chain)
    )
    return canonical_json(checkpoint_line(cp)) + b"\n"
