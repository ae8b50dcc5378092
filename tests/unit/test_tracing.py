"""Tracing set-up: which exporter a service's settings choose, the JSON lines the file exporter writes,
parent-based sampling, and what the spans' helpers do with tracing off (bind the logs as before)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import pytest
import structlog
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from common import tracefiles
from common.devstack.layout import Layout
from common.logging import current_traceparent as bound_traceparent
from common.logging import new_traceparent
from common.settings import BaseServiceSettings
from common.traceexport import JsonLinesSpanExporter, span_record
from common.tracing import (
    OFF,
    Tracing,
    current_traceparent,
    exporters_for,
    failed,
    make_provider,
    remote_context,
    span_traceparent,
    traceparent_for,
    traceparent_of,
)

pytestmark = pytest.mark.unit


@pytest.fixture(autouse=True)
def _unbound() -> Iterator[None]:
    """The server span and consumer groups bind the logs' trace unscoped, as a request does."""
    yield
    structlog.contextvars.clear_contextvars()


def settings(**values: Any) -> BaseServiceSettings:
    return BaseServiceSettings(environment="dev", **values)


def in_memory(service: str = "svc", *, ratio: float = 1.0) -> tuple[Tracing, InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = make_provider(service, sample_ratio=ratio)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return Tracing(service, provider), exporter


def ids(traceparent: str) -> tuple[str, str]:
    _, trace_id, span_id, _ = traceparent.split("-")
    return trace_id, span_id


class TestExporterChoice:
    def test_neither_a_directory_nor_an_endpoint_is_off(self) -> None:
        tracing = Tracing.from_settings("intake", settings())
        assert not tracing.enabled and tracing.provider is None
        assert exporters_for("intake", traces_dir=None, otlp_endpoint=None) == []

    def test_a_directory_writes_the_services_json_lines_file(self, tmp_path: Path) -> None:
        (exporter,) = exporters_for("intake", traces_dir=tmp_path, otlp_endpoint=None)
        assert isinstance(exporter, JsonLinesSpanExporter)
        assert exporter.path == tmp_path / "intake.jsonl"
        tracing = Tracing.from_settings("intake", settings(traces_dir=tmp_path))
        try:
            assert tracing.enabled
        finally:
            tracing.shutdown()

    @pytest.mark.parametrize(
        "endpoint", ["http://jaeger:4318", "http://jaeger:4318/", "http://jaeger:4318/v1/traces"]
    )
    def test_an_endpoint_exports_otlp_over_http_to_its_traces_path(self, endpoint: str) -> None:
        (exporter,) = exporters_for("intake", traces_dir=None, otlp_endpoint=endpoint)
        assert isinstance(exporter, OTLPSpanExporter)
        assert exporter._endpoint == "http://jaeger:4318/v1/traces"

    def test_both_export_to_both(self, tmp_path: Path) -> None:
        chosen = exporters_for("visits", traces_dir=tmp_path, otlp_endpoint="http://jaeger:4318")
        assert [type(e) for e in chosen] == [JsonLinesSpanExporter, OTLPSpanExporter]

    def test_the_settings_read_the_services_prefix(
        self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
    ) -> None:
        from intake.settings import IntakeSettings

        monkeypatch.setenv("INTAKE_ENVIRONMENT", "dev")
        monkeypatch.setenv("INTAKE_TRACES_DIR", str(tmp_path))
        monkeypatch.setenv("INTAKE_OTLP_ENDPOINT", "http://jaeger:4318")
        monkeypatch.setenv("INTAKE_TRACE_SAMPLE_RATIO", "0.25")
        read = IntakeSettings()
        assert (read.traces_dir, read.otlp_endpoint, read.trace_sample_ratio) == (
            tmp_path,
            "http://jaeger:4318",
            0.25,
        )

    @pytest.mark.parametrize("ratio", [-0.1, 1.5])
    def test_a_ratio_outside_zero_to_one_is_refused(self, ratio: float) -> None:
        with pytest.raises(ValueError, match="trace_sample_ratio"):
            settings(trace_sample_ratio=ratio)

    def test_the_dev_stack_puts_each_services_traces_beside_its_logs(self) -> None:
        layout = Layout(root=Path("/srv/collections"))
        assert layout.traces == Path("/srv/collections/.devstack/traces")
        for service in ("intake", "reminders", "visits", "compliance"):
            assert layout.service_env(service)[f"{service.upper()}_TRACES_DIR"] == str(layout.traces)


class TestFileFormat:
    def test_one_span_per_line_with_otlp_names_and_the_service(self, tmp_path: Path) -> None:
        provider = make_provider(
            "compliance", version="0.2.0", exporters=[JsonLinesSpanExporter(tmp_path, "compliance")]
        )
        tracing = Tracing("compliance", provider)
        caller = new_traceparent()
        with tracing.server("POST", caller) as server:
            server.set_attribute("http.route", "/v1/things")
            with tracing.span("child", kind=SpanKind.CLIENT, attributes={"n": 3, "names": ("a", "b")}):
                pass
        tracing.shutdown()

        lines = (tmp_path / "compliance.jsonl").read_bytes().splitlines()
        child, parent = (orjson.loads(line) for line in lines)
        trace_id, caller_span = ids(caller)
        assert parent["traceId"] == child["traceId"] == trace_id
        assert (parent["parentSpanId"], parent["parentIsRemote"]) == (caller_span, True)
        assert (child["parentSpanId"], child["parentIsRemote"]) == (parent["spanId"], False)
        assert (parent["kind"], child["kind"]) == ("server", "client")
        assert parent["service"] == child["service"] == "compliance"
        assert child["attributes"] == {"n": 3, "names": ["a", "b"]}
        assert parent["attributes"]["http.route"] == "/v1/things"
        assert parent["status"] == {"code": "unset"}
        assert parent["endTimeUnixNano"] >= child["endTimeUnixNano"] >= child["startTimeUnixNano"] > 0
        assert len(parent["spanId"]) == 16 and len(parent["traceId"]) == 32
        assert set(parent) >= {"name", "startTimeUnixNano", "durationMs", "events", "links", "scope"}

    def test_a_full_file_is_rotated_once_and_read_back_with_the_rotated_one(self, tmp_path: Path) -> None:
        exporter = JsonLinesSpanExporter(tmp_path, "svc", max_bytes=1)
        provider = make_provider("svc", exporters=[])
        provider.add_span_processor(SimpleSpanProcessor(exporter))
        tracing = Tracing("svc", provider)
        trace_ids = []
        for _ in range(3):
            with tracing.continuing(None, "work") as span:
                trace_ids.append(format(span.get_span_context().trace_id, "032x"))
        assert sorted(p.name for p in tracefiles.trace_files(tmp_path)) == ["svc.jsonl", "svc.jsonl.1"]
        assert [s["name"] for s in tracefiles.read_trace(tmp_path, trace_ids[-1])] == ["work"]
        assert tracefiles.read_trace(tmp_path, trace_ids[0]) == []  # dropped with the oldest file

    def test_reading_passes_over_a_line_cut_short(self, tmp_path: Path) -> None:
        good = {"traceId": "ab" * 16, "spanId": "1" * 16, "startTimeUnixNano": 1, "endTimeUnixNano": 2}
        (tmp_path / "x.jsonl").write_bytes(orjson.dumps(good) + b"\n" + b'{"traceId": "' + b"ab" * 16)
        assert tracefiles.read_trace(tmp_path, "ab" * 16) == [good]

    def test_the_tree_puts_children_under_their_parents_and_strangers_at_the_root(self) -> None:
        def span(span_id: str, parent: str | None, start: int) -> dict[str, Any]:
            return {"spanId": span_id, "parentSpanId": parent, "startTimeUnixNano": start}

        spans = [span("b", "a", 2), span("a", "remote", 1), span("c", "a", 3), span("d", "b", 4)]
        assert [(depth, s["spanId"]) for depth, s in tracefiles.tree(spans)] == [
            (0, "a"),
            (1, "b"),
            (2, "d"),
            (1, "c"),
        ]


class TestSampling:
    def test_by_default_every_trace_is_kept(self) -> None:
        tracing, exported = in_memory()
        with tracing.continuing(None, "root"):
            pass
        assert [s.name for s in exported.get_finished_spans()] == ["root"]

    def test_a_ratio_of_zero_keeps_no_new_trace_but_the_context_still_travels_unsampled(self) -> None:
        tracing, exported = in_memory(ratio=0.0)
        with tracing.continuing(None, "root") as span:
            traceparent = current_traceparent()
            assert not span.is_recording()
        assert exported.get_finished_spans() == ()
        assert traceparent is not None and traceparent.endswith("-00")

    def test_a_sampled_caller_is_followed_whatever_the_ratio(self) -> None:
        tracing, exported = in_memory(ratio=0.0)
        caller = new_traceparent()  # flags 01
        with tracing.server("GET", caller):
            pass
        (span,) = exported.get_finished_spans()
        assert format(span.context.trace_id, "032x") == ids(caller)[0]

    def test_an_unsampled_caller_is_followed_too(self) -> None:
        tracing, exported = in_memory(ratio=1.0)
        caller = new_traceparent()[:-2] + "00"
        with tracing.server("GET", caller):
            assert current_traceparent() is not None
            assert current_traceparent().split("-")[1] == ids(caller)[0]  # type: ignore[union-attr]
        assert exported.get_finished_spans() == ()

    def test_a_ratio_keeps_about_that_share_of_new_traces(self) -> None:
        tracing, exported = in_memory(ratio=0.25)
        for _ in range(2000):
            with tracing.continuing(None, "root"):
                pass
        assert 350 < len(exported.get_finished_spans()) < 650


class TestSpans:
    def test_the_server_span_is_current_and_its_ids_are_on_the_log_lines(self) -> None:
        tracing, _ = in_memory()
        structlog.contextvars.clear_contextvars()
        with tracing.server("POST", None) as span:
            traceparent = span_traceparent(span)
            assert traceparent is not None
            assert current_traceparent() == traceparent == bound_traceparent()
            bound = structlog.contextvars.get_contextvars()
            assert (bound["trace_id"], bound["span_id"]) == ids(traceparent)

    def test_continuing_a_kept_traceparent_is_a_child_in_its_trace_and_unbinds_after(self) -> None:
        tracing, exported = in_memory()
        structlog.contextvars.clear_contextvars()
        kept = new_traceparent()
        with tracing.continuing(kept, "send reminder"):
            assert structlog.contextvars.get_contextvars()["trace_id"] == ids(kept)[0]
        assert "trace_id" not in structlog.contextvars.get_contextvars()
        (span,) = exported.get_finished_spans()
        assert span.parent is not None and format(span.parent.span_id, "016x") == ids(kept)[1]

    def test_a_failure_is_recorded_with_its_type_and_no_personal_data(self) -> None:
        tracing, exported = in_memory()
        with pytest.raises(RuntimeError), tracing.continuing(None, "work"):
            raise RuntimeError("could not reach +8613800138000 or zhang.san@example.cn")
        (span,) = exported.get_finished_spans()
        assert span.status.status_code == StatusCode.ERROR
        text = orjson.dumps(span_record(span)).decode()
        assert "RuntimeError" in text
        assert "13800138000" not in text and "zhang.san" not in text

    def test_a_database_error_keeps_only_its_type_and_sqlstate(self) -> None:
        tracing, exported = in_memory()

        class UniqueViolationError(Exception):
            sqlstate = "23505"

        with tracing.continuing(None, "stmt") as span:
            failed(span, UniqueViolationError("Key (name)=(张三) already exists"), detail=False)
        (done,) = exported.get_finished_spans()
        assert done.status.description == "UniqueViolationError (SQLSTATE 23505)"

    def test_a_publish_span_continues_the_rows_trace_and_goes_out_in_its_headers(self) -> None:
        tracing, exported = in_memory()
        row = {"ce_id": str(uuid.uuid4()), "ce_type": "account.placed", "traceparent": new_traceparent()}
        span, headers = tracing.start_publish(row, topic="intake.v1", partition=3)
        assert span is not None
        span.end()
        (done,) = exported.get_finished_spans()
        assert done.name == "publish account.placed" and done.kind == SpanKind.PRODUCER
        assert format(done.parent.span_id, "016x") == ids(row["traceparent"])[1]  # type: ignore[union-attr]
        assert headers["traceparent"] == span_traceparent(span)
        assert {k: v for k, v in headers.items() if k != "traceparent"} == {
            k: v for k, v in row.items() if k != "traceparent"
        }

    @pytest.mark.parametrize(
        "traceparent",
        [
            None,
            "",
            "garbage",
            "00-" + "0" * 32 + "-" + "1" * 16 + "-01",
            "ff-" + "a" * 32 + "-" + "1" * 16 + "-01",
        ],
    )
    def test_an_unusable_traceparent_starts_no_remote_parent(self, traceparent: str | None) -> None:
        assert remote_context(traceparent) is None


@dataclass(frozen=True)
class _Envelope:
    id: uuid.UUID
    type: str
    source: str
    tenant: str
    subject: str | None
    traceparent: str | None


@dataclass(frozen=True)
class _Event:
    envelope: _Envelope


@dataclass(frozen=True)
class _Record:
    topic: str
    partition: int
    offset: int


def events(n: int) -> list[tuple[_Record, _Event]]:
    return [
        (
            _Record("intake.v1", 0, i),
            _Event(_Envelope(uuid.uuid4(), "account.placed", "intake", "t", f"A-{i}", new_traceparent())),
        )
        for i in range(n)
    ]


class TestConsumerRuns:
    def test_each_event_of_a_batch_has_its_own_span_in_its_own_trace(self) -> None:
        tracing, exported = in_memory()
        run_events = events(3)
        run = tracing.consuming([run_events], consumer="reminders.intake.v1")
        with run.group([e for _, e in run_events]):
            for _, event in run_events:
                continuing = traceparent_of(event)
                assert continuing is not None
                assert continuing.split("-")[1] == event.envelope.traceparent.split("-")[1]  # type: ignore[union-attr]
                assert traceparent_for(event.envelope.subject) == continuing
        run.finish(["applied", "duplicate", "applied"])
        spans = exported.get_finished_spans()
        assert [s.name for s in spans] == ["consume account.placed"] * 3
        for span, (_, event) in zip(spans, run_events, strict=True):
            assert span.kind == SpanKind.CONSUMER
            assert format(span.parent.span_id, "016x") == event.envelope.traceparent.split("-")[2]  # type: ignore[union-attr]
            assert span.attributes["messaging.message.id"] == str(event.envelope.id)  # type: ignore[index]
        first = spans[0].context
        assert [list(s.links) and s.links[0].context.span_id for s in spans[1:]] == [first.span_id] * 2
        assert [s.attributes["collections.outcome"] for s in spans] == ["applied", "duplicate", "applied"]  # type: ignore[index]

    def test_a_single_event_group_continues_from_the_current_span(self) -> None:
        tracing, exported = in_memory()
        (item,) = events(1)
        run = tracing.consuming([[item]], consumer="c")
        with run.group([item[1]]):
            tp = current_traceparent()
            assert traceparent_for("someone else") == tp == traceparent_of(item[1])
        run.finish(["applied"])
        (span,) = exported.get_finished_spans()
        assert tp == span_traceparent(span)

    def test_a_failed_run_ends_every_span_failed(self) -> None:
        tracing, exported = in_memory()
        run_events = events(2)
        run = tracing.consuming([[e] for e in run_events], consumer="c")
        run.fail(RuntimeError("boom"))
        assert [s.status.status_code for s in exported.get_finished_spans()] == [StatusCode.ERROR] * 2

    def test_off_binds_each_group_to_its_first_events_trace_and_a_batch_keeps_each_events(self) -> None:
        run_events = events(2)
        run = OFF.consuming([run_events], consumer="c")
        with run.group([e for _, e in run_events]):
            for _, event in run_events:
                assert traceparent_of(event) == event.envelope.traceparent
            assert bound_traceparent().split("-")[1] == run_events[0][1].envelope.traceparent.split("-")[1]  # type: ignore[union-attr]
        run.finish(["applied", "applied"])
        assert [trace_id for trace_id, _ in run.log_ids] == [
            ids(run_events[0][1].envelope.traceparent)[0]
        ] * 2  # type: ignore[arg-type]


class TestOff:
    def test_off_is_what_unit_tests_and_unconfigured_services_get(self) -> None:
        assert not OFF.enabled
        assert OFF.flush()
        OFF.shutdown()

    def test_the_server_span_binds_a_new_span_of_the_callers_trace_as_before(self) -> None:
        structlog.contextvars.clear_contextvars()
        caller = new_traceparent()
        with OFF.server("GET", caller) as span:
            assert not span.is_recording()
            bound = current_traceparent()
            assert bound is not None and ids(bound)[0] == ids(caller)[0] and ids(bound)[1] != ids(caller)[1]

    def test_continuing_binds_the_kept_trace_for_the_block_only(self) -> None:
        structlog.contextvars.clear_contextvars()
        kept = new_traceparent()
        with OFF.continuing(kept, "work"):
            assert ids(current_traceparent() or "")[0] == ids(kept)[0]  # type: ignore[arg-type]
        assert current_traceparent() is None
        with OFF.continuing(None, "work"):
            assert current_traceparent() is None

    def test_a_publish_leaves_the_headers_alone(self) -> None:
        headers = {"ce_type": "x", "traceparent": new_traceparent()}
        assert OFF.start_publish(headers, topic="t", partition=0) == (None, headers)


def test_a_provider_made_elsewhere_can_be_wrapped() -> None:
    provider = TracerProvider()
    assert Tracing("svc", provider).enabled


class TestWithoutTheSdk:
    def test_the_services_frame_imports_no_sdk_until_tracing_is_asked_for(self) -> None:
        import subprocess
        import sys

        probe = (
            "import sys, common.service, common.tracing, common.tracefiles, common.cli_traces, reminders.app;"
            "sys.exit(any(m.startswith('opentelemetry.sdk') for m in sys.modules))"
        )
        assert subprocess.run([sys.executable, "-c", probe], check=False).returncode == 0

    def test_a_service_asked_for_traces_without_the_sdk_runs_with_them_off(
        self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
    ) -> None:
        import common.tracing

        def missing(*_: Any, **__: Any) -> Any:
            raise ImportError("No module named 'opentelemetry.sdk'")

        monkeypatch.setattr(common.tracing, "exporters_for", missing)
        assert not Tracing.from_settings("intake", settings(traces_dir=tmp_path)).enabled
