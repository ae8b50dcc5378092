"""Visits settings: every variable reads `VISITS_<NAME>`."""

from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from common.settings import BaseServiceSettings


class VisitsSettings(BaseServiceSettings):
    model_config = SettingsConfigDict(env_prefix="VISITS_", extra="ignore", frozen=True)

    service_name: str = "visits"
