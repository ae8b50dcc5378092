from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from common.settings import DEV_KEY_MARK
from compliance.settings import ComplianceSettings
from intake.settings import IntakeSettings

pytestmark = pytest.mark.unit


def test_each_service_reads_its_own_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INTAKE_ENVIRONMENT", "dev")
    monkeypatch.setenv("INTAKE_KAFKA_BOOTSTRAP", "broker:9092")
    monkeypatch.setenv("REMINDERS_KAFKA_BOOTSTRAP", "elsewhere:9092")
    settings = IntakeSettings()
    assert settings.kafka_bootstrap == "broker:9092"
    assert settings.service_name == "intake"


def test_dev_runs_without_key_files() -> None:
    assert IntakeSettings(environment="dev").jwt_public_key_file is None


@pytest.mark.parametrize("environment", ["test", "production"])
def test_outside_dev_key_files_are_required(environment: str) -> None:
    with pytest.raises(ValidationError, match="jwt_public_key_file must be set"):
        IntakeSettings(environment=environment)


def test_production_refuses_the_dev_stacks_generated_keys(tmp_path: Path) -> None:
    keys = tmp_path / ".devstack" / "keys"
    with pytest.raises(ValidationError, match="dev stack"):
        IntakeSettings(
            environment="production",
            jwt_public_key_file=keys / "jwt_ed25519.pub.pem",
            field_keys_file=keys / "field_keys.json",
        )


def test_production_refuses_crash_points(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="fault injection"):
        IntakeSettings(
            environment="production",
            database_url="postgresql+asyncpg://intake:s3cret@db.internal:5432/collections",
            jwt_public_key_file=tmp_path / "pub.pem",
            field_keys_file=tmp_path / "keys.json",
            faults="outbox.after_publish",
        )


def test_fault_points_are_parsed() -> None:
    assert IntakeSettings(environment="dev", faults=" a.b , c.d,").fault_points == {"a.b", "c.d"}


def test_a_deployment_that_does_not_say_where_it_runs_does_not_start(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("INTAKE_ENVIRONMENT", raising=False)
    with pytest.raises(ValidationError, match="environment"):
        IntakeSettings()


def production_keys(tmp_path: Path, *, marked: bool = False) -> dict[str, Path]:
    """Key files outside any dev folder (their content is not read beyond the first bytes)."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    files = {"jwt_public_key_file": tmp_path / "pub.pem", "field_keys_file": tmp_path / "keys.json"}
    for path in files.values():
        path.write_text((DEV_KEY_MARK + "\n" if marked else "") + "-----BEGIN PUBLIC KEY-----\n")
    return files


PASSWORD_URL = "postgresql+asyncpg://intake:s3cret@db.internal:5432/collections"


def test_production_starts_with_its_own_keys_and_credentials(tmp_path: Path) -> None:
    settings = IntakeSettings(
        environment="production", database_url=PASSWORD_URL, **production_keys(tmp_path)
    )
    assert settings.environment == "production"


def test_production_refuses_a_copy_of_a_dev_key_wherever_it_lies(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="dev stack's generated keys"):
        IntakeSettings(
            environment="production",
            database_url=PASSWORD_URL,
            **production_keys(tmp_path / "x", marked=True),
        )


def test_production_refuses_a_symlink_into_the_dev_stack(tmp_path: Path) -> None:
    dev = tmp_path / ".devstack" / "keys"
    dev.mkdir(parents=True)
    (dev / "pub.pem").write_text("-----BEGIN PUBLIC KEY-----\n")
    keys = production_keys(tmp_path / "etc")
    keys["jwt_public_key_file"].unlink()
    keys["jwt_public_key_file"].symlink_to(dev / "pub.pem")
    with pytest.raises(ValidationError, match="dev stack's generated keys"):
        IntakeSettings(environment="production", database_url=PASSWORD_URL, **keys)


@pytest.mark.parametrize("field", ["database_url", "migration_database_url"])
def test_production_refuses_a_database_url_without_a_password(tmp_path: Path, field: str) -> None:
    urls = {"database_url": PASSWORD_URL, field: "postgresql+asyncpg://postgres@db.internal:5432/collections"}
    with pytest.raises(ValidationError, match=f"{field} has no password"):
        IntakeSettings(environment="production", **urls, **production_keys(tmp_path))


def test_outside_dev_compliance_needs_its_audit_signing_key(tmp_path: Path) -> None:
    keys = production_keys(tmp_path)
    with pytest.raises(ValidationError, match="audit_signing_key_file must be set"):
        ComplianceSettings(environment="test", **keys)
    audit = tmp_path / "audit.pem"
    audit.write_text(DEV_KEY_MARK + "\n")
    with pytest.raises(ValidationError, match="audit_signing_key_file is one of the dev stack's"):
        ComplianceSettings(
            environment="production", database_url=PASSWORD_URL, audit_signing_key_file=audit, **keys
        )
