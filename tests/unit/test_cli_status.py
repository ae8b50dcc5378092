"""`collectctl stack status` rendered from a state made up here: the tables, the JSON, the exit code."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson
import pytest
from typer.testing import CliRunner

from common import cli
from common.cli import PartitionLag, ServiceState, StackState, platform_groups, status_json, status_table

pytestmark = pytest.mark.unit

OLDEST = datetime(2026, 12, 4, 8, 0, tzinfo=UTC)
READY = {"database": "ok", "kafka": "ok"}


def fake_state(*, visits: str = "ready", kafka_error: str | None = None) -> StackState:
    services = [
        ServiceState("intake", "http://intake", "ready", READY, 0),
        ServiceState("reminders", "http://reminders", "ready", READY, 42, OLDEST, 93.25),
        ServiceState(
            "visits",
            "http://visits",
            visits,
            {} if visits == "down" else READY,
            error="ConnectError" if visits == "down" else None,
        ),
        ServiceState("compliance", "http://compliance", "ready", READY, 0),
    ]
    lags = [
        PartitionLag("compliance.intake.v1", "intake.v1", 0, 10, 10, 0),
        PartitionLag("compliance.intake.v1", "intake.v1", 1, 5, 17, 12),
        PartitionLag("compliance.intake.v1", "intake.v1", 2, None, 4, 4),
        PartitionLag("reminders.compliance.v1", "compliance.v1", 0, 3, 3, 0),
    ]
    letters = {"intake.v1.dlq": 2, "reminders.v1.dlq": 0}
    if kafka_error:
        return StackState(services, [], {}, kafka_error=kafka_error)
    return StackState(services, lags, letters)


def rows(text: str) -> list[list[str]]:
    return [line.split() for line in text.splitlines()]


class TestTable:
    def test_services_with_their_checks_outbox_backlog_and_oldest_age(self) -> None:
        table = rows(status_table(fake_state()))
        assert table[0] == ["SERVICE", "STATE", "DATABASE", "KAFKA", "OUTBOX", "OLDEST", "ERROR"]
        assert table[1] == ["intake", "ready", "ok", "ok", "0", "-"]
        assert table[2] == ["reminders", "ready", "ok", "ok", "42", "93.2s"]

    def test_a_service_that_does_not_answer_is_down_with_the_error(self) -> None:
        table = rows(status_table(fake_state(visits="down")))
        assert table[3] == ["visits", "DOWN", "-", "-", "-", "-", "ConnectError"]

    def test_lag_per_group_with_the_partitions_behind(self) -> None:
        table = rows(status_table(fake_state()))
        header = table.index(["GROUP", "TOPIC", "LAG", "PARTITION:LAG"])
        assert table[header + 1] == ["compliance.intake.v1", "intake.v1", "16", "1:12", "2:4"]
        assert table[header + 2] == ["reminders.compliance.v1", "compliance.v1", "0", "-"]

    def test_dead_letters_per_topic(self) -> None:
        table = rows(status_table(fake_state()))
        header = table.index(["DEAD", "LETTERS", "RECORDS"])
        assert table[header + 1 :] == [["intake.v1.dlq", "2"], ["reminders.v1.dlq", "0"]]

    def test_columns_line_up(self) -> None:
        lines = status_table(fake_state()).splitlines()
        assert lines[1].index("ready") == lines[0].index("STATE") == lines[2].index("ready")

    def test_an_unreachable_broker_is_said_instead_of_lag_and_dead_letters(self) -> None:
        text = status_table(fake_state(kafka_error="KafkaConnectionError: no broker"))
        assert "KAFKA UNREACHABLE: KafkaConnectionError: no broker" in text
        assert "GROUP" not in text and "DEAD LETTERS" not in text


class TestJson:
    def test_the_whole_state_for_scripts(self) -> None:
        doc = status_json(fake_state())
        orjson.dumps(doc)  # serialisable as it stands
        assert doc["ok"] is True and doc["kafka_error"] is None
        assert doc["services"]["reminders"] == {
            "url": "http://reminders",
            "state": "ready",
            "checks": READY,
            "outbox": {
                "pending": 42,
                "oldest_pending_at": "2026-12-04T08:00:00+00:00",
                "oldest_pending_age_s": 93.25,
            },
            "error": None,
        }
        (group, other) = doc["consumer_groups"]
        assert (group["group"], group["topic"], group["lag"]) == ("compliance.intake.v1", "intake.v1", 16)
        assert group["partitions"][2] == {"partition": 2, "committed": None, "end": 4, "lag": 4}
        assert other["lag"] == 0
        assert doc["dead_letters"] == {"intake.v1.dlq": 2, "reminders.v1.dlq": 0}

    @pytest.mark.parametrize(
        ("state", "ok"),
        [
            (fake_state(), True),
            (fake_state(visits="not_ready"), False),
            (fake_state(visits="down"), False),
            (fake_state(kafka_error="KafkaTimeoutError"), False),
        ],
    )
    def test_ok_only_when_every_service_is_ready_and_the_broker_answers(
        self, state: StackState, ok: bool
    ) -> None:
        assert status_json(state)["ok"] is ok


class TestGroups:
    def test_every_reader_of_the_catalogue_and_the_priority_lanes_the_broker_knows(self) -> None:
        found = platform_groups({"reminders.intake.v1.priority", "someone-elses-group", "bench.intake.v1"})
        assert ("compliance.intake.v1", "intake.v1") in found
        assert ("visits.compliance.v1", "compliance.v1") in found
        assert ("reminders.intake.v1.priority", "intake.v1") in found
        assert ("compliance.intake.v1.priority", "intake.v1") not in found
        assert all(group.split(".")[0] in cli.SERVICES for group, _ in found)
        assert ("intake.intake.v1", "intake.v1") not in found  # intake does not read its own topic


class TestCommand:
    @pytest.fixture
    def gathered(self, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
        asked: dict[str, Any] = {"state": fake_state()}

        async def fake_gather(urls: dict[str, str], bootstrap: str, token_for: Any) -> StackState:
            asked.update(urls=urls, bootstrap=bootstrap)
            state: StackState = asked["state"]
            return state

        monkeypatch.setattr(cli, "gather_stack_state", fake_gather)
        monkeypatch.setenv("COLLECTCTL_KAFKA_BOOTSTRAP", "broker:9092")
        return asked

    def test_prints_the_table_and_exits_0_when_all_is_well(self, gathered: dict[str, Any]) -> None:
        result = CliRunner().invoke(cli.app, ["stack", "status", "--url", "visits=http://elsewhere:8003/"])
        assert result.exit_code == 0, result.output
        assert result.output.startswith("SERVICE")
        assert gathered["urls"]["visits"] == "http://elsewhere:8003"
        assert gathered["urls"]["intake"] == "http://127.0.0.1:8001"
        assert gathered["bootstrap"] == "broker:9092"

    def test_json_and_exit_1_when_a_service_is_down(self, gathered: dict[str, Any]) -> None:
        gathered["state"] = fake_state(visits="down")
        result = CliRunner().invoke(cli.app, ["stack", "status", "--json"])
        assert result.exit_code == 1
        assert orjson.loads(result.stdout)["services"]["visits"]["state"] == "down"

    def test_a_url_for_no_service_is_refused(self, gathered: dict[str, Any]) -> None:
        result = CliRunner().invoke(cli.app, ["stack", "status", "--url", "billing=http://x"])
        assert result.exit_code == 2
