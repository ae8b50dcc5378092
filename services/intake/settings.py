"""Intake settings: every variable reads `INTAKE_<NAME>`."""

from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from common.settings import BaseServiceSettings


class IntakeSettings(BaseServiceSettings):
    model_config = SettingsConfigDict(env_prefix="INTAKE_", extra="ignore", frozen=True)

    service_name: str = "intake"
