"""Compliance settings: every variable reads `COMPLIANCE_<NAME>`."""

from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from common.settings import BaseServiceSettings


class ComplianceSettings(BaseServiceSettings):
    model_config = SettingsConfigDict(env_prefix="COMPLIANCE_", extra="ignore", frozen=True)

    service_name: str = "compliance"
