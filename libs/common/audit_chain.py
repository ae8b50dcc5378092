"""The tamper-evident audit chain: hashing, verification and signed checkpoints (pure functions).

Entry ``n`` commits to entry ``n - 1`` through ``prev_hash``; a checkpoint is an Ed25519 signature over
a chain head, so an export can be checked offline by anyone holding the public key.

Each tenant has a chain of its own (its entries' body names it), so a tenant's officer verifies and
exports only the tenant's trail and tenants do not wait for each other's appends. Entries written
before chains were per tenant stay in the one chain they were written in, ``LEGACY_CHAIN``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Final

import orjson
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

GENESIS: Final = "0" * 64
LEGACY_CHAIN: Final = "*"  # the chain of every tenant's entries from before per-tenant chains
CHECKPOINT_TYPE: Final = "compliance.audit.checkpoint.v1"


@dataclass(frozen=True, slots=True)
class AuditEntry:
    seq: int
    prev_hash: str
    kind: str
    recorded_at: str
    body: dict[str, Any]
    hash: str


@dataclass(frozen=True, slots=True)
class VerifyResult:
    """``entries`` counts the entries verified before the first bad one; ``head`` is the last good hash."""

    ok: bool
    entries: int
    head: str | None
    first_bad_seq: int | None
    problem: str | None


@dataclass(frozen=True, slots=True)
class Checkpoint:
    seq: int
    head: str
    at: str
    key_id: str
    signature_b64: str
    chain: str | None = None  # the tenant whose chain it signs; None for the legacy chain


def canonical_json(obj: object) -> bytes:
    """Sorted keys, no whitespace, UTF-8 without escapes; datetimes must already be strings.

    Byte for byte what `json.dumps(sort_keys=True, separators=(",", ":"), ensure_ascii=False)` writes
    for every value without floats (a unit test holds it to that; audited content has none, money is
    integer minor units), several times faster."""
    return orjson.dumps(
        obj, option=orjson.OPT_SORT_KEYS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS
    )


def entry_hash(*, seq: int, prev_hash: str, kind: str, recorded_at: str, body: dict[str, Any]) -> str:
    """Hex SHA-256 of the canonical JSON of the entry's content and its predecessor's hash."""
    content = {"seq": seq, "prev": prev_hash, "kind": kind, "at": recorded_at, "body": body}
    return hashlib.sha256(canonical_json(content)).hexdigest()


def chain_entry(*, seq: int, prev_hash: str, kind: str, recorded_at: str, body: dict[str, Any]) -> AuditEntry:
    """The entry to append after the one with hash ``prev_hash`` (``GENESIS`` for seq 1)."""
    digest = entry_hash(seq=seq, prev_hash=prev_hash, kind=kind, recorded_at=recorded_at, body=body)
    return AuditEntry(seq, prev_hash, kind, recorded_at, body, digest)


def verify_chain(entries: Iterable[AuditEntry], *, partial: bool = False) -> VerifyResult:
    """Verify entries in stream order and report the first bad seq, in O(1) memory.

    A full chain starts at seq 1 on ``GENESIS``; a ``partial`` one trusts its first entry's seq and
    ``prev_hash`` as the anchor (still ``GENESIS`` when that seq is 1). A gap reports the seq after it;
    an alteration the altered seq; a reordering the first position that holds the wrong entry.
    """
    stream = iter(entries)
    expected_seq: int | None = None if partial else 1
    expected_prev: str | None = None if partial else GENESIS
    count, head = 0, None
    for entry in stream:
        bad = _seq_problem(entry, expected_seq, stream)
        if bad is None:
            bad = _content_problem(entry, expected_prev)
        if bad is not None:
            return VerifyResult(False, count, head, bad[0], bad[1])
        count, head = count + 1, entry.hash
        expected_seq, expected_prev = entry.seq + 1, entry.hash
    return VerifyResult(True, count, head, None, None)


def _seq_problem(
    entry: AuditEntry, expected: int | None, stream: Iterator[AuditEntry]
) -> tuple[int, str] | None:
    if expected is None or entry.seq == expected:
        return None
    if entry.seq < expected:
        return expected, f"seq {entry.seq} where {expected} was expected: reordered or duplicated"
    # A jump is a removal unless a lower seq comes next: then the skipped entries were moved.
    following = next(stream, None)
    if following is not None and following.seq < entry.seq:
        return expected, f"seq {entry.seq} where {expected} was expected: entries reordered"
    missing = str(expected) if entry.seq == expected + 1 else f"{expected} to {entry.seq - 1}"
    return entry.seq, f"seq {missing} missing: entries removed"


def _content_problem(entry: AuditEntry, expected_prev: str | None) -> tuple[int, str] | None:
    if expected_prev is None and entry.seq == 1:
        expected_prev = GENESIS
    digest = entry_hash(
        seq=entry.seq,
        prev_hash=entry.prev_hash,
        kind=entry.kind,
        recorded_at=entry.recorded_at,
        body=entry.body,
    )
    if digest != entry.hash:
        return entry.seq, f"seq {entry.seq}: hash does not match its content: entry altered"
    if expected_prev is not None and entry.prev_hash != expected_prev:
        return (
            entry.seq,
            f"seq {entry.seq}: prev_hash does not match the previous entry: removed or reordered",
        )
    return None


def sign_checkpoint(
    private_key_pem: bytes, *, seq: int, head: str, at: str, chain: str | None = None
) -> Checkpoint:
    """Sign the head at ``seq`` of ``chain`` (a tenant's; None: the legacy chain) with an Ed25519
    private key (PKCS#8 PEM, unencrypted)."""
    key = serialization.load_pem_private_key(private_key_pem, password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError("audit checkpoints are signed with an Ed25519 private key")
    key_id = _key_id(key.public_key())
    signature = key.sign(_checkpoint_message(seq=seq, head=head, at=at, key_id=key_id, chain=chain))
    return Checkpoint(seq, head, at, key_id, base64.b64encode(signature).decode("ascii"), chain)


def verify_checkpoint(public_key_pem: bytes, cp: Checkpoint) -> bool:
    """True when ``cp`` was signed by the private half of this key; a malformed key raises ValueError."""
    key = serialization.load_pem_public_key(public_key_pem)
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError("audit checkpoints are verified with an Ed25519 public key")
    if cp.key_id != _key_id(key):
        return False
    try:
        signature = base64.b64decode(cp.signature_b64, validate=True)
        message = _checkpoint_message(seq=cp.seq, head=cp.head, at=cp.at, key_id=cp.key_id, chain=cp.chain)
        key.verify(signature, message)
    except (InvalidSignature, binascii.Error):
        return False
    return True


def entry_line(entry: AuditEntry) -> dict[str, Any]:
    """One export line for an entry."""
    return {
        "seq": entry.seq,
        "prev_hash": entry.prev_hash,
        "kind": entry.kind,
        "recorded_at": entry.recorded_at,
        "body": entry.body,
        "hash": entry.hash,
    }


def checkpoint_line(cp: Checkpoint) -> dict[str, Any]:
    """The final export line: ``{"checkpoint": {...}}``."""
    line: dict[str, Any] = {
        "seq": cp.seq,
        "head": cp.head,
        "at": cp.at,
        "key_id": cp.key_id,
        "signature_b64": cp.signature_b64,
    }
    if cp.chain is not None:
        line["chain"] = cp.chain
    return {"checkpoint": line}


def verify_export(lines: Iterable[bytes], public_key_pem: bytes) -> VerifyResult:
    """Verify an NDJSON export offline: chain intact, checkpoint on its last entry, signature valid."""
    reader = _ExportReader(lines)
    result = verify_chain(reader, partial=True)
    if not result.ok:
        return result
    if reader.problem is not None:
        return VerifyResult(False, result.entries, result.head, reader.bad_seq, reader.problem)
    cp, last_seq = reader.checkpoint, reader.last_seq
    if cp is None:
        return VerifyResult(False, result.entries, result.head, None, "export has no checkpoint")
    if last_seq is None:
        return VerifyResult(False, 0, None, None, "export has no entries")
    if cp.seq != last_seq or cp.head != result.head:
        bad = last_seq + 1 if cp.seq > last_seq else min(cp.seq + 1, last_seq)
        problem = f"checkpoint covers seq {cp.seq} but the export ends at seq {last_seq} with another head"
        return VerifyResult(False, result.entries, result.head, bad, problem)
    if not verify_checkpoint(public_key_pem, cp):
        return VerifyResult(False, result.entries, result.head, None, "checkpoint signature is not valid")
    foreign = reader.first_seq if reader.first_tenant != cp.chain else reader.foreign
    if cp.chain is not None and foreign is not None:
        problem = f"seq {foreign}: an entry of another tenant in the chain of {cp.chain}"
        return VerifyResult(False, result.entries, result.head, foreign, problem)
    return result


class _ExportReader:
    """Yields the entries of an export and keeps its checkpoint, or the first malformed line."""

    def __init__(self, lines: Iterable[bytes]) -> None:
        self._lines = lines
        self.checkpoint: Checkpoint | None = None
        self.last_seq: int | None = None
        self.problem: str | None = None
        self.bad_seq: int | None = None
        self.first_seq: int | None = None
        self.first_tenant: object = None
        self.foreign: int | None = None  # the first entry whose tenant is not the first one's

    def __iter__(self) -> Iterator[AuditEntry]:
        for number, raw in enumerate(self._lines, start=1):
            if not raw.strip():
                continue
            try:
                record = orjson.loads(raw)
                if self.checkpoint is not None:
                    raise ValueError("data after the checkpoint")
                if not isinstance(record, dict):
                    raise ValueError("not a JSON object")
                if "checkpoint" in record:
                    self.checkpoint = _parse_checkpoint(record["checkpoint"])
                    continue
                entry = _parse_entry(record)
            except ValueError as exc:
                self.problem = f"line {number}: {exc}"
                self.bad_seq = None if self.last_seq is None else self.last_seq + 1
                return
            self.last_seq = entry.seq
            self._seen(entry)
            yield entry

    def _seen(self, entry: AuditEntry) -> None:
        tenant = entry.body.get("tenant")
        if self.first_seq is None:
            self.first_seq, self.first_tenant = entry.seq, tenant
        elif self.foreign is None and tenant != self.first_tenant:
            self.foreign = entry.seq


def _parse_entry(record: dict[str, Any]) -> AuditEntry:
    fields = _fields(record, {"seq": int, "prev_hash": str, "kind": str, "recorded_at": str, "hash": str})
    if not isinstance(record.get("body"), dict):
        raise ValueError("body must be a JSON object")
    return AuditEntry(body=record["body"], **fields)


def _parse_checkpoint(record: object) -> Checkpoint:
    if not isinstance(record, dict):
        raise ValueError("checkpoint must be a JSON object")
    types = {"seq": int, "head": str, "at": str, "key_id": str, "signature_b64": str}
    chain = record.get("chain")
    if chain is not None and not isinstance(chain, str):
        raise ValueError("chain must be a str")
    return Checkpoint(**_fields(record, types), chain=chain)


def _fields(record: dict[str, Any], types: dict[str, type]) -> dict[str, Any]:
    for name, kind in types.items():
        value = record.get(name)
        if not isinstance(value, kind) or isinstance(value, bool):
            raise ValueError(f"{name} must be a {kind.__name__}")
    return {name: record[name] for name in types}


def _key_id(key: Ed25519PublicKey) -> str:
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def _checkpoint_message(*, seq: int, head: str, at: str, key_id: str, chain: str | None) -> bytes:
    signed: dict[str, Any] = {"type": CHECKPOINT_TYPE, "seq": seq, "head": head, "at": at, "key_id": key_id}
    if chain is not None:  # a legacy checkpoint's signature covers what it always did
        signed["chain"] = chain
    return canonical_json(signed)
