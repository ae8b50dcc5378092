"""E-mail over SMTP (aiosmtplib): one plain-text UTF-8 message per reminder.

The `Message-ID` is derived from the idempotency key, so a resend after a lost answer carries the
same id and mail systems and readers can recognise it as the same reminder.
"""

from __future__ import annotations

import asyncio
import hashlib
import random
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from typing import Final

import aiosmtplib
import structlog
from opentelemetry.trace import SpanKind

from common.tracing import OFF, Tracing
from reminders.channels.base import (
    DeliveryResult,
    OutgoingMessage,
    PermanentDeliveryError,
    TransientDeliveryError,
)

log = structlog.get_logger(__name__)

SMTP_PROVIDER: Final = "smtp"
# Headers a caller may set through OutgoingMessage.headers; anything else (Bcc, From...) is refused.
PASSED_HEADERS: Final = ("List-Unsubscribe", "List-Unsubscribe-Post", "Reply-To", "Content-Language")
# 7bit transfer encoding: non-ASCII bodies go out as base64 or quoted-printable, which every relay takes.
_POLICY: Final = policy.SMTP.clone(cte_type="7bit")


class _RetryableError(Exception):
    """One attempt failed in a way that may pass (an SMTP 4xx, a timeout, a lost connection)."""


def message_id(idempotency_key: str, sender: str) -> str:
    """The Message-ID of every send under `idempotency_key`: `<sha256 prefix@sender's domain>`."""
    digest = hashlib.sha256(f"reminders.email:{idempotency_key}".encode()).hexdigest()[:40]
    _, at, domain = parseaddr(sender)[1].rpartition("@")
    return f"<{digest}@{domain if at and domain else 'reminders.invalid'}>"


def build_email(message: OutgoingMessage, *, sender: str) -> EmailMessage:
    """The MIME message for `message`; raises PermanentDeliveryError for a header it may not set."""
    refused = sorted(set(message.headers) - set(PASSED_HEADERS))
    if refused:
        raise PermanentDeliveryError(f"e-mail headers not allowed: {', '.join(refused)}")
    email = EmailMessage(policy=_POLICY)
    # Body first: set_content drops every Content-* header set before it (Content-Language).
    email.set_content(message.body, charset="utf-8")
    try:
        email["From"] = sender
        email["To"] = message.to
        email["Subject"] = message.subject or ""
        email["Date"] = format_datetime(datetime.now(UTC))
        email["Message-ID"] = message_id(message.idempotency_key, sender)
        for name in PASSED_HEADERS:
            if name in message.headers:
                email[name] = message.headers[name]
    except ValueError as exc:  # a CR or LF in a header value, or an unparsable address
        raise PermanentDeliveryError(f"e-mail header rejected: {type(exc).__name__}") from exc
    return email


class SmtpMailer:
    """Sends e-mail reminders through one SMTP relay, retrying replies and failures that may pass."""

    def __init__(
        self,
        host: str,
        port: int,
        sender: str,
        *,
        timeout_s: float = 10.0,
        attempts: int = 3,
        backoff_s: float = 0.5,
        username: str | None = None,
        password: str | None = None,
        use_tls: bool = False,
        start_tls: bool | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        tracing: Tracing = OFF,
    ) -> None:
        if attempts < 1:
            raise ValueError("attempts must be at least 1")
        self._host = host
        self._port = port
        self._sender = sender
        self._envelope_sender = parseaddr(sender)[1] or sender
        self._timeout_s = timeout_s
        self._attempts = attempts
        self._backoff_s = backoff_s
        self._username = username
        self._password = password
        self._use_tls = use_tls
        self._start_tls = start_tls
        self._sleep = sleep
        self._tracing = tracing

    async def send(self, message: OutgoingMessage) -> DeliveryResult:
        """Hand `message` to the relay. Raises PermanentDeliveryError on a 5xx reply or a bad message,
        TransientDeliveryError when 4xx replies, timeouts or lost connections outlast the retries."""
        if message.channel != "email":
            raise ValueError(f"the SMTP mailer does not carry {message.channel}")
        email = build_email(message, sender=self._sender)
        for attempt in range(1, self._attempts + 1):
            try:
                # a client span per attempt: the provider call, in the trace of the reminder's job
                with self._tracing.span(
                    "smtp send",
                    kind=SpanKind.CLIENT,
                    attributes={
                        "server.address": self._host,
                        "server.port": self._port,
                        "reminders.provider": SMTP_PROVIDER,
                        "reminders.channel": message.channel,
                        "reminders.idempotency_key": message.idempotency_key,
                        "reminders.attempt": attempt,
                    },
                ):
                    await self._transmit(email, message.to)
            except _RetryableError as failure:
                log.warning(
                    "smtp attempt failed",
                    idempotency_key=message.idempotency_key,
                    attempt=attempt,
                    reason=str(failure),
                )
                if attempt == self._attempts:
                    raise TransientDeliveryError(f"email not delivered: {failure}") from failure
                await self._sleep(self._backoff_s * 2.0 ** (attempt - 1) * random.uniform(0.5, 1.0))  # noqa: S311
            else:
                return DeliveryResult(
                    provider=SMTP_PROVIDER, provider_message_id=str(email["Message-ID"]), status="accepted"
                )
        raise AssertionError("attempts is at least 1")  # pragma: no cover

    async def _transmit(self, email: EmailMessage, recipient: str) -> None:
        try:
            await aiosmtplib.send(
                email,
                sender=self._envelope_sender,
                recipients=[recipient],
                hostname=self._host,
                port=self._port,
                username=self._username,
                password=self._password,
                use_tls=self._use_tls,
                start_tls=self._start_tls,
                timeout=self._timeout_s,
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            codes = [refused.code for refused in exc.recipients]
            _raise_for_codes(codes, "recipient refused", exc)
        except aiosmtplib.SMTPResponseException as exc:
            _raise_for_codes([exc.code], f"{type(exc).__name__}", exc)
        except aiosmtplib.SMTPNotSupported as exc:
            raise PermanentDeliveryError(f"smtp relay lacks a required extension: {exc}") from exc
        except (aiosmtplib.SMTPException, OSError) as exc:
            raise _RetryableError(type(exc).__name__) from exc


def _raise_for_codes(codes: list[int], what: str, cause: Exception) -> None:
    # Only replies can be read as permanent; an SMTP 4xx asks the client to come back later.
    reason = f"{what} ({', '.join(str(c) for c in codes)})"
    if codes and all(code >= 500 for code in codes):
        raise PermanentDeliveryError(f"email refused: {reason}") from cause
    raise _RetryableError(reason) from cause
