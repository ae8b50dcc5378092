"""Service settings: one pydantic-settings class per service, each with its own env prefix.

Nothing here runs at import time; services build their settings in their app factory.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

Environment = Literal["dev", "test", "production"]

DEV_KEY_DIR_MARKER = ".devstack"


class BaseServiceSettings(BaseSettings):
    """What every service needs: database, broker, keys, logging and the messaging knobs."""

    model_config = SettingsConfigDict(extra="ignore", frozen=True)

    environment: Environment = "dev"
    service_name: str = "service"
    database_url: str = "postgresql+asyncpg://postgres@127.0.0.1:55432/collections"
    migration_database_url: str | None = Field(
        default=None, description="the schema owner's URL for migrations; defaults to database_url"
    )
    db_pool_size: int = 10
    kafka_bootstrap: str = "127.0.0.1:19092"
    topic_partitions: int = 12

    jwt_public_key_file: Path | None = None
    field_keys_file: Path | None = None
    log_level: str = "INFO"
    log_json: bool = True

    relay_batch_size: int = 500
    # An idle relay wakes when rows are committed (LISTEN/NOTIFY), else looks this often.
    relay_idle_interval_s: float = 1.0
    consumer_max_records: int = 500
    consumer_max_attempts: int = 3
    consumer_retry_backoff_s: float = 0.2
    start_workers: bool = Field(default=True, description="run consumers and relay in the lifespan")

    # Crash points for the fault suite; refused in production.
    faults: str = ""
    # An admin may move this service's clock (PUT /v1/ops/clock) so tests can let days pass; refused
    # in production.
    clock_control: bool = False

    @property
    def fault_points(self) -> frozenset[str]:
        return frozenset(p.strip() for p in self.faults.split(",") if p.strip())

    @model_validator(mode="after")
    def _refuse_default_secrets(self) -> BaseServiceSettings:
        if self.environment == "dev":
            return self
        for name in ("jwt_public_key_file", "field_keys_file"):
            path = getattr(self, name)
            if path is None:
                raise ValueError(f"{name} must be set outside dev")
            if DEV_KEY_DIR_MARKER in Path(path).parts and self.environment == "production":
                raise ValueError(f"{name} points at the dev stack's generated keys")
        if self.environment == "production" and self.fault_points:
            raise ValueError("fault injection is refused in production")
        if self.environment == "production" and self.clock_control:
            raise ValueError("clock control is refused in production")
        return self
