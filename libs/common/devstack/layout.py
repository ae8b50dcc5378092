"""Where the dev stack keeps things, and the ports it uses (SPEC section 8)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from common.contracts.catalog import TOPICS as CATALOG

SERVICES: dict[str, int] = {"intake": 8001, "reminders": 8002, "visits": 8003, "compliance": 8004}
TOPICS = tuple(CATALOG)  # intake.v1, reminders.v1, visits.v1, compliance.v1
KAFKA_VERSION = "4.1.1"
# The sandbox plays these providers; each signs its webhooks with its own secret.
WEBHOOK_PROVIDERS = ("primary", "secondary")


def _repo_root() -> Path:
    env = os.environ.get("COLLECTIONS_ROOT")
    return Path(env).resolve() if env else Path(__file__).resolve().parents[3]


def _cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "collections"


@dataclass(frozen=True)
class Layout:
    root: Path = field(default_factory=_repo_root)
    cache: Path = field(default_factory=_cache_root)
    pg_host: str = field(default_factory=lambda: os.environ.get("COLLECTIONS_PG_HOST", "127.0.0.1"))
    pg_port: int = field(default_factory=lambda: int(os.environ.get("COLLECTIONS_PG_PORT", "55432")))
    kafka_host: str = "127.0.0.1"
    kafka_port: int = 19092
    controller_port: int = 19093
    sandbox_http_port: int = 8025
    sandbox_smtp_port: int = 1025
    database: str = "collections"
    partitions: int = 12

    @property
    def devstack(self) -> Path:
        return self.root / ".devstack"

    @property
    def keys(self) -> Path:
        return self.devstack / "keys"

    @property
    def logs(self) -> Path:
        return self.devstack / "logs"

    @property
    def traces(self) -> Path:
        """Spans as JSON lines, one file per service (common.tracefiles)."""
        return self.devstack / "traces"

    @property
    def run(self) -> Path:
        return self.devstack / "run"

    @property
    def pg_dir(self) -> Path:
        return self.devstack / "postgres"

    @property
    def kafka_dir(self) -> Path:
        return self.devstack / "kafka"

    @property
    def kafka_libs(self) -> Path:
        return self.cache / f"kafka-{KAFKA_VERSION}" / "libs"

    @property
    def jwt_private_key(self) -> Path:
        return self.keys / "jwt_ed25519.pem"

    @property
    def jwt_public_key(self) -> Path:
        return self.keys / "jwt_ed25519.pub.pem"

    @property
    def audit_key_dir(self) -> Path:
        return self.keys / "audit"

    @property
    def audit_private_key(self) -> Path:
        return self.audit_key_dir / "jwt_ed25519.pem"

    @property
    def audit_public_key(self) -> Path:
        return self.audit_key_dir / "jwt_ed25519.pub.pem"

    @property
    def field_keys(self) -> Path:
        return self.keys / "field_keys.json"

    @property
    def webhook_secrets(self) -> Path:
        return self.keys / "webhook_secrets.json"

    @property
    def kafka_bootstrap(self) -> str:
        return f"{self.kafka_host}:{self.kafka_port}"

    def superuser_dsn(self) -> str:
        return f"postgresql://postgres@{self.pg_host}:{self.pg_port}/{self.database}"

    def role_url(self, role: str) -> str:
        return f"postgresql+asyncpg://{role}@{self.pg_host}:{self.pg_port}/{self.database}"

    def service_url(self, service: str) -> str:
        return f"http://127.0.0.1:{SERVICES[service]}"

    def service_env(self, service: str) -> dict[str, str]:
        """The environment a service process runs with in the dev stack."""
        p = service.upper()
        return {
            f"{p}_ENVIRONMENT": "dev",
            f"{p}_DATABASE_URL": self.role_url(service),
            f"{p}_MIGRATION_DATABASE_URL": self.role_url(f"{service}_owner"),
            f"{p}_KAFKA_BOOTSTRAP": self.kafka_bootstrap,
            f"{p}_TOPIC_PARTITIONS": str(self.partitions),
            f"{p}_JWT_PUBLIC_KEY_FILE": str(self.jwt_public_key),
            f"{p}_FIELD_KEYS_FILE": str(self.field_keys),
            f"{p}_SANDBOX_URL": f"http://127.0.0.1:{self.sandbox_http_port}",
            f"{p}_SMTP_PORT": str(self.sandbox_smtp_port),
            f"{p}_AUDIT_SIGNING_KEY_FILE": str(self.audit_private_key),
            f"{p}_WEBHOOK_SECRETS_FILE": str(self.webhook_secrets),
            # The dev and test stack lets an admin move service clocks, so tests can let days pass.
            f"{p}_CLOCK_CONTROL": "true",
            f"{p}_TRACES_DIR": str(self.traces),
        }
