"""Intake settings: every variable reads `INTAKE_<NAME>`."""

from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from common.settings import BaseServiceSettings


class IntakeSettings(BaseServiceSettings):
    model_config = SettingsConfigDict(env_prefix="INTAKE_", extra="ignore", frozen=True)

    service_name: str = "intake"
    # Events per second per tenant (a batch line counts as one), and the burst a bucket holds: twenty
    # full NDJSON batches at once, then 2,000 events a second (several times this machine's ceiling,
    # so it bites a runaway lender, not a busy one).
    rate_limit_events_per_s: float = 2_000
    rate_limit_burst: float = 20_000
    # an NDJSON batch of 1,000 placements is a few MiB; the events route reads it as a stream
    max_body_bytes: int = 16 * 1024 * 1024
