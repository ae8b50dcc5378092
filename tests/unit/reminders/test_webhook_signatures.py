"""Provider webhook signatures: a timestamp, the method and path and the whole body under one
provider's secret, refused when stale, moved, tampered with or signed by another provider."""

from __future__ import annotations

import json
import stat
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from common.problems import install_problem_handlers
from common.ratelimit import TenantRateLimiter
from common.settings import DEV_KEY_MARK
from common.webhooks import (
    SIGNATURE_HEADER,
    SignatureError,
    generate_secrets_file,
    load_secrets,
    sign,
    signed_headers,
    verify,
)
from reminders.api.webhooks import Webhook, WebhookGate
from reminders.settings import RemindersSettings

pytestmark = pytest.mark.unit

PRIMARY = b"primary-secret-for-tests"
SECONDARY = b"secondary-secret-for-tests"
RECEIPT = b'{"provider_message_id":"m-1","status":"delivered"}'
NOW = 1_800_000_000
PASSWORD_URL = "postgresql+asyncpg://reminders:s3cret@db.internal:5432/collections"


def check(
    header: str,
    *,
    secret: bytes = PRIMARY,
    method: str = "POST",
    path: str = "/v1/receipts/primary",
    body: bytes = RECEIPT,
    tolerance_s: float = 300.0,
) -> None:
    """Verify `header` as the receiver of a receipt posted at NOW would."""
    verify(header, secret, method=method, target=path, body=body, now=NOW, tolerance_s=tolerance_s)


def signed(*, at: int = NOW, secret: bytes = PRIMARY, path: str = "/v1/receipts/primary") -> str:
    return sign(secret, method="POST", target=path, body=RECEIPT, timestamp=at)


class TestTheScheme:
    def test_a_fresh_signature_of_this_request_passes(self) -> None:
        check(signed())
        check(signed(at=NOW - 299))  # late, but inside the default five minutes

    @pytest.mark.parametrize(
        ("case", "header", "request_"),
        [
            ("replayed six minutes later", signed(at=NOW - 360), {}),
            ("dated ahead, to outlive the tolerance", signed(at=NOW + 360), {}),
            ("sent to another path", signed(), {"path": "/v1/receipts/secondary"}),
            ("sent with another method", signed(), {"method": "PUT"}),
            ("checked against another provider's secret", signed(), {"secret": SECONDARY}),
            ("with a tampered body", signed(), {"body": RECEIPT.replace(b"delivered", b"failed")}),
            ("in the old body-only form", "sha256=" + "0" * 64, {}),
            ("without its timestamp", signed().split(",")[1], {}),
            ("with a timestamp that is no number", signed().replace(f"t={NOW}", "t=soon"), {}),
        ],
    )
    def test_a_signature_is_refused(self, case: str, header: str, request_: dict[str, Any]) -> None:
        with pytest.raises(SignatureError):
            check(header, **request_)

    def test_the_tolerance_is_configurable(self) -> None:
        stale = signed(at=NOW - 360)
        check(stale, tolerance_s=600)
        with pytest.raises(SignatureError, match="60 s"):
            check(signed(at=NOW - 61), tolerance_s=60)

    def test_a_provider_rotating_its_secret_may_send_both_signatures(self) -> None:
        old, new = signed(secret=b"old-secret"), signed()
        both = f"{new},v1={old.split('v1=')[1]}"
        check(both)
        check(both, secret=b"old-secret")


class TestSecretsFile:
    def test_the_dev_stack_gets_a_private_file_with_a_secret_per_provider(self, tmp_path: Path) -> None:
        path = tmp_path / "webhook_secrets.json"
        generate_secrets_file(path, ["primary", "secondary"])

        secrets = load_secrets(path)
        assert set(secrets) == {"primary", "secondary"}
        assert secrets["primary"] != secrets["secondary"]
        assert len(secrets["primary"]) >= 64
        assert stat.S_IMODE(path.stat().st_mode) == 0o600

    def test_an_existing_file_keeps_its_secrets_and_gains_a_new_provider_and_its_note(
        self, tmp_path: Path
    ) -> None:
        path = tmp_path / "webhook_secrets.json"
        generate_secrets_file(path, ["primary"])
        before = load_secrets(path)

        generate_secrets_file(path, ["primary", "secondary"], note=DEV_KEY_MARK)

        after = load_secrets(path)
        assert after["primary"] == before["primary"]
        assert set(after) == {"primary", "secondary"}
        assert DEV_KEY_MARK in path.read_text()

    def test_a_file_with_an_empty_secret_is_refused(self, tmp_path: Path) -> None:
        path = tmp_path / "webhook_secrets.json"
        path.write_text(json.dumps({"primary": ""}))
        with pytest.raises(ValueError, match="non-empty"):
            load_secrets(path)

    def test_production_takes_its_own_secrets_but_not_a_copy_of_the_dev_stacks(self, tmp_path: Path) -> None:
        own, dev = tmp_path / "own.json", tmp_path / "copied" / "webhook_secrets.json"
        dev.parent.mkdir()
        generate_secrets_file(own, ["primary"])
        generate_secrets_file(dev, ["primary"], note=DEV_KEY_MARK)  # as the dev launcher writes it
        keys = {"jwt_public_key_file": tmp_path / "pub.pem", "field_keys_file": tmp_path / "keys.json"}
        for path in keys.values():
            path.write_text("-----BEGIN PUBLIC KEY-----\n")
        production = {"environment": "production", "database_url": PASSWORD_URL, **keys}

        assert RemindersSettings(**production, webhook_secrets_file=own).webhook_secrets_file == own
        with pytest.raises(ValueError, match="webhook_secrets_file is one of the dev stack's"):
            RemindersSettings(**production, webhook_secrets_file=dev)
        with pytest.raises(ValueError, match="webhook_secrets_file must be set"):
            RemindersSettings(**production)
        assert set(load_secrets(dev)) == {"primary"}  # the note is no provider


@pytest.fixture
async def webhooks() -> AsyncIterator[httpx.AsyncClient]:
    """The two webhook routes behind reminders' gate, answering whether the caller signed."""
    app = FastAPI()
    install_problem_handlers(app)
    app.state.webhooks = WebhookGate(
        secrets={"primary": PRIMARY, "secondary": SECONDARY},
        tolerance_s=300,
        ops_limiter=TenantRateLimiter(rate_per_s=1, burst=1),
    )

    @app.post("/v1/receipts/{provider}")
    async def receipt(provider: str, caller: Webhook) -> dict[str, bool]:
        return {"signed": caller is None}

    @app.post("/v1/inbound/sms")
    async def inbound(caller: Webhook) -> dict[str, bool]:
        return {"signed": caller is None}

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://r") as client:
        yield client


def provider_headers(provider: str, secret: bytes, path: str, *, at: float | None = None) -> dict[str, str]:
    timestamp = int(time.time() if at is None else at)
    return signed_headers(provider, secret, method="POST", target=path, body=RECEIPT, timestamp=timestamp)


class TestTheGate:
    async def test_each_provider_signs_with_its_own_secret(self, webhooks: httpx.AsyncClient) -> None:
        for provider, secret in (("primary", PRIMARY), ("secondary", SECONDARY)):
            path = f"/v1/receipts/{provider}"
            response = await webhooks.post(
                path, content=RECEIPT, headers=provider_headers(provider, secret, path)
            )
            assert response.json() == {"signed": True}, response.text

    async def test_the_receipt_path_names_the_provider_whatever_the_header_says(
        self, webhooks: httpx.AsyncClient
    ) -> None:
        path = "/v1/receipts/primary"
        posing = provider_headers("secondary", SECONDARY, path)

        response = await webhooks.post(path, content=RECEIPT, headers=posing)

        assert response.status_code == 401, response.text
        assert response.headers["content-type"].startswith("application/problem+json")

    async def test_an_inbound_sms_is_checked_with_the_secret_of_the_provider_it_names(
        self, webhooks: httpx.AsyncClient
    ) -> None:
        path = "/v1/inbound/sms"
        own = await webhooks.post(
            path, content=RECEIPT, headers=provider_headers("secondary", SECONDARY, path)
        )
        forged = await webhooks.post(
            path, content=RECEIPT, headers=provider_headers("secondary", PRIMARY, path)
        )
        unknown = await webhooks.post(path, content=RECEIPT, headers=provider_headers("acme", PRIMARY, path))

        assert own.json() == {"signed": True}, own.text
        assert forged.status_code == unknown.status_code == 401

    async def test_a_replayed_callback_is_refused(self, webhooks: httpx.AsyncClient) -> None:
        path = "/v1/receipts/primary"
        captured = provider_headers("primary", PRIMARY, path, at=time.time() - 360)

        response = await webhooks.post(path, content=RECEIPT, headers=captured)

        assert response.status_code == 401
        assert "300 s" in response.json()["detail"]

    async def test_a_signature_header_never_falls_back_to_a_token(self, webhooks: httpx.AsyncClient) -> None:
        response = await webhooks.post(
            "/v1/inbound/sms", content=RECEIPT, headers={SIGNATURE_HEADER: "sha256=" + "0" * 64}
        )
        assert response.status_code == 401
