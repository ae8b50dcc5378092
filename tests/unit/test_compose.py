"""The compose stack, read as data: services, ports, start order, KRaft, the image recipe, and the
observability profile (Prometheus, its alerts, Grafana and its dashboards) against the metrics the
services register."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import orjson
import pytest
import yaml

from tests.unit.test_metrics import exposed_metric_names

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
APP_PORTS = {"intake": 8001, "reminders": 8002, "visits": 8003, "compliance": 8004}
LONG_RUNNING = ("postgres", "kafka", "sandbox", "jaeger", *APP_PORTS)
TOPICS = ("intake.v1", "reminders.v1", "visits.v1", "compliance.v1")


@pytest.fixture(scope="module")
def services() -> dict[str, dict[str, Any]]:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    parsed: dict[str, dict[str, Any]] = compose["services"]
    return parsed


def environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment", {})
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {key: str(value) for key, value in env.items()}


def published(service: dict[str, Any]) -> dict[int, tuple[str, int]]:
    """Container port -> (host address, host port), from short or long port syntax."""
    out: dict[int, tuple[str, int]] = {}
    for port in service.get("ports", []):
        if isinstance(port, dict):
            out[int(port["target"])] = (port.get("host_ip", "0.0.0.0"), int(port["published"]))
            continue
        *host, container = str(port).split(":")
        address = host[0] if len(host) == 2 else "0.0.0.0"
        out[int(container)] = (address, int(host[-1]))
    return out


def command_text(service: dict[str, Any]) -> str:
    command = service.get("command", "")
    return " ".join(command) if isinstance(command, list) else str(command)


class TestServices:
    def test_every_expected_service_exists(self, services: dict[str, dict[str, Any]]) -> None:
        expected = {"postgres", "kafka", "kafka-init", "migrate", "sandbox", "jaeger", *APP_PORTS}
        assert expected <= set(services)

    @pytest.mark.parametrize(
        ("name", "container", "host"),
        [
            ("postgres", 5432, 55432),
            ("kafka", 19092, 19092),
            ("sandbox", 8025, 8025),
            ("sandbox", 1025, 1025),
            *[(name, port, port) for name, port in APP_PORTS.items()],
        ],
    )
    def test_ports_are_published_on_loopback(
        self, services: dict[str, dict[str, Any]], name: str, container: int, host: int
    ) -> None:
        assert published(services[name])[container] == ("127.0.0.1", host)

    @pytest.mark.parametrize("name", LONG_RUNNING)
    def test_long_running_services_have_a_healthcheck(
        self, services: dict[str, dict[str, Any]], name: str
    ) -> None:
        check = services[name]["healthcheck"]
        assert check["test"]
        assert not check.get("disable", False)

    @pytest.mark.parametrize(("name", "port"), APP_PORTS.items())
    def test_app_services_probe_readyz(
        self, services: dict[str, dict[str, Any]], name: str, port: int
    ) -> None:
        probe = " ".join(services[name]["healthcheck"]["test"])
        assert f"127.0.0.1:{port}/readyz" in probe

    def test_sandbox_probes_healthz(self, services: dict[str, dict[str, Any]]) -> None:
        assert "/healthz" in " ".join(services["sandbox"]["healthcheck"]["test"])
        assert "python -m sandbox" in command_text(services["sandbox"])


class TestStartOrder:
    @pytest.mark.parametrize("name", APP_PORTS)
    def test_app_services_wait_for_topics_migrations_and_sandbox(
        self, services: dict[str, dict[str, Any]], name: str
    ) -> None:
        depends = services[name]["depends_on"]
        assert depends["kafka-init"]["condition"] == "service_completed_successfully"
        assert depends["migrate"]["condition"] == "service_completed_successfully"
        assert depends["sandbox"]["condition"] == "service_healthy"

    def test_jobs_wait_for_healthy_infrastructure(self, services: dict[str, dict[str, Any]]) -> None:
        assert services["kafka-init"]["depends_on"]["kafka"]["condition"] == "service_healthy"
        assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
        assert command_text(services["migrate"]) == "python -m common.devstack migrate --bootstrap"


class TestInfrastructure:
    def test_postgres_image_and_database(self, services: dict[str, dict[str, Any]]) -> None:
        postgres = services["postgres"]
        assert postgres["image"] == "postgres:16"
        env = environment(postgres)
        assert env["POSTGRES_DB"] == "collections"
        assert env["POSTGRES_HOST_AUTH_METHOD"] == "trust"
        assert "pg_isready" in " ".join(postgres["healthcheck"]["test"])

    def test_kafka_runs_kraft_single_node(self, services: dict[str, dict[str, Any]]) -> None:
        kafka = services["kafka"]
        assert kafka["image"] == "apache/kafka:4.1.1"
        env = environment(kafka)
        assert set(env["KAFKA_PROCESS_ROLES"].split(",")) == {"broker", "controller"}
        assert env["KAFKA_CONTROLLER_QUORUM_VOTERS"].startswith(f"{env['KAFKA_NODE_ID']}@")
        assert not any("ZOOKEEPER" in key for key in env)
        advertised = env["KAFKA_ADVERTISED_LISTENERS"]
        assert "kafka:9092" in advertised
        assert "127.0.0.1:19092" in advertised
        probe = " ".join(kafka["healthcheck"]["test"])
        assert "kafka-broker-api-versions.sh" in probe or "kafka-topics.sh" in probe

    def test_kafka_init_creates_topics_and_dead_letter_topics(
        self, services: dict[str, dict[str, Any]]
    ) -> None:
        script = command_text(services["kafka-init"])
        assert "kafka-topics.sh" in script
        assert "--partitions 12" in script
        assert ".dlq" in script
        assert all(topic in script for topic in TOPICS)


class TestAppContainers:
    @pytest.mark.parametrize(("name", "port"), APP_PORTS.items())
    def test_runs_the_service_factory(
        self, services: dict[str, dict[str, Any]], name: str, port: int
    ) -> None:
        command = command_text(services[name])
        assert command.startswith(f"python -m common.serve {name}")
        assert re.search(rf"--port {port}\b", command)
        assert "--host 0.0.0.0" in command

    @pytest.mark.parametrize("name", APP_PORTS)
    def test_environment_uses_the_service_prefix(
        self, services: dict[str, dict[str, Any]], name: str
    ) -> None:
        env = environment(services[name])
        prefix = name.upper()
        assert env[f"{prefix}_ENVIRONMENT"] == "dev"
        assert env[f"{prefix}_DATABASE_URL"] == f"postgresql+asyncpg://{name}@postgres:5432/collections"
        assert env[f"{prefix}_KAFKA_BOOTSTRAP"] == "kafka:9092"
        assert env[f"{prefix}_JWT_PUBLIC_KEY_FILE"] == "/keys/jwt_ed25519.pub.pem"
        assert env[f"{prefix}_FIELD_KEYS_FILE"] == "/keys/field_keys.json"

    @pytest.mark.parametrize("name", APP_PORTS)
    def test_a_service_gets_the_keys_it_verifies_and_decrypts_with_never_the_token_signing_key(
        self, services: dict[str, dict[str, Any]], name: str
    ) -> None:
        mounted = {volume.split(":")[0] for volume in services[name]["volumes"]}
        expected = {"./.devstack/keys/jwt_ed25519.pub.pem", "./.devstack/keys/field_keys.json"}
        if name == "compliance":  # it signs audit checkpoints, with a key of its own
            expected.add("./.devstack/keys/audit/jwt_ed25519.pem")
            assert (
                environment(services[name])["COMPLIANCE_AUDIT_SIGNING_KEY_FILE"]
                == "/keys/audit/jwt_ed25519.pem"
            )
        if name == "reminders":  # it verifies the providers' webhook signatures
            expected.add("./.devstack/keys/webhook_secrets.json")
        assert mounted == expected
        assert all(volume.endswith(":ro") for volume in services[name]["volumes"])

    @pytest.mark.parametrize("name", ["migrate", "sandbox", *APP_PORTS])
    def test_built_from_the_repo_dockerfile(self, services: dict[str, dict[str, Any]], name: str) -> None:
        assert services[name]["build"] == {"context": ".", "dockerfile": "deploy/Dockerfile"}


class TestImageRecipe:
    def test_dockerfile_installs_from_the_lock_as_non_root(self) -> None:
        dockerfile = (ROOT / "deploy" / "Dockerfile").read_text(encoding="utf-8")
        assert re.search(r"^FROM python:3\.11-slim\b", dockerfile, re.MULTILINE)
        assert "COPY pyproject.toml requirements.lock" in dockerfile
        assert "pip install -r requirements.lock" in dockerfile
        assert "pip install --no-deps -e ." in dockerfile
        users = re.findall(r"^USER\s+(\S+)", dockerfile, re.MULTILINE)
        assert users
        assert users[-1] not in {"root", "0"}

    def test_dockerignore_keeps_local_state_out(self) -> None:
        ignored = (ROOT / ".dockerignore").read_text(encoding="utf-8").split()
        assert {".venv", ".devstack", ".git"} <= set(ignored)


class TestWebhookSecrets:
    def test_reminders_and_the_sandbox_read_the_generated_secrets_and_compose_holds_none(
        self, services: dict[str, dict[str, Any]]
    ) -> None:
        path = "/keys/webhook_secrets.json"
        assert environment(services["reminders"])["REMINDERS_WEBHOOK_SECRETS_FILE"] == path
        sandbox = command_text(services["sandbox"])
        assert f"--webhook-secrets-file {path}" in sandbox
        assert "--reminders-url http://reminders:8002" in sandbox
        assert services["sandbox"]["volumes"] == [f"./.devstack/keys/webhook_secrets.json:{path}:ro"]
        named = {k: v for s in services.values() for k, v in environment(s).items() if "SECRET" in k}
        assert named and all(value.startswith("/keys/") for value in named.values())


class TestTraces:
    def test_jaeger_runs_in_the_default_stack_from_a_pinned_official_image(
        self, services: dict[str, dict[str, Any]]
    ) -> None:
        jaeger = services["jaeger"]
        assert jaeger["image"].split(":")[0] == "jaegertracing/all-in-one"
        assert ":" in jaeger["image"] and not jaeger["image"].endswith(":latest")
        assert "profiles" not in jaeger
        assert environment(jaeger)["COLLECTOR_OTLP_ENABLED"] == "true"
        assert jaeger["healthcheck"]["test"]

    @pytest.mark.parametrize(("container", "host"), [(16686, 16686), (4318, 4318)])
    def test_its_ui_and_otlp_receiver_are_published_on_loopback(
        self, services: dict[str, dict[str, Any]], container: int, host: int
    ) -> None:
        assert published(services["jaeger"])[container] == ("127.0.0.1", host)

    @pytest.mark.parametrize("name", APP_PORTS)
    def test_every_service_exports_its_spans_to_it_over_otlp_http(
        self, services: dict[str, dict[str, Any]], name: str
    ) -> None:
        env = environment(services[name])
        assert env[f"{name.upper()}_OTLP_ENDPOINT"] == "http://jaeger:4318"
        assert f"{name.upper()}_TRACES_DIR" not in env  # the files are the local launcher's

    @pytest.mark.parametrize("name", APP_PORTS)
    def test_no_service_waits_for_it(self, services: dict[str, dict[str, Any]], name: str) -> None:
        assert "jaeger" not in services[name]["depends_on"]

    def test_the_endpoint_env_is_a_setting_every_service_reads(self) -> None:
        from common.settings import BaseServiceSettings

        assert {"otlp_endpoint", "traces_dir", "trace_sample_ratio"} <= set(BaseServiceSettings.model_fields)


OBSERVABILITY = ("prometheus", "grafana")
PROMETHEUS = ROOT / "deploy" / "prometheus"
DASHBOARDS = ROOT / "deploy" / "grafana" / "dashboards"
# The alerts docs/runbook.md explains; one per condition ops asked to be woken for.
ALERTS = {
    "ServiceDown",
    "HttpServerErrors",
    "ConsumerLagGrowing",
    "OutboxBacklogOld",
    "DeadLetterQueueNotEmpty",
    "PermitDenialsSpike",
}
# Series Prometheus makes itself rather than a service.
PROMETHEUS_SERIES = {"up"}
_PROMQL_WORDS = {"and", "or", "unless", "by", "without", "on", "ignoring", "group_left", "group_right"}
_PROMQL_WORDS |= {"offset", "bool", "inf", "nan"}


def promql_metrics(expr: str) -> set[str]:
    """The metric names a PromQL expression reads: what is left once strings, label matchers, ranges,
    grouping clauses, functions and keywords are taken out."""
    text = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)
    text = re.sub(r"\{[^}]*\}", " ", text)
    text = re.sub(r"\[[^\]]*\]", " ", text)
    text = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", text)
    names = set()
    for match in re.finditer(r"[A-Za-z_:][A-Za-z0-9_:]*", text):
        after = text[match.end() :].lstrip()
        word = match.group()
        if after.startswith("(") or word.lower() in _PROMQL_WORDS or word.startswith("$"):
            continue
        if match.start() > 0 and text[match.start() - 1] in "$.0123456789":
            continue  # a Grafana variable or part of a number such as 1e3
        names.add(word)
    return names


def mounted_files(service: dict[str, Any]) -> list[str]:
    return [v.split(":")[0] for v in service.get("volumes", []) if str(v).startswith("./")]


def alert_rules() -> list[dict[str, Any]]:
    document = yaml.safe_load((PROMETHEUS / "alerts.yml").read_text(encoding="utf-8"))
    return [rule for group in document["groups"] for rule in group["rules"]]


def dashboards() -> dict[str, dict[str, Any]]:
    return {p.stem: orjson.loads(p.read_bytes()) for p in sorted(DASHBOARDS.glob("*.json"))}


def panels_of(dashboard: dict[str, Any]) -> list[dict[str, Any]]:
    found = []
    for panel in dashboard["panels"]:
        found.append(panel)
        found.extend(panel.get("panels", []))  # inside a collapsed row
    return found


@pytest.fixture(scope="module")
def registered() -> set[str]:
    return exposed_metric_names()


class TestObservability:
    @pytest.mark.parametrize("name", OBSERVABILITY)
    def test_runs_only_under_the_observability_profile_from_an_official_image(
        self, services: dict[str, dict[str, Any]], name: str
    ) -> None:
        service = services[name]
        assert service["profiles"] == ["observability"]
        assert (
            service["image"].split(":")[0]
            == {"prometheus": "prom/prometheus", "grafana": "grafana/grafana"}[name]
        )
        assert ":" in service["image"] and not service["image"].endswith(":latest")
        assert service["healthcheck"]["test"]

    def test_the_default_stack_does_not_need_them(self, services: dict[str, dict[str, Any]]) -> None:
        for name, service in services.items():
            if name not in OBSERVABILITY:
                assert "profiles" not in service, name
                assert not set(service.get("depends_on", {})) & set(OBSERVABILITY), name

    @pytest.mark.parametrize(("name", "port"), [("prometheus", 9090), ("grafana", 3000)])
    def test_published_on_loopback(self, services: dict[str, dict[str, Any]], name: str, port: int) -> None:
        assert published(services[name])[port] == ("127.0.0.1", port)

    @pytest.mark.parametrize("name", OBSERVABILITY)
    def test_mounts_files_that_exist_read_only(self, services: dict[str, dict[str, Any]], name: str) -> None:
        mounted = mounted_files(services[name])
        assert mounted
        assert [m for m in mounted if not (ROOT / m).exists()] == []
        assert all(str(v).endswith(":ro") for v in services[name]["volumes"] if str(v).startswith("./"))

    def test_every_mounted_file_of_every_service_is_in_the_repo_or_generated_keys(
        self, services: dict[str, dict[str, Any]]
    ) -> None:
        for name, service in services.items():
            for path in mounted_files(service):
                assert path.startswith("./.devstack/keys/") or (ROOT / path).exists(), (name, path)

    def test_prometheus_loads_the_mounted_rules_and_scrapes_the_four_services(
        self, services: dict[str, dict[str, Any]]
    ) -> None:
        config = yaml.safe_load((PROMETHEUS / "prometheus.yml").read_text(encoding="utf-8"))
        targets = {t for job in config["scrape_configs"] for c in job["static_configs"] for t in c["targets"]}
        assert targets == {f"{name}:{port}" for name, port in APP_PORTS.items()}
        assert all(job.get("metrics_path", "/metrics") == "/metrics" for job in config["scrape_configs"])
        inside = {v.split(":")[1] for v in services["prometheus"]["volumes"] if str(v).startswith("./")}
        assert set(config["rule_files"]) <= inside

    def test_grafana_reads_the_mounted_dashboards_from_the_provisioned_datasource(
        self, services: dict[str, dict[str, Any]]
    ) -> None:
        provisioning = ROOT / "deploy" / "grafana" / "provisioning"
        (source,) = yaml.safe_load((provisioning / "datasources" / "prometheus.yml").read_text())[
            "datasources"
        ]
        assert (source["type"], source["url"]) == ("prometheus", "http://prometheus:9090")
        (provider,) = yaml.safe_load((provisioning / "dashboards" / "collections.yml").read_text())[
            "providers"
        ]
        volumes = dict(str(v).split(":")[:2] for v in services["grafana"]["volumes"])
        assert volumes["./deploy/grafana/dashboards"] == provider["options"]["path"]
        for name, dashboard in dashboards().items():
            for panel in panels_of(dashboard):
                if panel["type"] != "row":
                    assert panel["datasource"]["uid"] == source["uid"], (name, panel["title"])


class TestAlerts:
    def test_the_alerts_ops_asked_for_each_with_a_summary(self) -> None:
        rules = alert_rules()
        assert {r["alert"] for r in rules} == ALERTS
        assert all(r["annotations"]["summary"] and r["labels"]["severity"] for r in rules)

    def test_every_metric_an_alert_reads_is_registered(self, registered: set[str]) -> None:
        for rule in alert_rules():
            metrics = promql_metrics(rule["expr"])
            assert metrics, rule["alert"]
            assert metrics - registered - PROMETHEUS_SERIES == set(), rule["alert"]

    def test_the_runbook_explains_every_alert(self) -> None:
        runbook = (ROOT / "docs" / "runbook.md").read_text(encoding="utf-8")
        assert [a for a in ALERTS if f"### {a}" not in runbook] == []


class TestDashboards:
    def test_the_three_dashboards_are_json_with_unique_uids(self) -> None:
        found = dashboards()
        assert set(found) == {"pipeline", "compliance", "deliveries"}
        assert len({d["uid"] for d in found.values()}) == 3

    @pytest.mark.parametrize("name", ["pipeline", "compliance", "deliveries"])
    def test_panel_ids_are_unique(self, name: str) -> None:
        ids = [panel["id"] for panel in panels_of(dashboards()[name])]
        assert len(ids) == len(set(ids)), ids

    @pytest.mark.parametrize("name", ["pipeline", "compliance", "deliveries"])
    def test_every_metric_a_panel_reads_is_registered(self, name: str, registered: set[str]) -> None:
        for panel in panels_of(dashboards()[name]):
            for target in panel.get("targets", []):
                metrics = promql_metrics(target["expr"])
                assert metrics, (panel["title"], target["expr"])
                assert metrics - registered - PROMETHEUS_SERIES == set(), panel["title"]

    def test_the_metric_finder_finds_metrics_and_only_metrics(self) -> None:
        expr = (
            "histogram_quantile(0.99, sum by (service, le) (rate(http_request_duration_seconds_bucket"
            '{route!~"/v1/x|/y"}[$__rate_interval]))) / on(service) group_left up{job="collections"} > 1e3'
        )
        assert promql_metrics(expr) == {"http_request_duration_seconds_bucket", "up"}
