"""The sandbox providers, in process: HTTP through ASGI, SMTP through a real socket."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from email.message import EmailMessage
from typing import Any

import aiosmtplib
import httpx
import pytest
from fastapi import FastAPI

from sandbox.app import SandboxSettings, create_app

pytestmark = pytest.mark.unit

PHONE = "+8613800138000"
OTHER_PHONE = "+8613900139000"
MAILBOX = "borrower@example.cn"
UNSUBSCRIBE = "<mailto:unsubscribe@lender.example?subject=stop>, <https://lender.example/u/abc123>"


@pytest.fixture
async def app() -> AsyncIterator[FastAPI]:
    sandbox = create_app(SandboxSettings(smtp_host="127.0.0.1", smtp_port=0))
    async with sandbox.router.lifespan_context(sandbox):
        yield sandbox


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sandbox") as http:
        yield http


async def messages(client: httpx.AsyncClient, **params: str) -> list[dict[str, Any]]:
    response = await client.get("/v1/messages", params=params)
    assert response.status_code == 200
    listed: list[dict[str, Any]] = response.json()["messages"]
    return listed


async def send_sms(
    client: httpx.AsyncClient, to: str = PHONE, text: str = "hi", *, key: str | None = None
) -> httpx.Response:
    headers = {"Idempotency-Key": key} if key else {}
    return await client.post("/v1/sms", json={"to": to, "text": text}, headers=headers)


def chinese_reminder(*recipients: str, cte: str | None = None) -> EmailMessage:
    email = EmailMessage()
    email["From"] = "华信贷款 <reminders@lender.example>"
    email["To"] = ", ".join(recipients)
    email["Subject"] = "还款提醒：您的账户 42 已逾期 3 天"
    email["Message-ID"] = "<r-42@lender.example>"
    email["List-Unsubscribe"] = UNSUBSCRIBE
    body = "尊敬的客户，您好：\n请于本月 15 日前还款 1,200.00 元。\n"
    if cte:
        email.set_content(body, charset="utf-8", cte=cte)
    else:
        email.set_content(body, charset="utf-8")
    return email


class TestGateways:
    async def test_sms_is_stored_with_sender_and_default_provider(self, client: httpx.AsyncClient) -> None:
        response = await client.post("/v1/sms", json={"to": PHONE, "from": "LENDER", "text": "请还款"})
        assert response.status_code == 201
        assert response.json()["status"] == "accepted"
        [sms] = await messages(client, to=PHONE)
        assert sms["id"] == response.json()["id"]
        assert (sms["channel"], sms["provider"], sms["from"], sms["body"]) == (
            "sms",
            "primary",
            "LENDER",
            "请还款",
        )
        assert sms["subject"] is None
        assert sms["received_at"]

    async def test_voice_script_is_the_body(self, client: httpx.AsyncClient) -> None:
        response = await client.post("/v1/voice", json={"to": PHONE, "script": "您好，这是还款提醒"})
        assert response.status_code == 201
        [call] = await messages(client, to=PHONE, channel="voice")
        assert call["body"] == "您好，这是还款提醒"

    async def test_push_is_addressed_to_the_device_token(self, client: httpx.AsyncClient) -> None:
        response = await client.post(
            "/v1/push", json={"device_token": "dev-tok-1", "title": "提醒", "body": "请还款"}
        )
        assert response.status_code == 201
        [push] = await messages(client, to="dev-tok-1")
        assert (push["channel"], push["subject"], push["body"]) == ("push", "提醒", "请还款")

    @pytest.mark.parametrize(
        ("headers", "query", "expected"),
        [
            ({"X-Provider": "secondary"}, {}, "secondary"),
            ({}, {"provider": "secondary"}, "secondary"),
            ({}, {}, "primary"),
        ],
    )
    async def test_provider_is_recorded(
        self,
        client: httpx.AsyncClient,
        headers: dict[str, str],
        query: dict[str, str],
        expected: str,
    ) -> None:
        response = await client.post(
            "/v1/sms", json={"to": PHONE, "text": "x"}, headers=headers, params=query
        )
        assert response.status_code == 201
        [sms] = await messages(client, to=PHONE)
        assert sms["provider"] == expected

    @pytest.mark.parametrize(
        ("path", "payload", "headers"),
        [
            ("/v1/sms", {"to": PHONE}, {}),
            ("/v1/voice", {"to": "", "script": "x"}, {}),
            ("/v1/push", {"title": "t", "body": "b"}, {}),
            ("/v1/sms", {"to": PHONE, "text": "x"}, {"X-Provider": "tertiary"}),
        ],
    )
    async def test_invalid_requests_answer_problem_json(
        self,
        client: httpx.AsyncClient,
        path: str,
        payload: dict[str, str],
        headers: dict[str, str],
    ) -> None:
        response = await client.post(path, json=payload, headers=headers)
        assert response.status_code == 422
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["errors"]
        assert await messages(client) == []


class TestIdempotency:
    async def test_same_key_returns_same_id_and_stores_once(self, client: httpx.AsyncClient) -> None:
        first = await send_sms(client, key="job-1")
        again = await send_sms(client, key="job-1")
        assert (first.status_code, again.status_code) == (201, 200)
        assert again.json() == first.json()
        [sms] = await messages(client, to=PHONE)
        assert sms["idempotency_key"] == "job-1"

    async def test_distinct_keys_and_no_key_each_store(self, client: httpx.AsyncClient) -> None:
        await send_sms(client, key="job-1")
        await send_sms(client, key="job-2")
        await send_sms(client)
        await send_sms(client)
        assert len(await messages(client, to=PHONE)) == 4

    async def test_keys_are_scoped_to_the_channel(self, client: httpx.AsyncClient) -> None:
        await send_sms(client, key="job-1")
        call = await client.post(
            "/v1/voice", json={"to": PHONE, "script": "x"}, headers={"Idempotency-Key": "job-1"}
        )
        assert call.status_code == 201
        assert len(await messages(client, to=PHONE)) == 2


class TestFaults:
    async def test_next_n_calls_fail_then_recover(self, client: httpx.AsyncClient) -> None:
        armed = await client.post(
            "/v1/faults",
            json={"channel": "sms", "provider": "primary", "fail_next": 2, "status": 503},
        )
        assert armed.status_code == 201
        failures = [await send_sms(client, key="job-1") for _ in range(2)]
        assert [r.status_code for r in failures] == [503, 503]
        assert failures[0].headers["content-type"] == "application/problem+json"
        assert await messages(client) == []
        recovered = await send_sms(client, key="job-1")
        assert recovered.status_code == 201
        assert len(await messages(client, to=PHONE)) == 1

    async def test_fault_hits_only_its_channel_and_provider(self, client: httpx.AsyncClient) -> None:
        await client.post(
            "/v1/faults",
            json={"channel": "sms", "provider": "primary", "fail_next": 5, "status": 429},
        )
        assert (await send_sms(client)).status_code == 429
        secondary = await client.post(
            "/v1/sms", json={"to": PHONE, "text": "x"}, headers={"X-Provider": "secondary"}
        )
        assert secondary.status_code == 201
        call = await client.post("/v1/voice", json={"to": PHONE, "script": "x"})
        assert call.status_code == 201

    async def test_delete_clears_faults(self, client: httpx.AsyncClient) -> None:
        await client.post(
            "/v1/faults",
            json={"channel": "push", "provider": "secondary", "fail_next": 3, "status": 500},
        )
        assert (await client.delete("/v1/faults")).status_code == 204
        push = await client.post(
            "/v1/push", json={"device_token": "tok", "body": "b"}, params={"provider": "secondary"}
        )
        assert push.status_code == 201

    async def test_fault_request_is_validated(self, client: httpx.AsyncClient) -> None:
        response = await client.post("/v1/faults", json={"channel": "fax", "fail_next": 1, "status": 200})
        assert response.status_code == 422


class TestEmail:
    @pytest.mark.parametrize("cte", [None, "quoted-printable", "base64", "8bit"])
    async def test_utf8_email_is_decoded_and_listed_per_recipient(
        self, app: FastAPI, client: httpx.AsyncClient, cte: str | None
    ) -> None:
        email = chinese_reminder(MAILBOX, "guarantor@example.cn", cte=cte)
        await aiosmtplib.send(email, hostname="127.0.0.1", port=app.state.smtp_port, timeout=10)

        [received] = await messages(client, to=MAILBOX)
        assert received["channel"] == "email"
        assert received["provider"] == "smtp"
        assert received["subject"] == "还款提醒：您的账户 42 已逾期 3 天"
        assert received["body"] == "尊敬的客户，您好：\n请于本月 15 日前还款 1,200.00 元。\n"
        assert received["from"] == "华信贷款 <reminders@lender.example>"
        assert received["headers"]["List-Unsubscribe"] == UNSUBSCRIBE
        assert received["message_id"] == "<r-42@lender.example>"
        assert len(await messages(client, to="guarantor@example.cn")) == 1

    async def test_envelope_recipients_decide_the_listing(
        self, app: FastAPI, client: httpx.AsyncClient
    ) -> None:
        email = chinese_reminder(MAILBOX)
        await aiosmtplib.send(
            email,
            sender="bounce@lender.example",
            recipients=["bcc@example.cn"],
            hostname="127.0.0.1",
            port=app.state.smtp_port,
            timeout=10,
        )
        assert await messages(client, to=MAILBOX) == []
        [received] = await messages(client, to="bcc@example.cn")
        assert received["body"].startswith("尊敬的客户")

    async def test_encoded_word_subject_and_unknown_charset_survive(
        self, app: FastAPI, client: httpx.AsyncClient
    ) -> None:
        raw = (
            b"From: reminders@lender.example\r\n"
            b"To: " + MAILBOX.encode() + b"\r\n"
            b"Subject: =?UTF-8?B?" + base64.b64encode("逾期提醒".encode()) + b"?=\r\n"
            b"Content-Type: text/plain; charset=x-unknown-charset\r\n"
            b"Content-Transfer-Encoding: base64\r\n\r\n" + base64.b64encode("请尽快还款".encode()) + b"\r\n"
        )
        await aiosmtplib.send(
            raw,
            sender="reminders@lender.example",
            recipients=[MAILBOX],
            hostname="127.0.0.1",
            port=app.state.smtp_port,
            timeout=10,
        )
        [received] = await messages(client, to=MAILBOX)
        assert received["subject"] == "逾期提醒"
        assert received["body"] == "请尽快还款"


class TestListing:
    async def test_oldest_first_across_channels(self, app: FastAPI, client: httpx.AsyncClient) -> None:
        await send_sms(client, to=MAILBOX, text="first")
        await aiosmtplib.send(
            chinese_reminder(MAILBOX), hostname="127.0.0.1", port=app.state.smtp_port, timeout=10
        )
        await client.post("/v1/voice", json={"to": MAILBOX, "script": "third"})
        listed = await messages(client, to=MAILBOX)
        assert [m["channel"] for m in listed] == ["sms", "email", "voice"]
        assert [m["received_at"] for m in listed] == sorted(m["received_at"] for m in listed)

    async def test_to_and_channel_filters(self, client: httpx.AsyncClient) -> None:
        await send_sms(client, to=PHONE)
        await send_sms(client, to=OTHER_PHONE)
        await client.post("/v1/voice", json={"to": PHONE, "script": "x"})
        assert len(await messages(client)) == 3
        assert [m["to"] for m in await messages(client, to=OTHER_PHONE)] == [OTHER_PHONE]
        assert [m["channel"] for m in await messages(client, to=PHONE, channel="voice")] == ["voice"]

    async def test_delete_clears_messages_and_keys(self, client: httpx.AsyncClient) -> None:
        await send_sms(client, key="job-1")
        assert (await client.delete("/v1/messages")).status_code == 204
        assert await messages(client) == []
        again = await send_sms(client, key="job-1")
        assert again.status_code == 201

    async def test_healthz(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/healthz")
        assert response.json() == {"status": "ok"}
