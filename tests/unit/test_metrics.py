"""Every metric the services register, read from the Prometheus registry after importing each
service's app module (nothing started): named by the conventions, and the ones operations needs there."""

from __future__ import annotations

import importlib
import re

import pytest
from prometheus_client import REGISTRY

pytestmark = pytest.mark.unit

# compliance.metrics is imported by compliance's decision code; named here too so the test does not
# depend on which module does it.
MODULES = ("intake.app", "reminders.app", "visits.app", "compliance.app", "compliance.metrics")

# name -> (type, labels it must carry)
REQUIRED: dict[str, tuple[str, set[str]]] = {
    "http_request_duration_seconds": ("histogram", {"method", "route", "status"}),
    "events_consumed_total": ("counter", {"consumer", "type", "outcome"}),
    "events_dead_lettered_total": ("counter", {"consumer", "topic", "reason"}),
    "outbox_published_total": ("counter", {"topic", "type"}),
    "outbox_relay_errors_total": ("counter", set()),
    "outbox_pending_events": ("gauge", {"outbox"}),
    "outbox_oldest_pending_age_seconds": ("gauge", {"outbox"}),
    "consumer_lag_records": ("gauge", {"group", "topic", "partition"}),
    "permit_decisions_total": ("counter", {"outcome"}),
    "permit_decision_rules_total": ("counter", {"outcome", "rule"}),
    "deliveries_total": ("counter", {"channel", "outcome"}),
    "delivery_receipts_total": ("counter", {"provider", "status"}),
}

# Series each type of metric exposes (prometheus_client strips `_total` from a counter's family name).
SUFFIXES = {
    "counter": ("_total", "_created"),
    "gauge": ("",),
    "histogram": ("_bucket", "_count", "_sum", "_created"),
    "summary": ("", "_count", "_sum", "_created"),
    "info": ("_info",),
}
TIME_WORDS = re.compile(r"(duration|latency|age|elapsed|time|lag_s|wait)")
NOT_BASE_UNITS = re.compile(
    r"_(ms|milliseconds|millis|us|microseconds|minutes|hours|days|kb|mb|gb|percent)(_|$)"
)


def load_services() -> None:
    for module in MODULES:
        importlib.import_module(module)


def metric_types() -> dict[str, str]:
    """Every metric in the registry by the name it is exposed under (a counter with `_total`)."""
    load_services()
    names: dict[str, str] = {}
    for family in REGISTRY.collect():
        name = f"{family.name}_total" if family.type == "counter" else family.name
        names[name] = family.type
    return names


def exposed_metric_names() -> set[str]:
    """Every series name a scrape of the services can carry, buckets and counts included: what a
    dashboard or an alert may refer to."""
    names: set[str] = set()
    for name, kind in metric_types().items():
        base = name.removesuffix("_total") if kind == "counter" else name
        names.update(base + suffix for suffix in SUFFIXES.get(kind, ("",)))
    return names


def labels_of(name: str) -> set[str]:
    # prometheus_client has no public way to a metric's label names before it has a sample.
    for collector, names in REGISTRY._collector_to_names.items():
        if name in names or f"{name}_total" in names:
            return set(getattr(collector, "_labelnames", ()))
    raise KeyError(name)


@pytest.fixture(scope="module")
def types() -> dict[str, str]:
    return metric_types()


class TestNaming:
    def test_names_are_snake_case(self, types: dict[str, str]) -> None:
        assert [n for n in types if not re.fullmatch(r"[a-z][a-z0-9_]*", n)] == []

    def test_counters_end_in_total_and_nothing_else_does(self, types: dict[str, str]) -> None:
        assert [n for n, t in types.items() if t == "counter" and not n.endswith("_total")] == []
        assert [n for n, t in types.items() if t != "counter" and n.endswith("_total")] == []

    def test_units_are_base_units(self, types: dict[str, str]) -> None:
        assert [n for n in types if NOT_BASE_UNITS.search(n)] == []

    def test_times_are_in_seconds(self, types: dict[str, str]) -> None:
        timed = [n for n in types if TIME_WORDS.search(n.removesuffix("_total"))]
        assert timed, "no time metric found at all"
        assert [n for n in timed if not n.removesuffix("_total").endswith("_seconds")] == []

    def test_histograms_carry_their_unit(self, types: dict[str, str]) -> None:
        histograms = [n for n, t in types.items() if t == "histogram"]
        assert [n for n in histograms if not n.endswith(("_seconds", "_bytes"))] == []


class TestRequired:
    @pytest.mark.parametrize(("name", "kind", "labels"), [(n, *v) for n, v in REQUIRED.items()])
    def test_registered_with_its_type_and_labels(
        self, types: dict[str, str], name: str, kind: str, labels: set[str]
    ) -> None:
        assert types.get(name) == kind
        assert labels_of(name) == labels

    def test_the_exposed_names_include_series_suffixes(self) -> None:
        exposed = exposed_metric_names()
        assert {"http_request_duration_seconds_bucket", "events_consumed_total"} <= exposed
        assert "events_consumed" not in exposed


class TestCompliance:
    def test_count_decision_counts_the_decision_and_each_rule(self) -> None:
        from compliance.metrics import count_decision

        def value(name: str, **labels: str) -> float:
            return REGISTRY.get_sample_value(name, labels) or 0.0

        before = value("permit_decisions_total", outcome="deny")
        quiet = value("permit_decision_rules_total", outcome="deny", rule="US.quiet_hours")
        count_decision("deny", ["US.quiet_hours", "US.calls_7_in_7"])
        count_decision("allow", [])
        assert value("permit_decisions_total", outcome="deny") == before + 1
        assert value("permit_decision_rules_total", outcome="deny", rule="US.quiet_hours") == quiet + 1
        assert value("permit_decision_rules_total", outcome="deny", rule="US.calls_7_in_7") >= 1
