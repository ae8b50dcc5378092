"""The audit trail in PostgreSQL: append (chained at commit under an advisory lock), verify, export,
checkpoint.

Each row's chain body is `{"tenant", "content_sha256"}`: the chain links digests, the content sits
beside it. Verify checks both, so changing a row's content, its digest, or its place is found.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from common.db import before_commit, copy_rows
from compliance.domain.audit import (
    GENESIS,
    AuditEntry,
    Checkpoint,
    VerifyResult,
    canonical_json,
    checkpoint_line,
    entry_hash,
    sign_checkpoint,
    verify_chain,
)
from compliance.tables import audit_checkpoints, audit_log

# One advisory lock key for the chain head: appends from every replica line up behind it.
AUDIT_LOCK = 0x636F6D706C61
_PENDING = "audit_pending"


def chain_body(tenant: str, content_sha256: str) -> dict[str, Any]:
    return {"tenant": tenant, "content_sha256": content_sha256}


def append(session: AsyncSession, *, kind: str, tenant: str, content: dict[str, Any], at: datetime) -> None:
    """Add an entry to the chain in the caller's transaction. Entries are chained and written together
    just before it commits: the chain's lock, which every writer waits for, is held only for that."""
    raw = canonical_json(content)
    pending: list[dict[str, Any]] = session.info.setdefault(_PENDING, [])
    pending.append(
        {
            "kind": kind,
            "tenant": tenant,
            "content": raw.decode(),
            "content_sha256": hashlib.sha256(raw).hexdigest(),
            "recorded_at": at.isoformat(),
        }
    )
    before_commit(session, "audit", _write_pending, order=100)  # last: it takes the chain's lock


async def _write_pending(session: AsyncSession) -> None:
    pending: list[dict[str, Any]] = session.info.pop(_PENDING, [])
    if not pending:
        return
    # Held until commit: the head read next is the head this transaction extends.
    await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": AUDIT_LOCK})
    last = await head(session)
    seq, prev = (last[0] + 1, last[1]) if last else (1, GENESIS)
    rows = []
    for entry in pending:
        body = chain_body(entry["tenant"], entry["content_sha256"])
        digest = entry_hash(
            seq=seq, prev_hash=prev, kind=entry["kind"], recorded_at=entry["recorded_at"], body=body
        )
        rows.append(
            (
                seq,
                prev,
                entry["kind"],
                entry["recorded_at"],
                entry["tenant"],
                entry["content"],
                entry["content_sha256"],
                digest,
            )
        )
        seq, prev = seq + 1, digest
    await copy_rows(session, audit_log, _COLUMNS, rows)


_COLUMNS = ("seq", "prev_hash", "kind", "recorded_at", "tenant", "content", "content_sha256", "hash")


async def rows(session: AsyncSession, *, first: int = 1, last: int | None = None) -> AsyncIterator[Any]:
    stmt = select(audit_log).where(audit_log.c.seq >= first).order_by(audit_log.c.seq)
    if last is not None:
        stmt = stmt.where(audit_log.c.seq <= last)
    result = await session.stream(stmt.execution_options(yield_per=2000))
    async for row in result:
        yield row


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


async def verify(session: AsyncSession) -> VerifyResult:
    """Walk the whole chain once: links, hashes, and each row's content against its digest."""
    collected: list[AuditEntry] = []
    bad_content: int | None = None
    async for row in rows(session):
        if bad_content is None and not content_intact(row):
            bad_content = row.seq
        collected.append(as_entry(row))
    result = verify_chain(collected)
    if bad_content is not None and (result.first_bad_seq is None or bad_content < result.first_bad_seq):
        # As for a broken link: count and head are those of the intact entries before the bad one.
        intact = [e for e in collected if e.seq < bad_content]
        return VerifyResult(
            ok=False,
            entries=len(intact),
            head=intact[-1].hash if intact else None,
            first_bad_seq=bad_content,
            problem=f"entry {bad_content}: content does not match its digest",
        )
    return result


async def head(session: AsyncSession) -> tuple[int, str] | None:
    row = (
        await session.execute(
            select(audit_log.c.seq, audit_log.c.hash).order_by(audit_log.c.seq.desc()).limit(1)
        )
    ).first()
    return (int(row.seq), str(row.hash)) if row else None


async def checkpoint(session: AsyncSession, private_key_pem: bytes, *, at: datetime) -> Checkpoint | None:
    """Sign the current head and keep the signature (skipped when nothing was added since the last)."""
    current = await head(session)
    if current is None:
        return None
    last = (await session.execute(select(func.max(audit_checkpoints.c.seq)))).scalar()
    cp = sign_checkpoint(private_key_pem, seq=current[0], head=current[1], at=at.isoformat())
    if last != current[0]:
        await session.execute(
            insert(audit_checkpoints).values(
                seq=cp.seq, head=cp.head, at=cp.at, key_id=cp.key_id, signature_b64=cp.signature_b64
            )
        )
    return cp


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
    """The signed line that closes an export: a checkpoint on its last entry."""
    cp = sign_checkpoint(private_key_pem, seq=last.seq, head=last.hash, at=at.isoformat())
    return canonical_json(checkpoint_line(cp)) + b"\n"
