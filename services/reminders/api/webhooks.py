"""Who may call the provider webhooks (SPEC section 7): a provider by its HMAC signature, or ops by
token, metered per tenant so nobody can probe phone numbers through them at speed."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, Request

from common.access import Can, may
from common.auth import Principal, get_principal
from common.problems import ProblemError
from common.ratelimit import TenantRateLimiter
from common.webhooks import (
    PROVIDER_HEADER,
    SIGNATURE_HEADER,
    SignatureError,
    load_secrets,
    target_of,
    verify,
)
from reminders.settings import RemindersSettings

NEEDS = frozenset({Can.WEBHOOKS})


@dataclass(frozen=True)
class WebhookGate:
    """Each provider's secret, how old a signature may be, and the meter of ops tokens."""

    secrets: dict[str, bytes]
    tolerance_s: float
    ops_limiter: TenantRateLimiter = field(repr=False)

    @classmethod
    def of(cls, settings: RemindersSettings) -> WebhookGate:
        path = settings.webhook_secrets_file
        return cls(
            secrets=load_secrets(path) if path is not None else {},
            tolerance_s=settings.webhook_tolerance_s,
            ops_limiter=TenantRateLimiter(
                rate_per_s=settings.webhook_rate_per_s, burst=settings.webhook_burst, unit="requests"
            ),
        )


async def webhook_caller(request: Request) -> Principal | None:
    """None for a call its provider signed (`X-Signature`, see common.webhooks); else the ops or
    admin caller of the bearer token, within its tenant's rate."""
    gate: WebhookGate = request.app.state.webhooks
    header = request.headers.get(SIGNATURE_HEADER)
    if header is None:
        principal = await get_principal(request)
        if not may(principal.role, NEEDS):
            raise ProblemError(403, f"role {principal.role.value!r} may not call provider webhooks")
        gate.ops_limiter.take(principal.tenant)
        return principal
    provider = request.path_params.get("provider") or request.headers.get(PROVIDER_HEADER, "")
    secret = gate.secrets.get(provider)
    if secret is None:
        raise ProblemError(401, f"no webhook secret is configured for provider {provider!r}")
    try:
        verify(
            header,
            secret,
            method=request.method,
            target=target_of(request.url.path, request.url.query),
            body=await request.body(),
            now=time.time(),  # wall time, not the service's clock: tests may move that by days
            tolerance_s=gate.tolerance_s,
        )
    except SignatureError as exc:
        raise ProblemError(401, str(exc)) from None
    return None


webhook_caller.needs = NEEDS  # type: ignore[attr-defined]  # what common.access's route checks read

Webhook = Annotated[Principal | None, Depends(webhook_caller)]


async def answer_no_sooner(started: float, floor_s: float) -> None:
    """Wait until `floor_s` has passed since `started` (time.monotonic)."""
    await asyncio.sleep(max(0.0, started + floor_s - time.monotonic()))
