from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone

import orjson
import pytest

from common.clock import ManualClock
from common.contracts import Contract, UnknownEventTypeError, contract, resolve, type_of
from common.messaging.envelope import (
    Envelope,
    EnvelopeError,
    PayloadError,
    decode,
    encode_payload,
    new_envelope,
)
from common.messaging.outbox import OutgoingEvent, outbox_row

pytestmark = pytest.mark.unit


@contract("unit.sample", version=2)
class Sample(Contract):
    account_id: str
    amount_minor: int


def _headers(envelope: Envelope) -> list[tuple[str, bytes]]:
    return [(k, v.encode()) for k, v in envelope.to_headers().items()]


def test_headers_round_trip_with_version_and_trace() -> None:
    envelope = new_envelope(
        ce_type="unit.sample",
        version=2,
        source="intake",
        tenant="huabei",
        subject="A-1",
        traceparent="00-" + "a" * 32 + "-" + "b" * 16 + "-01",
        time=datetime(2026, 11, 29, 8, 0, tzinfo=timezone(timedelta(hours=8))),
    )
    headers = envelope.to_headers()
    assert headers["ce_specversion"] == "1.0"
    assert headers["ce_dataschema"] == "urn:collections:unit.sample:2"
    assert headers["content-type"] == "application/json"
    assert Envelope.from_headers(_headers(envelope)) == envelope


def test_decode_validates_the_payload_against_its_contract() -> None:
    envelope = new_envelope(ce_type="unit.sample", version=2, source="t", tenant="t")
    event = decode(_headers(envelope), encode_payload(Sample(account_id="A", amount_minor=5)))
    assert event.data == Sample(account_id="A", amount_minor=5)
    with pytest.raises(PayloadError, match="does not match"):
        decode(_headers(envelope), orjson.dumps({"account_id": "A", "amount_minor": "lots"}))
    with pytest.raises(PayloadError, match="does not match"):
        decode(_headers(envelope), orjson.dumps({"account_id": "A", "amount_minor": 1, "extra": 1}))
    with pytest.raises(PayloadError, match="not JSON"):
        decode(_headers(envelope), b"{")
    with pytest.raises(PayloadError, match="empty"):
        decode(_headers(envelope), None)


def test_unknown_types_and_versions_are_refused() -> None:
    with pytest.raises(UnknownEventTypeError):
        resolve("unit.sample", 1)
    envelope = new_envelope(ce_type="unit.nothing", version=1, source="t", tenant="t")
    with pytest.raises(UnknownEventTypeError):
        decode(_headers(envelope), b"{}")


@pytest.mark.parametrize(
    ("drop", "override", "message"),
    [
        ("ce_id", {}, "missing"),
        ("ce_tenant", {}, "missing"),
        (None, {"ce_specversion": "0.3"}, "specversion"),
        (None, {"ce_id": "not-a-uuid"}, "malformed"),
        (None, {"ce_time": "2026-11-29T08:00:00"}, "offset"),
        (None, {"ce_dataschema": "urn:collections:other:1"}, "does not name"),
    ],
)
def test_malformed_envelopes_are_refused(drop: str | None, override: dict[str, str], message: str) -> None:
    headers = new_envelope(ce_type="unit.sample", version=2, source="t", tenant="t").to_headers()
    headers.update(override)
    if drop:
        del headers[drop]
    with pytest.raises(EnvelopeError, match=message):
        Envelope.from_headers([(k, v.encode()) for k, v in headers.items()])


def test_a_contract_name_cannot_be_taken_twice() -> None:
    with pytest.raises(ValueError, match="already registered"):

        @contract("unit.sample", version=2)
        class Other(Contract):
            x: int


def test_outbox_rows_carry_the_envelope_and_the_validated_payload() -> None:
    event_id = uuid.uuid4()
    row = outbox_row(
        OutgoingEvent(
            topic="unit.topic",
            key="B-1",
            data=Sample(account_id="A-1", amount_minor=100),
            tenant="huabei",
            subject="A-1",
            event_id=event_id,
        ),
        source="intake",
    )
    assert row["event_id"] == event_id
    assert row["key"] == "B-1"
    assert row["headers"]["ce_type"] == "unit.sample"  # type: ignore[index]
    assert row["headers"]["ce_id"] == str(event_id)  # type: ignore[index]
    assert orjson.loads(row["payload"]) == {"account_id": "A-1", "amount_minor": 100}  # type: ignore[arg-type]
    assert type_of(Sample) == ("unit.sample", 2)


def test_manual_clock_moves_only_when_told() -> None:
    clock = ManualClock(datetime(2026, 11, 29, 21, 59, tzinfo=UTC))
    assert clock.now() == datetime(2026, 11, 29, 21, 59, tzinfo=UTC)
    clock.advance(timedelta(minutes=1))
    assert clock.now().hour == 22
    with pytest.raises(ValueError, match="aware"):
        clock.set(datetime(2026, 11, 29))
