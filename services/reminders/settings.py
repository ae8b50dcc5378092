"""Reminders settings: every variable reads `REMINDERS_<NAME>`."""

from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from common.settings import BaseServiceSettings


class RemindersSettings(BaseServiceSettings):
    model_config = SettingsConfigDict(env_prefix="REMINDERS_", extra="ignore", frozen=True)

    service_name: str = "reminders"
