from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from intake.settings import IntakeSettings

pytestmark = pytest.mark.unit


def test_each_service_reads_its_own_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
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
            jwt_public_key_file=tmp_path / "pub.pem",
            field_keys_file=tmp_path / "keys.json",
            faults="outbox.after_publish",
        )


def test_fault_points_are_parsed() -> None:
    assert IntakeSettings(faults=" a.b , c.d,").fault_points == {"a.b", "c.d"}
