"""The audit chain's rules live in `common.audit_chain`, so operators can verify exports offline with
collectctl; compliance uses them from here."""

from common.audit_chain import (
    GENESIS,
    LEGACY_CHAIN,
    AuditEntry,
    Checkpoint,
    VerifyResult,
    canonical_json,
    chain_entry,
    checkpoint_line,
    entry_hash,
    entry_line,
    sign_checkpoint,
    verify_chain,
    verify_checkpoint,
    verify_export,
)

__all__ = [
    "GENESIS",
    "LEGACY_CHAIN",
    "AuditEntry",
    "Checkpoint",
    "VerifyResult",
    "canonical_json",
    "chain_entry",
    "checkpoint_line",
    "entry_hash",
    "entry_line",
    "sign_checkpoint",
    "verify_chain",
    "verify_checkpoint",
    "verify_export",
]
