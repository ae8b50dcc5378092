"""Structured JSON logs with personal data redacted and W3C trace context bound per task."""

from __future__ import annotations

import dataclasses
import logging
import re
import secrets
import sys
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, nullcontext
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import TextIO

import orjson
import structlog
from structlog.typing import EventDict, Processor, WrappedLogger

REDACTED = "[redacted]"
_ENCRYPTED_PREFIX = "enc:v1:"
_SENSITIVE_KEYS = frozenset(
    {
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
        "from",
        "from_",
        "recipient",
    }
)
# The spec's _name/_phone/_email, plus the plural and free-text forms of the same data.
_SENSITIVE_SUFFIXES = (
    "_name",
    "_phone",
    "_phones",
    "_email",
    "_emails",
    "_address",
    "_addresses",
    "_notes",
    "_text",
)
# Validated hex ids; scrubbing them would only break trace lookups.
_TRACE_KEYS = frozenset({"trace_id", "span_id"})
# Substrings left alone inside free text: encryption tokens and UUIDs (ids, not people).
_PROTECTED_RE = re.compile(
    r"enc:v1:[A-Za-z0-9_-]+:[A-Za-z0-9_=-]+"
    r"|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
)
# ASCII-only boundaries so "电话13800138000" is caught but hex ids like "a123456789b" are not.
_PERSONAL_TEXT_RES = (
    re.compile(r"(?<![0-9A-Za-z_])\d{17}[\dXx](?![0-9A-Za-z_])"),
    re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"),
    re.compile(r"(?<![0-9A-Za-z_])\+?\d[\d -]{7,}\d(?![0-9A-Za-z_])"),
)
_DIGIT_OR_AT = re.compile(r"[0-9@]")
# A name we make (a type, topic or group): starts with a letter, so no phone number passes as one.
_NAME_RE = re.compile(r"[A-Za-z][A-Za-z0-9._-]{0,127}")
_UUID_RE = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_TRACEPARENT_RE = re.compile(r"^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$")
_NOISY_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access", "aiokafka")
_MAX_CORRELATION_ID = 128

_traceparent: ContextVar[str | None] = ContextVar("traceparent", default=None)


class _ServiceHandler(logging.StreamHandler[TextIO]):
    """Marks the handler configure_logging installs, so a second call replaces only it."""


# What configure_logging set up, for `structural` lines: (service, handler, JSON or not).
_installed: tuple[str, _ServiceHandler, bool] | None = None


def _is_sensitive_key(key: object) -> bool:
    if not isinstance(key, str):
        return False
    lowered = key.lower()
    return lowered in _SENSITIVE_KEYS or lowered.endswith(_SENSITIVE_SUFFIXES)


def scrub_text(text: str) -> str:
    """Replace phone numbers, e-mail addresses and CN national ids in free text."""
    if _DIGIT_OR_AT.search(text) is None:
        return text  # nothing any pattern could match (names are redacted by key, not by text)
    if _UUID_RE.fullmatch(text):
        return text  # an id, the most common value of a line
    pieces: list[str] = []
    last = 0
    for match in _PROTECTED_RE.finditer(text):
        pieces.append(_scrub_plain(text[last : match.start()]))
        pieces.append(match.group())
        last = match.end()
    pieces.append(_scrub_plain(text[last:]))
    return "".join(pieces)


def _scrub_plain(text: str) -> str:
    for pattern in _PERSONAL_TEXT_RES:
        text = pattern.sub(REDACTED, text)
    return text


def _as_structure(value: object) -> object:
    """Turn models and dataclasses into dicts so their fields are redacted by key."""
    model_dump = getattr(value, "model_dump", None)
    if callable(model_dump):
        return model_dump()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    return value


def _redact_sensitive(value: object) -> object:
    """The value of a personal-data key: everything goes except None and encryption tokens."""
    value = _as_structure(value)
    if value is None or (isinstance(value, str) and value.startswith(_ENCRYPTED_PREFIX)):
        return value
    if isinstance(value, Mapping):
        return {k: _redact_sensitive(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_redact_sensitive(v) for v in value]
    return REDACTED


def _redact(value: object) -> object:
    if isinstance(value, str):
        return value if value.startswith(_ENCRYPTED_PREFIX) else scrub_text(value)
    if value is None or isinstance(value, bool | int | float):
        return value
    value = _as_structure(value)
    if isinstance(value, str):
        return value if value.startswith(_ENCRYPTED_PREFIX) else scrub_text(value)
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, Mapping):
        return {k: _redact_sensitive(v) if _is_sensitive_key(k) else _redact(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_redact(v) for v in value]
    if isinstance(value, BaseException):
        return scrub_text(f"{type(value).__name__}: {value}")
    # Anything else would be rendered by repr(), which can carry personal data.
    return scrub_text(repr(value))


def redact_personal_data(_logger: WrappedLogger, _method: str, event_dict: EventDict) -> EventDict:
    """structlog processor: redact personal-data keys and scrub phones, e-mails and ids in text."""
    for key, value in list(event_dict.items()):
        if key in _TRACE_KEYS or key in ("exc_info", "stack_info") or key.startswith("_"):
            continue
        event_dict[key] = _redact_sensitive(value) if _is_sensitive_key(key) else _redact(value)
    return event_dict


def _add_service(service: str) -> Processor:
    def add_service(_logger: WrappedLogger, _method: str, event_dict: EventDict) -> EventDict:
        event_dict.setdefault("service", service)
        return event_dict

    return add_service


def configure_logging(
    service: str, *, level: str = "INFO", json: bool = True, stream: TextIO | None = None
) -> None:
    """Route structlog and stdlib logging to one redacting renderer writing to `stream`.

    `stream` defaults to stdout; `json=False` renders for humans (local development).
    """
    shared: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _add_service(service),
    ]
    # Tracebacks are formatted before redaction so their text is scrubbed too.
    finish: list[Processor] = [
        structlog.processors.StackInfoRenderer(),
        structlog.processors.format_exc_info,
        redact_personal_data,
    ]
    renderer: Processor = (
        structlog.processors.JSONRenderer(ensure_ascii=False)
        if json
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    # Records from structlog were redacted in its chain below; the stdlib's own (uvicorn, aiokafka)
    # are redacted here, once each.
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[*shared, *finish],
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
    )
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _ServiceHandler)]:
        root.removeHandler(old)
        old.close()
    handler = _ServiceHandler(stream or sys.stdout)
    handler.setFormatter(formatter)
    root.addHandler(handler)
    global _installed
    _installed = (service, handler, json)
    root.setLevel(level.upper())
    for name in _NOISY_LOGGERS:
        noisy = logging.getLogger(name)
        noisy.handlers.clear()
        noisy.propagate = True
        noisy.setLevel(logging.WARNING)
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *shared,
            structlog.stdlib.PositionalArgumentsFormatter(),
            # Redacted here as well, so any other handler on the root logger gets clean records.
            *finish,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        # Not cached: a reconfigure (tests, CLI) must reach loggers created earlier.
        cache_logger_on_first_use=False,
    )


def _is_name_or_id(value: str) -> bool:
    return bool(_NAME_RE.fullmatch(value) or _UUID_RE.fullmatch(value))


def structural(logger: str, event: str, /, **fields: str | int | float | None) -> None:
    """One INFO line of ids, names and numbers, rendered straight to the service's handler: for the
    hot path (a line per consumed event), where the full chain costs a few hundred microseconds.
    A string that is not a trace id, a uuid or a plain name is still scrubbed like any text."""
    installed = _installed
    target = logging.getLogger(logger)
    if installed is None or not installed[2] or not target.isEnabledFor(logging.INFO):
        structlog.get_logger(logger).info(event, **fields)
        return
    service, handler, _ = installed
    line: dict[str, object] = {}
    for key, value in fields.items():
        if isinstance(value, str) and key not in _TRACE_KEYS and not _is_name_or_id(value):
            value = scrub_text(value)
        line[key] = value
    line |= {
        "event": event,
        "level": "info",
        "logger": logger,
        "timestamp": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
        "service": service,
    }
    rendered = orjson.dumps(line).decode() + "\n"
    with handler.lock or nullcontext():
        handler.stream.write(rendered)
        handler.flush()


def new_traceparent() -> str:
    """A fresh W3C traceparent (version 00, sampled) with random trace and span ids."""
    return f"00-{_random_hex(16)}-{_random_hex(8)}-01"


def _random_hex(nbytes: int) -> str:
    # All-zero ids are invalid in W3C trace context.
    while (value := secrets.token_hex(nbytes)) == "0" * (2 * nbytes):
        pass
    return value


def parse_traceparent(traceparent: str | None) -> tuple[str, str, str] | None:
    """(trace id, parent span id, flags) of a valid W3C traceparent, else None."""
    if not traceparent:
        return None
    match = _TRACEPARENT_RE.match(traceparent.strip())
    if match is None:
        return None
    version, trace_id, parent_id, flags, rest = match.groups()
    if version == "ff" or (version == "00" and rest is not None):
        return None
    if trace_id == "0" * 32 or parent_id == "0" * 16:
        return None
    return trace_id, parent_id, flags


def _parse_traceparent(traceparent: str | None) -> tuple[str, str] | None:
    """(trace id, flags) of a valid traceparent, else None."""
    parsed = parse_traceparent(traceparent)
    return (parsed[0], parsed[2]) if parsed else None


def bind_trace(traceparent: str | None) -> str:
    """Join the incoming trace (or start one) with a new span; return the traceparent to send on.

    Binds `trace_id` and `span_id` to structlog's context variables for this task.
    """
    parsed = _parse_traceparent(traceparent)
    trace_id, flags = parsed if parsed else (_random_hex(16), "01")
    span_id = _random_hex(8)
    outgoing = f"00-{trace_id}-{span_id}-{flags}"
    structlog.contextvars.bind_contextvars(trace_id=trace_id, span_id=span_id)
    _traceparent.set(outgoing)
    return outgoing


def bind_traceparent(traceparent: str) -> None:
    """Bind exactly this traceparent's trace and span id (of a span the tracer made) for this task."""
    structlog.contextvars.bind_contextvars(trace_id=traceparent[3:35], span_id=traceparent[36:52])
    _traceparent.set(traceparent)


@contextmanager
def traceparent_bound(traceparent: str | None) -> Iterator[None]:
    """bind_traceparent for the block (nothing when None); what was bound before is bound after."""
    if traceparent is None:
        yield
        return
    token = _traceparent.set(traceparent)
    try:
        with structlog.contextvars.bound_contextvars(trace_id=traceparent[3:35], span_id=traceparent[36:52]):
            yield
    finally:
        _traceparent.reset(token)


def derived_traceparent(traceparent: str | None) -> str | None:
    """A new span id in the trace of `traceparent` (None when it is not a valid one)."""
    parsed = _parse_traceparent(traceparent)
    return f"00-{parsed[0]}-{_random_hex(8)}-{parsed[1]}" if parsed else None


def current_traceparent() -> str | None:
    """The traceparent bound by bind_trace in this context, or None if none is bound."""
    outgoing = _traceparent.get()
    bound = structlog.contextvars.get_contextvars()
    # Someone may have cleared structlog's context since; then there is no current trace.
    if outgoing is None or bound.get("trace_id") != outgoing[3:35]:
        return None
    return outgoing


def bind_correlation(correlation_id: str | None) -> str:
    """Bind `correlation_id` (a new one if missing or unusable) to the log context and return it."""
    value = (correlation_id or "").strip()
    if not value or len(value) > _MAX_CORRELATION_ID or not value.isprintable():
        value = uuid.uuid4().hex
    structlog.contextvars.bind_contextvars(correlation_id=value)
    return value


__all__ = [
    "REDACTED",
    "bind_correlation",
    "bind_trace",
    "bind_traceparent",
    "configure_logging",
    "current_traceparent",
    "derived_traceparent",
    "new_traceparent",
    "parse_traceparent",
    "redact_personal_data",
    "scrub_text",
    "traceparent_bound",
]
