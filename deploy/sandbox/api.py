"""HTTP side of the sandbox: SMS, voice, push and print-and-mail gateways, fault injection and the inbox."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Header, Query, Request, Response, status
from pydantic import BaseModel, ConfigDict, Field

from common.problems import ProblemError
from sandbox.store import Channel, FaultBook, HttpChannel, Message, MessageStore, Provider

router = APIRouter()


def _store(request: Request) -> MessageStore:
    store: MessageStore = request.app.state.store
    return store


def _faults(request: Request) -> FaultBook:
    faults: FaultBook = request.app.state.faults
    return faults


StoreDep = Annotated[MessageStore, Depends(_store)]
FaultsDep = Annotated[FaultBook, Depends(_faults)]
IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", min_length=1)]
ProviderHeader = Annotated[Provider | None, Header(alias="X-Provider")]
ProviderQuery = Annotated[Provider | None, Query(alias="provider")]


class SmsIn(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    to: str = Field(min_length=1)
    from_: str | None = Field(default=None, alias="from")
    text: str = Field(min_length=1)


class VoiceIn(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    to: str = Field(min_length=1)
    from_: str | None = Field(default=None, alias="from")
    script: str = Field(min_length=1)


class PushIn(BaseModel):
    device_token: str = Field(min_length=1)
    title: str | None = None
    body: str = Field(min_length=1)


class LetterIn(BaseModel):
    """A letter to print and mail: the recipient's postal address on one line, a subject, the text."""

    to: str = Field(min_length=1)
    subject: str | None = None
    body: str = Field(min_length=1)


class Accepted(BaseModel):
    id: str
    status: Literal["accepted"] = "accepted"


class FaultIn(BaseModel):
    channel: HttpChannel
    provider: Provider = "primary"
    fail_next: int = Field(ge=0, le=10_000)
    status: int = Field(default=503, ge=400, le=599)


class MessageOut(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    id: str
    channel: Channel
    provider: str
    to: str
    from_: str | None = Field(alias="from")
    subject: str | None
    body: str
    received_at: datetime
    idempotency_key: str | None
    message_id: str | None
    headers: dict[str, str]

    @classmethod
    def of(cls, message: Message) -> MessageOut:
        return cls(
            id=message.id,
            channel=message.channel,
            provider=message.provider,
            to=message.to,
            from_=message.sender,
            subject=message.subject,
            body=message.body,
            received_at=message.received_at,
            idempotency_key=message.idempotency_key,
            message_id=message.message_id,
            headers=message.headers,
        )


class MessagesOut(BaseModel):
    messages: list[MessageOut]


def chosen_provider(x_provider: ProviderHeader = None, provider: ProviderQuery = None) -> Provider:
    """Which of the two configured providers was called: header first, then query, else primary."""
    return x_provider or provider or "primary"


Chosen = Annotated[Provider, Depends(chosen_provider)]


def _deliver(store: MessageStore, faults: FaultBook, response: Response, message: Message) -> Accepted:
    channel: HttpChannel = message.channel  # type: ignore[assignment]
    provider: Provider = message.provider  # type: ignore[assignment]
    failure = faults.take(channel, provider)
    if failure is not None:
        raise ProblemError(failure, f"injected fault on {channel}/{provider}")
    stored, new = store.accept(message)
    if not new:
        response.status_code = status.HTTP_200_OK
    return Accepted(id=stored.id)


@router.post("/v1/sms", status_code=status.HTTP_201_CREATED)
async def send_sms(
    body: SmsIn,
    store: StoreDep,
    faults: FaultsDep,
    response: Response,
    provider: Chosen,
    idempotency_key: IdempotencyKey = None,
) -> Accepted:
    message = Message(
        channel="sms",
        provider=provider,
        to=body.to,
        sender=body.from_,
        body=body.text,
        idempotency_key=idempotency_key,
    )
    return _deliver(store, faults, response, message)


@router.post("/v1/voice", status_code=status.HTTP_201_CREATED)
async def place_call(
    body: VoiceIn,
    store: StoreDep,
    faults: FaultsDep,
    response: Response,
    provider: Chosen,
    idempotency_key: IdempotencyKey = None,
) -> Accepted:
    message = Message(
        channel="voice",
        provider=provider,
        to=body.to,
        sender=body.from_,
        body=body.script,
        idempotency_key=idempotency_key,
    )
    return _deliver(store, faults, response, message)


@router.post("/v1/push", status_code=status.HTTP_201_CREATED)
async def send_push(
    body: PushIn,
    store: StoreDep,
    faults: FaultsDep,
    response: Response,
    provider: Chosen,
    idempotency_key: IdempotencyKey = None,
) -> Accepted:
    message = Message(
        channel="push",
        provider=provider,
        to=body.device_token,
        subject=body.title,
        body=body.body,
        idempotency_key=idempotency_key,
    )
    return _deliver(store, faults, response, message)


@router.post("/v1/letters", status_code=status.HTTP_201_CREATED)
async def mail_letter(
    body: LetterIn,
    store: StoreDep,
    faults: FaultsDep,
    response: Response,
    provider: Chosen,
    idempotency_key: IdempotencyKey = None,
) -> Accepted:
    message = Message(
        channel="letter",
        provider=provider,
        to=body.to,
        subject=body.subject,
        body=body.body,
        idempotency_key=idempotency_key,
    )
    return _deliver(store, faults, response, message)


@router.post("/v1/faults", status_code=status.HTTP_201_CREATED)
async def arm_fault(body: FaultIn, faults: FaultsDep) -> FaultIn:
    faults.arm(body.channel, body.provider, fail_next=body.fail_next, status=body.status)
    return body


@router.delete("/v1/faults", status_code=status.HTTP_204_NO_CONTENT)
async def clear_faults(faults: FaultsDep) -> None:
    faults.clear()


@router.get("/v1/messages")
async def list_messages(
    store: StoreDep,
    to: Annotated[str | None, Query()] = None,
    channel: Annotated[Channel | None, Query()] = None,
) -> MessagesOut:
    return MessagesOut(messages=[MessageOut.of(m) for m in store.list(to=to, channel=channel)])


@router.delete("/v1/messages", status_code=status.HTTP_204_NO_CONTENT)
async def clear_messages(store: StoreDep) -> None:
    store.clear()


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}
