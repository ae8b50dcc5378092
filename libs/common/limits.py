"""Request limits every service enforces (SPEC section 7): a body larger than the service takes is
refused with 413 before it is read into memory, and each tenant's requests are metered (429 with
Retry-After) once the token names the tenant, so one tenant's flood does not slow the others.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import orjson

from common.ratelimit import TenantRateLimiter

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
# A declared body over the limit but under this is read and dropped before the 413, so a client that
# sends the whole body before it listens still hears why; a larger one is cut off at once.
DRAIN_LIMIT = 64 * 1024 * 1024


class BodyLimit:
    """ASGI middleware: 413 for a declared Content-Length over `max_bytes`; a body sent without one
    (chunked) is read up to `max_bytes` and refused the moment it goes over."""

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None:
            if declared > self.max_bytes:
                if declared <= DRAIN_LIMIT:  # read it off the wire unkept, so the client hears the 413
                    await _drain(receive)
                await self._refuse(send)
                return
            await self.app(scope, receive, send)
            return
        if scope.get("method") in ("GET", "HEAD", "OPTIONS", "DELETE"):
            await self.app(scope, receive, send)
            return
        # No length declared: take the body in, counting, then hand it on as it came.
        messages: list[Message] = []
        size = 0
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break
            size += len(message.get("body", b""))
            if size > self.max_bytes:
                await self._refuse(send)
                return
            if not message.get("more_body", False):
                break

        async def replay() -> Message:
            return messages.pop(0) if messages else await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, send: Send) -> None:
        body = orjson.dumps(
            {
                "type": "about:blank",
                "title": "Payload Too Large",
                "status": 413,
                "detail": f"the body is larger than this service takes ({self.max_bytes} bytes)",
            }
        )
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/problem+json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


async def _drain(receive: Receive) -> None:
    while True:
        message = await receive()
        if message["type"] != "http.request" or not message.get("more_body", False):
            return


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


def request_limiter(rate_per_s: float, burst: float) -> TenantRateLimiter:
    """The per-tenant meter of authenticated requests (one token per request)."""
    return TenantRateLimiter(rate_per_s=rate_per_s, burst=burst, unit="requests")
