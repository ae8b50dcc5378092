"""The callbacks a real provider makes, made by the sandbox's: a delivery receipt for a message it
took, and a borrower's SMS reply. Each goes to reminders signed with the calling provider's secret
(common.webhooks), and the sandbox answers with what reminders answered."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

import httpx
import orjson
from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field

from common.problems import ProblemError
from common.webhooks import signed_headers
from sandbox.api import Chosen, StoreDep

if TYPE_CHECKING:
    from sandbox.app import SandboxSettings

router = APIRouter()


class ReplyIn(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    from_: str = Field(alias="from", min_length=1)
    to: str = Field(min_length=1)
    text: str = Field(min_length=1)


class ReceiptIn(BaseModel):
    status: Literal["delivered", "failed", "bounced"]


class Forwarded(BaseModel):
    """What reminders answered the signed callback."""

    status: int
    answer: Any


@router.post("/v1/replies")
async def reply(body: ReplyIn, request: Request, provider: Chosen) -> Forwarded:
    """A borrower's SMS reply reaches `provider`, which posts it to reminders' inbound webhook."""
    inbound = {"from": body.from_, "to": body.to, "text": body.text, "received_at": _now()}
    return await _post(request, provider, "/v1/inbound/sms", inbound)


@router.post("/v1/messages/{message_id}/receipt")
async def receipt(message_id: str, body: ReceiptIn, request: Request, store: StoreDep) -> Forwarded:
    """The provider that took message `message_id` reports what became of it."""
    message = store.get(message_id)
    if message is None:
        raise ProblemError(404, "no message with this id")
    update = {"provider_message_id": message.id, "status": body.status, "at": _now()}
    return await _post(request, message.provider, f"/v1/receipts/{message.provider}", update)


def _now() -> str:
    return datetime.now(UTC).isoformat()


async def _post(request: Request, provider: str, path: str, payload: dict[str, str]) -> Forwarded:
    settings: SandboxSettings = request.app.state.settings
    secret = settings.webhook_secrets.get(provider)
    if settings.reminders_url is None or secret is None:
        raise ProblemError(
            503, f"the sandbox was started without --reminders-url or a webhook secret for {provider!r}"
        )
    url = httpx.URL(settings.reminders_url.rstrip("/") + path)
    content = orjson.dumps(payload)
    headers = signed_headers(
        provider,
        secret,
        method="POST",
        target=url.raw_path.decode("ascii"),
        body=content,
        timestamp=int(time.time()),
    )
    try:
        async with httpx.AsyncClient(timeout=10) as client:
            response = await client.post(
                url, content=content, headers={**headers, "content-type": "application/json"}
            )
    except httpx.HTTPError as exc:
        raise ProblemError(502, f"reminders did not answer the callback: {exc}") from None
    try:
        answer: Any = response.json()
    except ValueError:
        answer = response.text
    return Forwarded(status=response.status_code, answer=answer)
