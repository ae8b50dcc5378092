"""SMS, voice, push and letters (print and mail) through HTTP providers: retries with backoff, then
failover to the next provider.

Every attempt, on every provider, carries the message's idempotency key, so a retry after a lost
response is answered "duplicate" rather than sent twice. Keys are per provider: when a primary took
a message but its answer was lost, failing over can still send it once more through the secondary;
that is the price of not leaving a reminder unsent when a provider is down.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Final

import httpx
import structlog
from opentelemetry.trace import SpanKind

from common.tracing import OFF, Tracing, inject
from reminders.channels.base import (
    DeliveryResult,
    OutgoingMessage,
    PermanentDeliveryError,
    TransientDeliveryError,
)

log = structlog.get_logger(__name__)

PATHS: Final = {"sms": "/v1/sms", "voice_call": "/v1/voice", "push": "/v1/push", "letter": "/v1/letters"}
RETRYABLE_4XX: Final = frozenset({408, 429})


@dataclass(frozen=True)
class ProviderConfig:
    """One provider: its name (sent as `X-Provider`), where it listens and how long one call may take."""

    name: str
    base_url: str
    timeout_s: float = 5.0


class _RetryableError(Exception):
    """One attempt failed in a way that may pass; `retry_after` is the provider's hint in seconds."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


def payload(message: OutgoingMessage) -> dict[str, Any]:
    """The provider request body for `message`."""
    if message.channel == "sms":
        return {"to": message.to, "text": message.body}
    if message.channel == "voice_call":
        return {"to": message.to, "script": message.body}
    if message.channel == "push":
        return {"device_token": message.to, "body": message.body, "title": message.subject}
    if message.channel == "letter":
        return {"to": message.to, "subject": message.subject, "body": message.body}
    raise ValueError(f"the HTTP gateway does not carry {message.channel}")


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After", "")
    try:
        return max(0.0, float(value))
    except ValueError:
        return None  # absent, or an HTTP date: fall back to our own backoff


class HttpGateway:
    """Sends SMS, voice calls, push notifications and letters through `providers`, in order of
    preference (a letter goes to a print-and-mail provider)."""

    def __init__(
        self,
        providers: list[ProviderConfig],
        *,
        attempts_per_provider: int = 3,
        backoff_s: float = 0.2,
        max_backoff_s: float = 5.0,
        client: httpx.AsyncClient,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        tracing: Tracing = OFF,
    ) -> None:
        if not providers:
            raise ValueError("an HTTP gateway needs at least one provider")
        if attempts_per_provider < 1:
            raise ValueError("attempts_per_provider must be at least 1")
        self._providers = list(providers)
        self._attempts = attempts_per_provider
        self._backoff_s = backoff_s
        self._max_backoff_s = max_backoff_s
        self._client = client
        self._sleep = sleep
        self._tracing = tracing

    async def send(self, message: OutgoingMessage) -> DeliveryResult:
        """Deliver `message` through the first provider that takes it.

        Raises PermanentDeliveryError at once when a provider refuses the request itself, and
        TransientDeliveryError when every provider still fails after its retries.
        """
        body = payload(message)
        failures: list[str] = []
        for provider in self._providers:
            outcome = await self._through(provider, message, body)
            if isinstance(outcome, DeliveryResult):
                return outcome
            failures.append(f"{provider.name}: {outcome}")
        raise TransientDeliveryError(f"{message.channel} not delivered: {'; '.join(failures)}")

    async def _through(
        self, provider: ProviderConfig, message: OutgoingMessage, body: dict[str, Any]
    ) -> DeliveryResult | str:
        """The result from `provider`, or why its last attempt failed once retrying is pointless."""
        for attempt in range(1, self._attempts + 1):
            try:
                return await self._traced_attempt(provider, message, body, attempt)
            except _RetryableError as failure:
                log.warning(
                    "provider attempt failed",
                    provider=provider.name,
                    channel=message.channel,
                    idempotency_key=message.idempotency_key,
                    attempt=attempt,
                    reason=failure.reason,
                )
                delay = self._delay(attempt, failure.retry_after)
                if attempt == self._attempts or delay is None:
                    return failure.reason
                await self._sleep(delay)
        raise AssertionError("attempts_per_provider is at least 1")  # pragma: no cover

    async def _traced_attempt(
        self, provider: ProviderConfig, message: OutgoingMessage, body: dict[str, Any], attempt: int
    ) -> DeliveryResult:
        """One attempt in a client span: the provider call, in the trace of the reminder's job (the
        provider gets its traceparent too). The URL is the provider's endpoint: no personal data."""
        path = PATHS[message.channel]
        url = provider.base_url.rstrip("/") + path
        attributes = {
            "http.request.method": "POST",
            "url.full": url,
            "reminders.provider": provider.name,
            "reminders.channel": message.channel,
            "reminders.idempotency_key": message.idempotency_key,
            "reminders.attempt": attempt,
        }
        with self._tracing.span(f"POST {path}", kind=SpanKind.CLIENT, attributes=attributes) as span:
            result, status = await self._attempt(provider, message, body, url)
            span.set_attribute("http.response.status_code", status)
            return result

    async def _attempt(
        self, provider: ProviderConfig, message: OutgoingMessage, body: dict[str, Any], url: str
    ) -> tuple[DeliveryResult, int]:
        headers = inject({"Idempotency-Key": message.idempotency_key, "X-Provider": provider.name})
        try:
            response = await self._client.post(url, json=body, headers=headers, timeout=provider.timeout_s)
        except httpx.TimeoutException as exc:
            raise _RetryableError(f"timed out ({type(exc).__name__})") from exc
        except httpx.TransportError as exc:
            raise _RetryableError(f"transport error ({type(exc).__name__})") from exc
        status = response.status_code
        if status >= 500 or status in RETRYABLE_4XX:
            raise _RetryableError(f"HTTP {status}", _retry_after(response))
        if not 200 <= status < 300:
            raise PermanentDeliveryError(f"{provider.name} refused the {message.channel}: HTTP {status}")
        try:
            provider_message_id = str(response.json()["id"])
        except (ValueError, KeyError, TypeError) as exc:
            # Taken or not, a retry under the same key is safe and gets a readable answer.
            raise _RetryableError(f"unreadable HTTP {status} answer") from exc
        result = DeliveryResult(
            provider=provider.name,
            provider_message_id=provider_message_id,
            status="duplicate" if status == 200 else "accepted",
        )
        return result, status

    def _delay(self, attempt: int, retry_after: float | None) -> float | None:
        """Seconds to wait before the next attempt, or None to fail over now (the provider asked for
        more patience than max_backoff_s)."""
        if retry_after is not None and retry_after > self._max_backoff_s:
            return None
        base = min(self._backoff_s * 2.0 ** (attempt - 1), self._max_backoff_s)
        # Jitter keeps many workers from retrying a recovering provider in lockstep; not security.
        delay = base * random.uniform(0.5, 1.0)  # noqa: S311
        return max(delay, retry_after or 0.0)
