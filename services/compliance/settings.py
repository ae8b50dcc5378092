"""Compliance settings: every variable reads `COMPLIANCE_<NAME>`."""

from __future__ import annotations

from pathlib import Path

from pydantic_settings import SettingsConfigDict

from common.settings import BaseServiceSettings


class ComplianceSettings(BaseServiceSettings):
    model_config = SettingsConfigDict(env_prefix="COMPLIANCE_", extra="ignore", frozen=True)

    service_name: str = "compliance"
    permit_ttl_s: int = 900
    # Tenants that enabled field visits where a pack makes them opt-in (US), comma-separated.
    visit_tenants: str = ""
    # Ed25519 key that signs audit checkpoints (the dev stack generates one).
    audit_signing_key_file: Path | None = None
    audit_checkpoint_interval_s: float = 60.0
    policies_dir: Path | None = None

    def key_files(self) -> tuple[str, ...]:
        return (*super().key_files(), "audit_signing_key_file")
