"""Reminders settings: every variable reads `REMINDERS_<NAME>`."""

from __future__ import annotations

from pathlib import Path

from pydantic_settings import SettingsConfigDict

from common.settings import BaseServiceSettings
from common.webhooks import DEFAULT_TOLERANCE_S


class RemindersSettings(BaseServiceSettings):
    model_config = SettingsConfigDict(env_prefix="REMINDERS_", extra="ignore", frozen=True)

    service_name: str = "reminders"
    # Loops wake when work is committed (LISTEN/NOTIFY); this is how often they look regardless.
    dispatch_interval_s: float = 1.0
    planner_interval_s: float = 60.0
    senders: int = 6
    # Providers: SMS, voice and push go to the primary HTTP gateway, failing over to the secondary.
    sandbox_url: str = "http://127.0.0.1:8025"
    secondary_gateway_url: str | None = None
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 1025
    mail_from: str = "reminders@collections.invalid"
    # Compliance lints strategy templates on save.
    compliance_url: str = "http://127.0.0.1:8004"
    # Provider webhooks sign instead of sending a token: one secret per provider, in a JSON file of
    # provider name to secret (common.webhooks), a signature made further than the tolerance from now
    # refused. Ops tokens calling them are metered per tenant (they could probe numbers with them).
    webhook_secrets_file: Path | None = None
    webhook_tolerance_s: float = DEFAULT_TOLERANCE_S
    webhook_rate_per_s: float = 1.0
    webhook_burst: float = 20.0
    # Every inbound SMS is answered no sooner than this, so the work a known sender's reply causes
    # cannot be timed apart from an unknown sender's.
    inbound_answer_floor_s: float = 0.2
    agency_name: str = "Example Collections"
    agency_phone: str = "+1 800 555 0100"
    agency_address: str = "PO Box 1000, Example City, NY 10001"
    agency_hours: str = "Monday to Friday 9:00-17:00 Eastern"
    pay_url: str = "https://pay.example/collections"
    disputes_url: str = "https://pay.example/disputes"
    unsubscribe_url: str = "https://pay.example/unsubscribe"
    # One collection message per person in this many seconds: a late placement's later rungs wait.
    contact_spacing_s: float = 86_400.0
    # A job waiting this long for its permit asks again (compliance may have been down or lagging);
    # the answer to any of its requests ends the wait, so a lag longer than this slows, never stalls.
    permit_wait_s: float = 300.0

    def key_files(self) -> tuple[str, ...]:
        # without them every provider callback is refused; production refuses the dev stack's
        return (*super().key_files(), "webhook_secrets_file")
