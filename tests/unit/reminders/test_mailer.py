"""SmtpMailer against real aiosmtpd servers: the sandbox inbox, and relays that defer or refuse."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Awaitable, Callable

import httpx
import pytest
from aiosmtpd.smtp import SMTP, Envelope, Session
from fastapi import FastAPI

from reminders.channels import OutgoingMessage, PermanentDeliveryError, SmtpMailer, TransientDeliveryError
from reminders.channels.email import message_id
from tests.unit.reminders.inbox import received

pytestmark = pytest.mark.unit

MAILBOX = "borrower@example.cn"
SENDER = "安信资产 <reminders@agency.example>"
UNSUBSCRIBE = "<mailto:unsubscribe@agency.example?subject=stop>, <https://agency.example/u/abc123>"
SUBJECT = "华信贷款还款提醒"
BODY = "您好：\n\n您的借款待还金额为 CNY 1,234.50，到期日为2026-10-15。\n\n如不希望再收到此类邮件，请回复“退订”。"
Sleep = Callable[[float], Awaitable[None]]


def reminder(key: str = "job-1", **headers: str) -> OutgoingMessage:
    return OutgoingMessage(
        channel="email", to=MAILBOX, body=BODY, subject=SUBJECT, idempotency_key=key, headers=headers
    )


class Relay:
    """An aiosmtpd handler whose RCPT and DATA replies a test scripts; then it accepts."""

    def __init__(self, *, data: list[str] | None = None, rcpt: str | None = None) -> None:
        self.data_replies = list(data or [])
        self.rcpt_reply = rcpt
        self.data_calls = 0
        self.rcpt_calls = 0

    async def handle_RCPT(  # noqa: N802 - the name aiosmtpd dispatches to
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        self.rcpt_calls += 1
        if self.rcpt_reply is not None:
            return self.rcpt_reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(  # noqa: N802 - the name aiosmtpd dispatches to
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        self.data_calls += 1
        return self.data_replies.pop(0) if self.data_replies else "250 Message accepted for delivery"


@pytest.fixture
async def serve() -> AsyncIterator[Callable[[Relay], Awaitable[int]]]:
    servers: list[asyncio.Server] = []

    async def start(relay: Relay) -> int:
        loop = asyncio.get_running_loop()
        server = await loop.create_server(lambda: SMTP(relay, hostname="relay", loop=loop), "127.0.0.1", 0)
        servers.append(server)
        port: int = server.sockets[0].getsockname()[1]
        return port

    yield start
    for server in servers:
        server.close()
        await server.wait_closed()


def mailer(port: int, sleep: Sleep) -> SmtpMailer:
    return SmtpMailer("127.0.0.1", port, SENDER, timeout_s=5, backoff_s=0.5, sleep=sleep)


class TestDelivery:
    async def test_utf8_email_reaches_the_inbox(
        self, sandbox: FastAPI, sandbox_client: httpx.AsyncClient, sleep: Sleep
    ) -> None:
        result = await mailer(sandbox.state.smtp_port, sleep).send(
            reminder(**{"List-Unsubscribe": UNSUBSCRIBE, "Content-Language": "zh-CN"})
        )

        [stored] = await received(sandbox_client, to=MAILBOX)
        assert (result.provider, result.status) == ("smtp", "accepted")
        assert result.provider_message_id == stored["message_id"] == message_id("job-1", SENDER)
        assert (stored["channel"], stored["subject"], stored["from"]) == ("email", SUBJECT, SENDER)
        assert stored["body"].rstrip("\n") == BODY
        assert stored["headers"]["List-Unsubscribe"] == UNSUBSCRIBE
        assert stored["headers"]["Content-Language"] == "zh-CN"

    async def test_a_resend_carries_the_same_message_id(
        self, sandbox: FastAPI, sandbox_client: httpx.AsyncClient, sleep: Sleep
    ) -> None:
        smtp = mailer(sandbox.state.smtp_port, sleep)
        first = await smtp.send(reminder("job-1"))
        again = await smtp.send(reminder("job-1"))
        other = await smtp.send(reminder("job-2"))

        stored = await received(sandbox_client, to=MAILBOX)
        assert [m["message_id"] for m in stored] == [
            first.provider_message_id,
            first.provider_message_id,
            other.provider_message_id,
        ]
        assert again.provider_message_id == first.provider_message_id != other.provider_message_id

    def test_message_id_is_opaque_and_in_the_sender_domain(self) -> None:
        made = message_id("tenant-a/job 1", SENDER)
        assert made.startswith("<") and made.endswith("@agency.example>")
        assert "job" not in made
        assert message_id("tenant-a/job 1", SENDER) == made
        assert message_id("x", "no-domain").endswith("@reminders.invalid>")

    async def test_no_list_unsubscribe_unless_given(
        self, sandbox: FastAPI, sandbox_client: httpx.AsyncClient, sleep: Sleep
    ) -> None:
        await mailer(sandbox.state.smtp_port, sleep).send(reminder())
        [stored] = await received(sandbox_client, to=MAILBOX)
        assert "List-Unsubscribe" not in stored["headers"]


class TestFailures:
    async def test_a_deferred_message_is_retried(
        self, serve: Callable[[Relay], Awaitable[int]], sleep: Sleep, delays: list[float]
    ) -> None:
        relay = Relay(data=["451 4.3.0 Try again later", "421 4.7.0 Busy"])
        result = await mailer(await serve(relay), sleep).send(reminder())

        assert result.status == "accepted"
        assert relay.data_calls == 3
        assert len(delays) == 2
        assert 0.25 <= delays[0] <= 0.5
        assert 0.5 <= delays[1] <= 1.0

    async def test_deferrals_outlasting_the_retries_are_transient(
        self, serve: Callable[[Relay], Awaitable[int]], sleep: Sleep
    ) -> None:
        relay = Relay(data=["451 4.3.0 Try again later"] * 5)
        with pytest.raises(TransientDeliveryError, match="451"):
            await mailer(await serve(relay), sleep).send(reminder())
        assert relay.data_calls == 3

    async def test_a_refused_recipient_is_permanent_at_once(
        self, serve: Callable[[Relay], Awaitable[int]], sleep: Sleep, delays: list[float]
    ) -> None:
        relay = Relay(rcpt="550 5.1.1 No such user")
        with pytest.raises(PermanentDeliveryError, match="550") as refused:
            await mailer(await serve(relay), sleep).send(reminder())
        assert MAILBOX not in str(refused.value)
        assert relay.rcpt_calls == 1
        assert delays == []

    async def test_a_refused_message_is_permanent(
        self, serve: Callable[[Relay], Awaitable[int]], sleep: Sleep
    ) -> None:
        relay = Relay(data=["554 5.7.1 Message rejected"])
        with pytest.raises(PermanentDeliveryError, match="554"):
            await mailer(await serve(relay), sleep).send(reminder())
        assert relay.data_calls == 1

    async def test_no_relay_listening_is_transient(self, sleep: Sleep, delays: list[float]) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            closed_port = probe.getsockname()[1]
        with pytest.raises(TransientDeliveryError, match="SMTPConnectError"):
            await mailer(closed_port, sleep).send(reminder())
        assert len(delays) == 2

    @pytest.mark.parametrize(
        ("headers", "match"),
        [
            ({"Bcc": "everyone@example.cn"}, "not allowed: Bcc"),
            ({"List-Unsubscribe": "<https://x.example/u>\r\nBcc: everyone@example.cn"}, "header rejected"),
        ],
    )
    async def test_headers_outside_the_allowlist_or_with_line_breaks_are_refused(
        self, sleep: Sleep, headers: dict[str, str], match: str
    ) -> None:
        with pytest.raises(PermanentDeliveryError, match=match):
            await mailer(1, sleep).send(reminder(**headers))

    async def test_only_email_goes_through_the_mailer(self, sleep: Sleep) -> None:
        message = OutgoingMessage("sms", "+8613800138000", "b", None, "job-1")
        with pytest.raises(ValueError, match="does not carry sms"):
            await mailer(1, sleep).send(message)
