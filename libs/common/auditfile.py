"""Offline verification of an audit export: the chain, each line's content against its digest, and
the signed checkpoint that closes the file."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from typing import Any

from common.audit_chain import canonical_json, verify_export


def verify_export_file(lines: Iterable[bytes], public_key_pem: bytes) -> dict[str, Any]:
    """What `collectctl audit verify-export` prints: ok, entries, head, first_bad_seq, problem."""
    materialised = [line for line in lines if line.strip()]
    for raw in materialised:
        record = json.loads(raw)
        if "content" not in record or not isinstance(record.get("body"), dict):
            continue
        digest = hashlib.sha256(canonical_json(record["content"])).hexdigest()
        if digest != record["body"].get("content_sha256"):
            return {
                "ok": False,
                "entries": None,
                "head": None,
                "first_bad_seq": record.get("seq"),
                "problem": f"entry {record.get('seq')}: content does not match its digest",
            }
    result = verify_export(materialised, public_key_pem)
    return {
        "ok": result.ok,
        "entries": result.entries,
        "head": result.head,
        "first_bad_seq": result.first_bad_seq,
        "problem": result.problem,
    }
