"""Intake settings: every variable reads `INTAKE_<NAME>`."""

from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from common.settings import BaseServiceSettings


class IntakeSettings(BaseServiceSettings):
    model_config = SettingsConfigDict(env_prefix="INTAKE_", extra="ignore", frozen=True)

    service_name: str = "intake"
    # Events per second per tenant (a batch line counts as one), and the burst a bucket holds.
    rate_limit_events_per_s: float = 50_000
    rate_limit_burst: float = 200_000
