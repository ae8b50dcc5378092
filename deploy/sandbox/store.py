"""In-memory record of what the sandbox providers received, and the faults armed against them.

Everything runs on one event loop, so no method awaits and none needs a lock.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

Channel = Literal["sms", "voice", "push", "email", "letter"]
HttpChannel = Literal["sms", "voice", "push", "letter"]
Provider = Literal["primary", "secondary"]

SMTP_PROVIDER = "smtp"


@dataclass(frozen=True, slots=True)
class Message:
    """One delivery as a provider saw it: one recipient, one channel."""

    channel: Channel
    provider: str
    to: str
    body: str
    sender: str | None = None
    subject: str | None = None
    idempotency_key: str | None = None
    message_id: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    received_at: datetime = field(default_factory=lambda: datetime.now(UTC))


class MessageStore:
    """Messages in arrival order, with idempotency keys scoped per channel and provider."""

    def __init__(self) -> None:
        self._messages: list[Message] = []
        self._by_key: dict[tuple[str, str, str], Message] = {}
        self._by_id: dict[str, Message] = {}

    def accept(self, message: Message) -> tuple[Message, bool]:
        """Store `message` unless its idempotency key was seen; return the stored one and
        whether it is new."""
        if message.idempotency_key is not None:
            scope = (message.channel, message.provider, message.idempotency_key)
            earlier = self._by_key.get(scope)
            if earlier is not None:
                return earlier, False
            self._by_key[scope] = message
        self._messages.append(message)
        self._by_id[message.id] = message
        return message, True

    def get(self, message_id: str) -> Message | None:
        return self._by_id.get(message_id)

    def list(self, *, to: str | None = None, channel: Channel | None = None) -> list[Message]:
        """Messages oldest first, optionally only those to one recipient or on one channel."""
        return [
            m
            for m in self._messages
            if (to is None or m.to == to) and (channel is None or m.channel == channel)
        ]

    def clear(self) -> None:
        self._messages.clear()
        self._by_key.clear()
        self._by_id.clear()


@dataclass(slots=True)
class Fault:
    remaining: int
    status: int


class FaultBook:
    """Failures armed per channel and provider: the next N calls answer with a given status."""

    def __init__(self) -> None:
        self._faults: dict[tuple[str, str], Fault] = {}

    def arm(self, channel: HttpChannel, provider: Provider, *, fail_next: int, status: int) -> None:
        if fail_next <= 0:
            self._faults.pop((channel, provider), None)
            return
        self._faults[(channel, provider)] = Fault(remaining=fail_next, status=status)

    def take(self, channel: HttpChannel, provider: Provider) -> int | None:
        """Consume one armed failure and return its status, or None when the call may pass."""
        fault = self._faults.get((channel, provider))
        if fault is None:
            return None
        fault.remaining -= 1
        if fault.remaining <= 0:
            del self._faults[(channel, provider)]
        return fault.status

    def clear(self) -> None:
        self._faults.clear()
