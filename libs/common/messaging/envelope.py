"""CloudEvents 1.0 in Kafka binary mode: attributes travel as `ce_*` headers, the value is JSON."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Generic, TypeVar

import orjson
from pydantic import ValidationError

from common.contracts import Contract, resolve

SPEC_VERSION = "1.0"
CONTENT_TYPE = "application/json"
SCHEMA_PREFIX = "urn:collections:"

Headers = list[tuple[str, bytes]]
P = TypeVar("P", bound=Contract)


class EnvelopeError(ValueError):
    """The headers do not make a CloudEvent we can read (missing or malformed attributes)."""


class PayloadError(ValueError):
    """The value is not valid JSON or does not match the contract of its type."""


@dataclass(frozen=True)
class Envelope:
    id: uuid.UUID
    source: str
    type: str
    version: int
    time: datetime
    tenant: str
    subject: str | None = None
    traceparent: str | None = None

    @property
    def dataschema(self) -> str:
        return f"{SCHEMA_PREFIX}{self.type}:{self.version}"

    def to_headers(self) -> dict[str, str]:
        headers = {
            "ce_specversion": SPEC_VERSION,
            "ce_id": str(self.id),
            "ce_source": self.source,
            "ce_type": self.type,
            "ce_time": self.time.isoformat(),
            "ce_dataschema": self.dataschema,
            "ce_tenant": self.tenant,
            "content-type": CONTENT_TYPE,
        }
        if self.subject is not None:
            headers["ce_subject"] = self.subject
        if self.traceparent:
            headers["traceparent"] = self.traceparent
        return headers

    @classmethod
    def from_headers(cls, raw: Headers | None) -> Envelope:
        headers = {k: v.decode("utf-8", "replace") for k, v in (raw or []) if v is not None}
        missing = [
            k
            for k in ("ce_specversion", "ce_id", "ce_source", "ce_type", "ce_time", "ce_tenant")
            if not headers.get(k)
        ]
        if missing:
            raise EnvelopeError(f"missing CloudEvents headers: {', '.join(missing)}")
        if headers["ce_specversion"] != SPEC_VERSION:
            raise EnvelopeError(f"unsupported specversion {headers['ce_specversion']}")
        try:
            event_id = uuid.UUID(headers["ce_id"])
            time = datetime.fromisoformat(headers["ce_time"])
        except ValueError as exc:
            raise EnvelopeError(f"malformed ce_id or ce_time: {exc}") from None
        if time.tzinfo is None:
            raise EnvelopeError("ce_time has no offset")
        return cls(
            id=event_id,
            source=headers["ce_source"],
            type=headers["ce_type"],
            version=_version_of(headers.get("ce_dataschema"), headers["ce_type"]),
            time=time,
            tenant=headers["ce_tenant"],
            subject=headers.get("ce_subject"),
            traceparent=headers.get("traceparent"),
        )


def _version_of(dataschema: str | None, ce_type: str) -> int:
    if not dataschema:
        return 1
    prefix = f"{SCHEMA_PREFIX}{ce_type}:"
    if not dataschema.startswith(prefix) or not dataschema[len(prefix) :].isdigit():
        raise EnvelopeError(f"ce_dataschema {dataschema!r} does not name a version of {ce_type}")
    return int(dataschema[len(prefix) :])


@dataclass(frozen=True)
class Event(Generic[P]):
    """An envelope and its validated payload, as handlers receive it."""

    envelope: Envelope
    data: P


def new_envelope(
    *,
    ce_type: str,
    version: int,
    source: str,
    tenant: str,
    subject: str | None = None,
    traceparent: str | None = None,
    time: datetime | None = None,
    event_id: uuid.UUID | None = None,
) -> Envelope:
    return Envelope(
        id=event_id or uuid.uuid4(),
        source=source,
        type=ce_type,
        version=version,
        time=time or datetime.now(UTC),
        tenant=tenant,
        subject=subject,
        traceparent=traceparent,
    )


def decode(headers: Headers | None, value: bytes | None) -> Event[Contract]:
    """Read a Kafka record as an Event; raises EnvelopeError, UnknownEventTypeError or PayloadError."""
    envelope = Envelope.from_headers(headers)
    model = resolve(envelope.type, envelope.version)
    if value is None:
        raise PayloadError("empty value")
    try:
        data = model.model_validate(orjson.loads(value))
    except orjson.JSONDecodeError as exc:
        raise PayloadError(f"value is not JSON: {exc}") from None
    except ValidationError as exc:
        raise PayloadError(f"payload does not match {envelope.type} v{envelope.version}: {exc}") from None
    return Event(envelope=envelope, data=data)


def encode_payload(data: Contract) -> bytes:
    return orjson.dumps(data.model_dump(mode="json"))
