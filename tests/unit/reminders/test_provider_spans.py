"""The provider call is a client span per attempt, in the trace of the job being sent: HTTP providers
also get its traceparent, and no span names the recipient or the text."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import httpx
import orjson
import pytest
import structlog
from fastapi import FastAPI
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from common.logging import new_traceparent
from common.traceexport import span_record
from common.tracing import Tracing, make_provider
from reminders.channels import HttpGateway, OutgoingMessage, ProviderConfig, SmtpMailer
from tests.unit.reminders.test_gateway import PHONE, FlakyTransport, sms

pytestmark = pytest.mark.unit

Sleep = Callable[[float], Awaitable[None]]


@pytest.fixture
def traced() -> tuple[Tracing, InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = make_provider("reminders")
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return Tracing("reminders", provider), exporter


class Seen(FlakyTransport):
    def __init__(self, app: FastAPI, failures: dict[str, Callable[[], httpx.Response | None]]) -> None:
        super().__init__(app, failures)
        self.traceparents: list[str | None] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.traceparents.append(request.headers.get("traceparent"))
        return await super().handle_async_request(request)


async def test_each_http_attempt_is_a_client_span_of_the_jobs_trace_and_carries_it(
    sandbox: FastAPI, sleep: Sleep, traced: tuple[Tracing, InMemorySpanExporter]
) -> None:
    tracing, exported = traced
    answers = iter([httpx.Response(503)])
    transport = Seen(sandbox, {"primary": lambda: next(answers, None)})
    providers = [ProviderConfig(name="primary", base_url="http://sandbox")]
    async with httpx.AsyncClient(transport=transport, base_url="http://sandbox") as client:
        gateway = HttpGateway(providers, client=client, sleep=sleep, tracing=tracing)
        job = new_traceparent()
        with tracing.continuing(job, "send reminder"):
            result = await gateway.send(sms())
    assert result.status == "accepted"

    *attempts, send = exported.get_finished_spans()
    assert send.name == "send reminder"
    assert [a.name for a in attempts] == ["POST /v1/sms"] * 2
    assert all(a.kind == SpanKind.CLIENT and a.parent.span_id == send.context.span_id for a in attempts)  # type: ignore[union-attr]
    failed, taken = attempts
    assert failed.status.status_code == StatusCode.ERROR and "HTTP 503" in (failed.status.description or "")
    assert taken.attributes["http.response.status_code"] == 201  # type: ignore[index]
    assert taken.attributes["reminders.provider"] == "primary"  # type: ignore[index]
    # The provider saw each attempt's own span as its parent.
    assert transport.traceparents == [
        f"00-{a.context.trace_id:032x}-{a.context.span_id:016x}-01" for a in attempts
    ]
    text = orjson.dumps([span_record(s) for s in exported.get_finished_spans()]).decode()
    assert PHONE not in text and "还款" not in text


async def test_an_smtp_attempt_is_a_client_span_too(
    sandbox: FastAPI, traced: tuple[Tracing, InMemorySpanExporter]
) -> None:
    tracing, exported = traced
    mailer = SmtpMailer("127.0.0.1", sandbox.state.smtp_port, "reminders@agency.example", tracing=tracing)
    with tracing.continuing(new_traceparent(), "send reminder"):
        await mailer.send(OutgoingMessage("email", "borrower@example.cn", "正文", "提醒", "job-m"))
    smtp, send = exported.get_finished_spans()
    assert (smtp.name, smtp.kind) == ("smtp send", SpanKind.CLIENT)
    assert smtp.parent is not None and smtp.parent.span_id == send.context.span_id
    assert smtp.attributes["server.port"] == sandbox.state.smtp_port  # type: ignore[index]
    assert "borrower@example.cn" not in orjson.dumps(span_record(smtp)).decode()


async def test_without_tracing_or_a_trace_nothing_is_added_to_the_request(
    sandbox: FastAPI, sleep: Sleep
) -> None:
    structlog.contextvars.clear_contextvars()  # no request or job trace bound
    transport = Seen(sandbox, {})
    async with httpx.AsyncClient(transport=transport, base_url="http://sandbox") as client:
        gateway = HttpGateway(
            [ProviderConfig(name="primary", base_url="http://sandbox")], client=client, sleep=sleep
        )
        await gateway.send(sms("job-off"))
    assert transport.traceparents == [None]
