"""`collectctl trace <trace_id>`: one trace from the span files, as a tree with offsets and durations."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
import typer
from typer.testing import CliRunner

from common.cli_traces import show_trace
from common.logging import new_traceparent
from common.traceexport import JsonLinesSpanExporter
from common.tracing import Tracing, make_provider

pytestmark = pytest.mark.unit

app = typer.Typer()
app.command()(show_trace)


def write_trace(directory: Path) -> str:
    caller = new_traceparent()
    for service in ("intake", "compliance"):
        tracing = Tracing(
            service, make_provider(service, exporters=[JsonLinesSpanExporter(directory, service)])
        )
        with tracing.server("POST", caller) as span:
            span.update_name(f"POST /v1/{service}")
            span.set_attribute("http.response.status_code", 202)
            with tracing.span("SELECT"):
                pass
        tracing.shutdown()
    return caller.split("-")[1]


def test_prints_the_tree_of_one_trace_from_every_services_file(tmp_path: Path) -> None:
    trace_id = write_trace(tmp_path)
    result = CliRunner().invoke(app, [trace_id, "--dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    head, *lines = result.output.splitlines()
    assert head.startswith(f"trace {trace_id}: 4 spans in 2 services (compliance, intake)")
    assert [line.split()[4:6] for line in lines] == [
        ["intake", "POST"],
        ["intake", "SELECT"],
        ["compliance", "POST"],
        ["compliance", "SELECT"],
    ]
    assert "status=202" in lines[0]


def test_json_gives_the_spans_as_lines(tmp_path: Path) -> None:
    trace_id = write_trace(tmp_path)
    result = CliRunner().invoke(app, [trace_id.upper(), "--dir", str(tmp_path), "--json"])
    assert result.exit_code == 0, result.output
    assert {orjson.loads(line)["traceId"] for line in result.output.splitlines()} == {trace_id}


@pytest.mark.parametrize(("argument", "code"), [("nothex", 2), ("ab" * 16, 1)])
def test_a_bad_or_unknown_trace_id_fails(tmp_path: Path, argument: str, code: int) -> None:
    assert CliRunner().invoke(app, [argument, "--dir", str(tmp_path)]).exit_code == code
