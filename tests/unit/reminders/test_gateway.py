"""HttpGateway against the sandbox providers: idempotency, retries, failover and permanent refusals."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from reminders.channels import (
    Channels,
    HttpGateway,
    OutgoingMessage,
    PermanentDeliveryError,
    ProviderConfig,
    SmtpMailer,
    TransientDeliveryError,
)
from tests.unit.reminders.inbox import arm_fault, received

pytestmark = pytest.mark.unit

PHONE = "+8613800138000"
PROVIDERS = [
    ProviderConfig(name="primary", base_url="http://sandbox", timeout_s=2),
    ProviderConfig(name="secondary", base_url="http://sandbox/", timeout_s=2),
]
Sleep = Callable[[float], Awaitable[None]]


def sms(
    key: str = "job-1", *, to: str = PHONE, body: str = "【安信资产】您好，请及时还款。回T退订"
) -> OutgoingMessage:
    return OutgoingMessage(channel="sms", to=to, body=body, subject=None, idempotency_key=key)


def gateway(client: httpx.AsyncClient, sleep: Sleep, **options: Any) -> HttpGateway:
    return HttpGateway(
        PROVIDERS, attempts_per_provider=3, backoff_s=0.2, client=client, sleep=sleep, **options
    )


class FlakyTransport(httpx.AsyncBaseTransport):
    """Lets a test decide, per provider, to raise or answer before the sandbox sees the request; a
    failure callable returning None lets the request through."""

    def __init__(self, app: FastAPI, failures: dict[str, Callable[[], httpx.Response | None]]) -> None:
        self._inner = httpx.ASGITransport(app=app)
        self._failures = failures
        self.calls: list[str] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        provider = request.headers["X-Provider"]
        self.calls.append(provider)
        answer = self._failures[provider]() if provider in self._failures else None
        return answer if answer is not None else await self._inner.handle_async_request(request)


class TestDelivery:
    async def test_sms_is_accepted_by_the_primary(
        self, sandbox_client: httpx.AsyncClient, sleep: Sleep
    ) -> None:
        result = await gateway(sandbox_client, sleep).send(sms())

        assert (result.provider, result.status) == ("primary", "accepted")
        [stored] = await received(sandbox_client, to=PHONE)
        assert stored["id"] == result.provider_message_id
        assert (stored["channel"], stored["provider"], stored["idempotency_key"]) == (
            "sms",
            "primary",
            "job-1",
        )
        assert stored["body"] == "【安信资产】您好，请及时还款。回T退订"

    @pytest.mark.parametrize(
        ("message", "channel", "subject"),
        [
            (OutgoingMessage("voice_call", PHONE, "您好，这是还款提醒。", None, "job-v"), "voice", None),
            (
                OutgoingMessage("push", "device-token-1", "You have a new message.", "Acme", "job-p"),
                "push",
                "Acme",
            ),
        ],
    )
    async def test_voice_and_push_use_their_endpoints(
        self,
        sandbox_client: httpx.AsyncClient,
        sleep: Sleep,
        message: OutgoingMessage,
        channel: str,
        subject: str | None,
    ) -> None:
        result = await gateway(sandbox_client, sleep).send(message)

        [stored] = await received(sandbox_client, to=message.to)
        assert (stored["id"], stored["channel"], stored["subject"]) == (
            result.provider_message_id,
            channel,
            subject,
        )
        assert stored["body"] == message.body

    async def test_resend_under_the_same_key_is_a_duplicate(
        self, sandbox_client: httpx.AsyncClient, sleep: Sleep
    ) -> None:
        first = await gateway(sandbox_client, sleep).send(sms("job-1"))
        again = await gateway(sandbox_client, sleep).send(sms("job-1"))
        other = await gateway(sandbox_client, sleep).send(sms("job-2"))

        assert (first.status, again.status, other.status) == ("accepted", "duplicate", "accepted")
        assert again.provider_message_id == first.provider_message_id
        assert len(await received(sandbox_client, to=PHONE)) == 2

    async def test_email_is_not_an_http_channel(
        self, sandbox_client: httpx.AsyncClient, sleep: Sleep
    ) -> None:
        message = OutgoingMessage("email", "a@example.cn", "b", "s", "job-e")
        with pytest.raises(ValueError, match="does not carry email"):
            await gateway(sandbox_client, sleep).send(message)


class TestRetries:
    @pytest.mark.parametrize("status", [500, 502, 503, 408, 429])
    async def test_transient_answers_are_retried_on_the_same_provider(
        self, sandbox_client: httpx.AsyncClient, sleep: Sleep, delays: list[float], status: int
    ) -> None:
        await arm_fault(sandbox_client, channel="sms", provider="primary", fail_next=2, status=status)

        result = await gateway(sandbox_client, sleep).send(sms())

        assert (result.provider, result.status) == ("primary", "accepted")
        [stored] = await received(sandbox_client, to=PHONE)
        assert stored["provider"] == "primary"
        assert len(delays) == 2
        # Exponential with jitter in [50%, 100%] of 0.2 s, then of 0.4 s.
        assert 0.1 <= delays[0] <= 0.2
        assert 0.2 <= delays[1] <= 0.4

    async def test_fails_over_after_the_primary_fails_every_attempt(
        self, sandbox_client: httpx.AsyncClient, sleep: Sleep, delays: list[float]
    ) -> None:
        await arm_fault(sandbox_client, channel="sms", provider="primary", fail_next=3)

        result = await gateway(sandbox_client, sleep).send(sms("job-7"))

        assert (result.provider, result.status) == ("secondary", "accepted")
        [stored] = await received(sandbox_client, to=PHONE)
        assert (stored["provider"], stored["idempotency_key"]) == ("secondary", "job-7")
        assert len(delays) == 2  # no wait before failing over

    async def test_every_provider_failing_is_transient(
        self, sandbox_client: httpx.AsyncClient, sleep: Sleep, delays: list[float]
    ) -> None:
        await arm_fault(sandbox_client, channel="sms", provider="primary", fail_next=10)
        await arm_fault(sandbox_client, channel="sms", provider="secondary", fail_next=10, status=500)

        with pytest.raises(TransientDeliveryError) as failure:
            await gateway(sandbox_client, sleep).send(sms())

        assert "primary: HTTP 503" in str(failure.value)
        assert "secondary: HTTP 500" in str(failure.value)
        assert PHONE not in str(failure.value)
        assert len(delays) == 4
        assert await received(sandbox_client) == []

    async def test_connection_errors_and_timeouts_fail_over(self, sandbox: FastAPI, sleep: Sleep) -> None:
        attempts = iter(
            [httpx.ConnectError("refused"), httpx.ReadTimeout("slow"), httpx.ConnectError("again")]
        )

        def fail() -> httpx.Response:
            raise next(attempts)

        transport = FlakyTransport(sandbox, {"primary": fail})
        async with httpx.AsyncClient(transport=transport) as client:
            result = await gateway(client, sleep).send(sms())

        assert result.provider == "secondary"
        assert transport.calls == ["primary", "primary", "primary", "secondary"]

    async def test_a_long_retry_after_fails_over_at_once(self, sandbox: FastAPI, sleep: Sleep) -> None:
        transport = FlakyTransport(
            sandbox, {"primary": lambda: httpx.Response(429, headers={"Retry-After": "120"})}
        )
        async with httpx.AsyncClient(transport=transport) as client:
            result = await gateway(client, sleep, max_backoff_s=5).send(sms())

        assert result.provider == "secondary"
        assert transport.calls == ["primary", "secondary"]

    async def test_a_short_retry_after_is_honoured(
        self, sandbox: FastAPI, sleep: Sleep, delays: list[float]
    ) -> None:
        answers = iter([httpx.Response(503, headers={"Retry-After": "3"})])
        transport = FlakyTransport(sandbox, {"primary": lambda: next(answers, None)})
        async with httpx.AsyncClient(transport=transport) as client:
            result = await gateway(client, sleep, max_backoff_s=5).send(sms())

        assert result.provider == "primary"
        assert transport.calls == ["primary", "primary"]
        assert delays == [3.0]

    async def test_an_unreadable_success_is_retried_under_the_same_key(
        self, sandbox: FastAPI, sandbox_client: httpx.AsyncClient, sleep: Sleep
    ) -> None:
        # The provider took the message but its answer was lost: the retry is answered "duplicate".
        inner = httpx.ASGITransport(app=sandbox)
        garbled = {"done": False}

        class Garbling(httpx.AsyncBaseTransport):
            async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
                response = await inner.handle_async_request(request)
                if not garbled["done"]:
                    garbled["done"] = True
                    return httpx.Response(201, content=b"<html>gateway</html>")
                return response

        async with httpx.AsyncClient(transport=Garbling()) as client:
            result = await gateway(client, sleep).send(sms("job-9"))

        assert (result.provider, result.status) == ("primary", "duplicate")
        assert len(await received(sandbox_client, to=PHONE)) == 1


class TestPermanent:
    @pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 422])
    async def test_a_4xx_is_permanent_without_retry_or_failover(
        self, sandbox_client: httpx.AsyncClient, sleep: Sleep, delays: list[float], status: int
    ) -> None:
        await arm_fault(sandbox_client, channel="sms", provider="primary", fail_next=1, status=status)

        with pytest.raises(PermanentDeliveryError, match=f"primary refused the sms: HTTP {status}"):
            await gateway(sandbox_client, sleep).send(sms())

        assert delays == []
        assert await received(sandbox_client) == []

    async def test_a_request_the_provider_rejects_is_permanent(
        self, sandbox_client: httpx.AsyncClient, sleep: Sleep
    ) -> None:
        with pytest.raises(PermanentDeliveryError, match="HTTP 422"):
            await gateway(sandbox_client, sleep).send(sms(body=""))

    def test_a_gateway_needs_providers(self, sandbox_client: httpx.AsyncClient) -> None:
        with pytest.raises(ValueError, match="at least one provider"):
            HttpGateway([], client=sandbox_client)


class TestChannels:
    async def test_routes_each_channel_to_its_adapter(
        self, sandbox: FastAPI, sandbox_client: httpx.AsyncClient, sleep: Sleep
    ) -> None:
        mailer = SmtpMailer("127.0.0.1", sandbox.state.smtp_port, "reminders@agency.example", timeout_s=5)
        channels = Channels.of(gateway=gateway(sandbox_client, sleep), mailer=mailer)

        texted = await channels.deliver(sms())
        mailed = await channels.deliver(
            OutgoingMessage("email", "borrower@example.cn", "正文", "提醒", "job-m")
        )

        assert (texted.provider, mailed.provider) == ("primary", "smtp")
        assert [m["channel"] for m in await received(sandbox_client)] == ["sms", "email"]

    async def test_a_channel_without_adapter_is_permanent(
        self, sandbox_client: httpx.AsyncClient, sleep: Sleep
    ) -> None:
        channels = Channels(sms=gateway(sandbox_client, sleep))
        assert channels.serves("sms")
        assert not channels.serves("push")
        with pytest.raises(PermanentDeliveryError, match="no adapter configured for push"):
            await channels.deliver(OutgoingMessage("push", "tok", "b", None, "job-p"))

    def test_repr_hides_recipient_and_text(self) -> None:
        shown = repr(sms())
        assert PHONE not in shown
        assert "还款" not in shown
        assert "job-1" in shown
