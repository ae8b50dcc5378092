"""What every channel adapter takes and returns, and the two ways a delivery fails."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Protocol

ChannelName = Literal["sms", "email", "push", "voice_call", "letter"]


@dataclass(frozen=True)
class OutgoingMessage:
    """One rendered message to one recipient. `to` is a phone number, an e-mail address, a device
    token or a postal address in clear; it and the text stay out of repr so a message in a traceback
    leaks nothing. `idempotency_key` is stable across retries of the same reminder (e.g. the job id)."""

    channel: ChannelName
    to: str = field(repr=False)
    body: str = field(repr=False)
    subject: str | None = field(repr=False)
    idempotency_key: str
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class DeliveryResult:
    """A provider took the message (`accepted`) or had already taken it under this key (`duplicate`)."""

    provider: str
    provider_message_id: str
    status: Literal["accepted", "duplicate"]


class DeliveryError(Exception):
    """A message was not delivered; the message never names the recipient or repeats the text."""


class PermanentDeliveryError(DeliveryError):
    """The provider refused the message itself (a 4xx other than 408/429, a 5xx SMTP reply): retrying
    or failing over would be refused again."""


class TransientDeliveryError(DeliveryError):
    """Every provider failed with errors that may pass (5xx, 408, 429, timeouts, lost connections)
    after the configured retries: the job may be tried again later with the same idempotency key."""


class ChannelAdapter(Protocol):
    """Sends one message on the channels it serves."""

    async def send(self, message: OutgoingMessage) -> DeliveryResult: ...
