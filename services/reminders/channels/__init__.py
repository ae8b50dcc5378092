"""Delivery of rendered reminders: one adapter per channel behind `ChannelAdapter`, and `Channels`,
which routes a message to the adapter of its channel.

SMS, voice, push and letters go through `HttpGateway` (retries, failover between providers); e-mail
through `SmtpMailer`. Each channel may have its own gateway, as real SMS and push providers differ.
"""

from __future__ import annotations

from reminders.channels.base import (
    ChannelAdapter,
    ChannelName,
    DeliveryError,
    DeliveryResult,
    OutgoingMessage,
    PermanentDeliveryError,
    TransientDeliveryError,
)
from reminders.channels.email import SmtpMailer
from reminders.channels.http_provider import HttpGateway, ProviderConfig


class Channels:
    """Routes each message to the adapter configured for its channel."""

    def __init__(
        self,
        *,
        sms: ChannelAdapter | None = None,
        email: ChannelAdapter | None = None,
        push: ChannelAdapter | None = None,
        voice_call: ChannelAdapter | None = None,
        letter: ChannelAdapter | None = None,
    ) -> None:
        adapters = (
            ("sms", sms),
            ("email", email),
            ("push", push),
            ("voice_call", voice_call),
            ("letter", letter),
        )
        self._adapters: dict[str, ChannelAdapter] = {
            name: adapter for name, adapter in adapters if adapter is not None
        }

    @classmethod
    def of(cls, *, gateway: ChannelAdapter, mailer: ChannelAdapter) -> Channels:
        """SMS, voice, push and letters through one HTTP gateway; e-mail through one mailer."""
        return cls(sms=gateway, push=gateway, voice_call=gateway, letter=gateway, email=mailer)

    def serves(self, channel: str) -> bool:
        return channel in self._adapters

    async def deliver(self, message: OutgoingMessage) -> DeliveryResult:
        """Send `message` on its channel; PermanentDeliveryError when no adapter serves that channel."""
        adapter = self._adapters.get(message.channel)
        if adapter is None:
            raise PermanentDeliveryError(f"no adapter configured for {message.channel}")
        return await adapter.send(message)


__all__ = [
    "ChannelAdapter",
    "ChannelName",
    "Channels",
    "DeliveryError",
    "DeliveryResult",
    "HttpGateway",
    "OutgoingMessage",
    "PermanentDeliveryError",
    "ProviderConfig",
    "SmtpMailer",
    "TransientDeliveryError",
]
