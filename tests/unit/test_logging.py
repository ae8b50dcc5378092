"""Logging: JSON shape, personal-data redaction and trace context."""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import orjson
import pytest
import structlog

from common.logging import (
    REDACTED,
    bind_correlation,
    bind_trace,
    configure_logging,
    current_traceparent,
    new_traceparent,
    redact_personal_data,
    structural,
)

pytestmark = pytest.mark.unit

PHONE = "+8613800138000"
EMAIL = "zhang.san@example.cn"
NATIONAL_ID = "11010519491231002X"
NAME = "张三"
TOKEN = "enc:v1:k1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1"
TRACEPARENT_RE = re.compile(r"^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$")


@pytest.fixture
def stream() -> Iterator[io.StringIO]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    out = io.StringIO()
    configure_logging("reminders", level="DEBUG", stream=out)
    structlog.contextvars.clear_contextvars()
    yield out
    structlog.contextvars.clear_contextvars()
    structlog.reset_defaults()
    for handler in root.handlers:
        if handler not in handlers:
            root.removeHandler(handler)
    root.setLevel(level)


def _lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


def _assert_no_personal_data(text: str) -> None:
    for secret in (PHONE, "13800138000", EMAIL, NATIONAL_ID, NAME):
        assert secret not in text


class TestConfigure:
    def test_json_line_with_level_timestamp_and_service(self, stream: io.StringIO) -> None:
        structlog.get_logger("reminders.relay").info("published", batch=3)
        (line,) = _lines(stream)
        assert line["event"] == "published"
        assert line["batch"] == 3
        assert line["level"] == "info"
        assert line["service"] == "reminders"
        assert line["timestamp"].endswith("Z")

    def test_stdlib_records_go_through_the_same_renderer(self, stream: io.StringIO) -> None:
        logging.getLogger("some.library").warning("sent to %s", EMAIL)
        (line,) = _lines(stream)
        assert line["level"] == "warning"
        assert line["service"] == "reminders"
        assert line["event"] == f"sent to {REDACTED}"

    def test_noisy_libraries_log_warnings_only(self, stream: io.StringIO) -> None:
        logging.getLogger("uvicorn.access").info("GET /v1/accounts 200")
        logging.getLogger("aiokafka").info("joined group")
        logging.getLogger("aiokafka").warning("rebalance")
        assert [line["event"] for line in _lines(stream)] == ["rebalance"]

    def test_level_filters(self, stream: io.StringIO) -> None:
        configure_logging("reminders", level="WARNING", stream=stream)
        log = structlog.get_logger()
        log.info("hidden")
        log.warning("shown")
        assert [line["event"] for line in _lines(stream)] == ["shown"]

    def test_personal_data_never_reaches_the_output(self, stream: io.StringIO) -> None:
        log = structlog.get_logger()
        log.info(
            f"calling {PHONE} for {EMAIL} id {NATIONAL_ID}",
            name=NAME,
            phone=PHONE,
            borrower={"full_name": NAME, "phones": [PHONE, TOKEN], "national_id": NATIONAL_ID},
            note_text=f"borrower {NAME} said call 138 0013 8000",
            detail="promised to pay, call back on 138 0013 8000",
            encrypted_name=TOKEN,
            account_id="acc-42",
            amount_cents=125000,
            channel="sms",
        )
        text = stream.getvalue()
        _assert_no_personal_data(text)
        (line,) = _lines(stream)
        assert line["name"] == REDACTED
        assert line["borrower"]["phones"] == [REDACTED, TOKEN]
        assert line["note_text"] == REDACTED
        assert line["detail"] == f"promised to pay, call back on {REDACTED}"
        assert line["encrypted_name"] == TOKEN
        assert line["account_id"] == "acc-42"
        assert line["amount_cents"] == 125000
        assert line["channel"] == "sms"

    def test_other_root_handlers_get_redacted_records(
        self, stream: io.StringIO, caplog: pytest.LogCaptureFixture
    ) -> None:
        with caplog.at_level(logging.INFO):
            structlog.get_logger().info(f"sms to {PHONE}", name=NAME, email=EMAIL)
        (record,) = caplog.records
        _assert_no_personal_data(str(record.msg))

    def test_exception_text_is_scrubbed(self, stream: io.StringIO) -> None:
        log = structlog.get_logger()
        try:
            raise ValueError(f"no borrower with phone {PHONE}")
        except ValueError:
            log.exception("lookup failed")
        text = stream.getvalue()
        assert "ValueError" in text
        _assert_no_personal_data(text)

    def test_models_are_redacted_by_field(self, stream: io.StringIO) -> None:
        @dataclass
        class Borrower:
            name: str
            phone: str
            tier: str

        structlog.get_logger().info("loaded", borrower=Borrower(NAME, PHONE, "gold"))
        _assert_no_personal_data(stream.getvalue())
        assert _lines(stream)[0]["borrower"]["tier"] == "gold"


class TestRedactProcessor:
    @pytest.mark.parametrize(
        "key",
        [
            "name",
            "full_name",
            "national_id",
            "phone",
            "phones",
            "number",
            "email",
            "emails",
            "address",
            "addresses",
            "line1",
            "notes",
            "text",
            "body",
            "to",
            "from_",
            "recipient",
            "borrower_name",
            "guarantor_phone",
            "contact_email",
            "home_address",
            "visit_notes",
            "reply_text",
        ],
    )
    def test_personal_keys_are_redacted(self, key: str) -> None:
        out = redact_personal_data(None, "info", {"event": "x", key: "Li Lei"})
        assert out[key] == REDACTED

    def test_nested_keys_are_redacted(self) -> None:
        event = {"event": "x", "payload": {"items": [{"address": {"line1": "北京", "zip": 100}}]}}
        out = redact_personal_data(None, "info", event)
        assert out["payload"]["items"][0]["address"] == {"line1": REDACTED, "zip": REDACTED}

    def test_tokens_and_none_survive_under_personal_keys(self) -> None:
        out = redact_personal_data(None, "info", {"event": "x", "phone": TOKEN, "email": None})
        assert out["phone"] == TOKEN
        assert out["email"] is None

    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            (f"call {PHONE} now", f"call {REDACTED} now"),
            ("电话13800138000", f"电话{REDACTED}"),
            ("call +86 138 0013 8000.", f"call {REDACTED}."),
            (f"mail {EMAIL}", f"mail {REDACTED}"),
            (f"id {NATIONAL_ID}", f"id {REDACTED}"),
            (f"id {NATIONAL_ID.lower()}", f"id {REDACTED}"),
            (f"stored {TOKEN} ok", f"stored {TOKEN} ok"),
            (
                "account 123e4567-e89b-12d3-a456-426614174000",
                "account 123e4567-e89b-12d3-a456-426614174000",
            ),
            ("trace a123456789b", "trace a123456789b"),
            ("dpd 37 at 2024-05-01T10:00:00Z", "dpd 37 at 2024-05-01T10:00:00Z"),
        ],
    )
    def test_free_text_is_scrubbed(self, text: str, expected: str) -> None:
        out = redact_personal_data(None, "info", {"event": text, "detail": text})
        assert out["event"] == expected
        assert out["detail"] == expected

    def test_trace_ids_are_left_alone(self) -> None:
        event = {"event": "x", "trace_id": "1" * 32, "span_id": "2" * 16}
        assert redact_personal_data(None, "info", dict(event)) == event


class TestTrace:
    def test_new_traceparent_shape(self) -> None:
        first, second = new_traceparent(), new_traceparent()
        assert TRACEPARENT_RE.match(first)
        assert first != second

    def test_incoming_trace_is_joined_with_a_new_span(self, stream: io.StringIO) -> None:
        incoming = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
        outgoing = bind_trace(incoming)
        assert TRACEPARENT_RE.match(outgoing)
        assert outgoing.split("-")[1] == "4bf92f3577b34da6a3ce929d0e0e4736"
        assert outgoing.split("-")[2] != "00f067aa0ba902b7"
        assert current_traceparent() == outgoing
        structlog.get_logger().info("handled")
        (line,) = _lines(stream)
        assert line["trace_id"] == "4bf92f3577b34da6a3ce929d0e0e4736"
        assert line["span_id"] == outgoing.split("-")[2]

    @pytest.mark.parametrize(
        "traceparent",
        [
            None,
            "",
            "garbage",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
        ],
    )
    def test_invalid_traceparent_starts_a_new_trace(self, traceparent: str | None) -> None:
        structlog.contextvars.clear_contextvars()
        outgoing = bind_trace(traceparent)
        assert TRACEPARENT_RE.match(outgoing)
        assert "4bf92f3577b34da6a3ce929d0e0e4736" not in outgoing.lower()
        structlog.contextvars.clear_contextvars()

    def test_cleared_context_has_no_current_trace(self) -> None:
        bind_trace(None)
        structlog.contextvars.clear_contextvars()
        assert current_traceparent() is None

    def test_correlation_id(self, stream: io.StringIO) -> None:
        assert bind_correlation("req-7") == "req-7"
        generated = bind_correlation(None)
        assert len(generated) == 32
        oversized = bind_correlation("x" * 500)
        assert oversized not in ("x" * 500, generated)
        structlog.get_logger().info("x")
        assert _lines(stream)[0]["correlation_id"] == oversized


class TestStructuralLines:
    """The hot path's lines (one per consumed event) skip the full chain but not the scrubbing of
    anything that is not a name or an id, and look like every other line."""

    def test_a_structural_line_is_json_like_the_others_and_text_in_it_is_scrubbed(
        self, stream: io.StringIO
    ) -> None:
        structlog.contextvars.clear_contextvars()
        structural(
            "common.messaging.consumer",
            "event consumed",
            type="permit.requested",
            topic="reminders.v1",
            ce_id="0b7f5a8e-3c1d-4e2f-9a6b-7c8d9e0f1a2b",
            offset=7,
            note="call +86 138 0013 8000 or a@example.com",
            trace_id="4bf92f3577b34da6a3ce929d0e0e4736",
        )
        (line,) = [orjson.loads(x) for x in stream.getvalue().splitlines()]
        assert line["event"] == "event consumed" and line["level"] == "info"
        assert line["service"] == "reminders" and line["timestamp"].endswith("Z")
        assert (line["type"], line["topic"], line["offset"]) == ("permit.requested", "reminders.v1", 7)
        assert line["ce_id"] == "0b7f5a8e-3c1d-4e2f-9a6b-7c8d9e0f1a2b"
        assert line["trace_id"] == "4bf92f3577b34da6a3ce929d0e0e4736"
        assert "138" not in line["note"] and "example.com" not in line["note"]
