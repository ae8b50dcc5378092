"""EdDSA tokens, the verifier, and the FastAPI role and tenant dependencies."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import stat
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi import Depends, FastAPI

from common.auth import (
    AuthError,
    CurrentPrincipal,
    Principal,
    Role,
    TokenVerifier,
    ensure_tenant,
    generate_signing_keypair,
    issue_token,
    require_roles,
)
from common.problems import ProblemError, install_problem_handlers

pytestmark = pytest.mark.unit

# Module level: with postponed annotations FastAPI resolves aliases from the module globals.
OpsOnly = Annotated[Principal, Depends(require_roles(Role.OPS))]


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> tuple[bytes, bytes]:
    private, public = generate_signing_keypair(tmp_path_factory.mktemp("keys"))
    return private.read_bytes(), public.read_bytes()


@pytest.fixture(scope="module")
def private_pem(keys: tuple[bytes, bytes]) -> bytes:
    return keys[0]


@pytest.fixture(scope="module")
def verifier(keys: tuple[bytes, bytes]) -> TokenVerifier:
    return TokenVerifier(keys[1], audience="reminders")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unsigned(header: dict[str, Any], claims: dict[str, Any]) -> str:
    return f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"


def _claims(**overrides: Any) -> dict[str, Any]:
    now = int(datetime.now(UTC).timestamp())
    claims: dict[str, Any] = {
        "sub": "u1",
        "role": "ops",
        "tenant": "t1",
        "iat": now,
        "exp": now + 600,
        "iss": "collections",
        "aud": ["reminders"],
    }
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


class TestKeypair:
    def test_files_modes_and_idempotence(self, tmp_path: Path) -> None:
        private, public = generate_signing_keypair(tmp_path / "k")
        assert (private.name, public.name) == ("jwt_ed25519.pem", "jwt_ed25519.pub.pem")
        assert stat.S_IMODE(private.stat().st_mode) == 0o600
        assert b"BEGIN PRIVATE KEY" in private.read_bytes()
        assert b"BEGIN PUBLIC KEY" in public.read_bytes()
        before = (private.read_bytes(), public.read_bytes())
        assert generate_signing_keypair(tmp_path / "k") == (private, public)
        assert (private.read_bytes(), public.read_bytes()) == before

    def test_missing_public_key_is_derived_from_the_private_key(self, tmp_path: Path) -> None:
        _private, public = generate_signing_keypair(tmp_path)
        expected = public.read_bytes()
        public.unlink()
        generate_signing_keypair(tmp_path)
        assert public.read_bytes() == expected


class TestTokens:
    def test_valid_token(self, private_pem: bytes, verifier: TokenVerifier) -> None:
        token = issue_token(private_pem, sub="u1", role=Role.AGENT, tenant="t1")
        assert verifier.verify(token) == Principal(sub="u1", role=Role.AGENT, tenant="t1")
        header = jwt.get_unverified_header(token)
        assert header["alg"] == "EdDSA"
        claims = jwt.decode(token, options={"verify_signature": False})
        assert claims["iss"] == "collections"
        assert claims["exp"] - claims["iat"] == 3600

    def test_role_given_as_string(self, private_pem: bytes, verifier: TokenVerifier) -> None:
        token = issue_token(private_pem, sub="u1", role="compliance", tenant="t1")
        assert verifier.verify(token).role is Role.COMPLIANCE

    def test_issue_refuses_unknown_role(self, private_pem: bytes) -> None:
        with pytest.raises(ValueError, match="unknown role"):
            issue_token(private_pem, sub="u1", role="superuser", tenant="t1")

    def test_expired(self, private_pem: bytes, verifier: TokenVerifier) -> None:
        issued = datetime.now(UTC) - timedelta(hours=2)
        token = issue_token(private_pem, sub="u1", role="ops", tenant="t1", now=issued)
        with pytest.raises(AuthError, match="expired") as info:
            verifier.verify(token)
        assert info.value.status == 401

    def test_within_leeway(self, private_pem: bytes, verifier: TokenVerifier) -> None:
        issued = datetime.now(UTC) - timedelta(seconds=62)
        token = issue_token(private_pem, sub="u1", role="ops", tenant="t1", ttl_s=60, now=issued)
        assert verifier.verify(token).sub == "u1"

    def test_forged_with_another_key(self, verifier: TokenVerifier) -> None:
        other = Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        token = issue_token(other, sub="u1", role="admin", tenant="t1")
        with pytest.raises(AuthError) as info:
            verifier.verify(token)
        assert info.value.status == 401

    def test_alg_none(self, verifier: TokenVerifier) -> None:
        token = _unsigned({"alg": "none", "typ": "JWT"}, _claims(role="admin")) + "."
        with pytest.raises(AuthError):
            verifier.verify(token)

    def test_hs256_with_public_key_as_secret(
        self, keys: tuple[bytes, bytes], verifier: TokenVerifier
    ) -> None:
        signing_input = _unsigned({"alg": "HS256", "typ": "JWT"}, _claims(role="admin"))
        mac = hmac.new(keys[1], signing_input.encode(), hashlib.sha256).digest()
        with pytest.raises(AuthError):
            verifier.verify(f"{signing_input}.{_b64(mac)}")

    @pytest.mark.parametrize("missing", ["sub", "role", "tenant", "exp", "iat", "iss", "aud"])
    def test_missing_claims(self, private_pem: bytes, verifier: TokenVerifier, missing: str) -> None:
        token = jwt.encode(
            _claims(**{missing: None}),
            private_pem,
            algorithm="EdDSA",
        )
        with pytest.raises(AuthError, match=missing) as info:
            verifier.verify(token)
        assert info.value.status == 401

    @pytest.mark.parametrize(
        "overrides",
        [
            {"role": "superuser"},
            {"tenant": ""},
            {"tenant": 7},
            {"tenant": "*"},
            {"tenant": "a b"},
            {"iss": "elsewhere"},
            {"aud": ["intake"]},  # a token for another service
            {"aud": "intake"},
            {"aud": []},
            {"iat": int(datetime.now(UTC).timestamp()) + 3600},  # issued in the future
            {"exp": int(datetime.now(UTC).timestamp()) + 30 * 24 * 3600},  # lives a month
        ],
        ids=lambda o: repr(o)[:40],
    )
    def test_bad_claims(self, private_pem: bytes, verifier: TokenVerifier, overrides: dict[str, Any]) -> None:
        token = jwt.encode(
            _claims(**overrides),
            private_pem,
            algorithm="EdDSA",
        )
        with pytest.raises(AuthError):
            verifier.verify(token)

    def test_a_token_may_name_several_services(self, private_pem: bytes, verifier: TokenVerifier) -> None:
        token = jwt.encode(_claims(aud=["intake", "reminders"]), private_pem, algorithm="EdDSA")
        assert verifier.verify(token).tenant == "t1"
        single = jwt.encode(_claims(aud="reminders"), private_pem, algorithm="EdDSA")
        assert verifier.verify(single).tenant == "t1"

    @pytest.mark.parametrize(
        ("changes", "message"),
        [
            ({"tenant": "*"}, "tenant"),
            ({"ttl_s": 13 * 3600}, "ttl_s"),
            ({"ttl_s": 0}, "ttl_s"),
            ({"audience": ["billing"]}, "audience"),
            ({"audience": []}, "audience"),
        ],
    )
    def test_minting_refuses_what_verification_would(
        self, private_pem: bytes, changes: dict[str, Any], message: str
    ) -> None:
        values: dict[str, Any] = {"sub": "u1", "role": "ops", "tenant": "t1"} | changes
        with pytest.raises(ValueError, match=message):
            issue_token(private_pem, **values)

    @pytest.mark.parametrize("token", ["", "garbage", "a.b.c"])
    def test_garbage(self, verifier: TokenVerifier, token: str) -> None:
        with pytest.raises(AuthError):
            verifier.verify(token)


class TestPrincipal:
    def test_tenant_scope(self) -> None:
        agent = Principal(sub="a", role=Role.AGENT, tenant="t1")
        admin = Principal(sub="root", role=Role.ADMIN, tenant="t0")
        assert agent.can_access_tenant("t1")
        assert not agent.can_access_tenant("t2")
        assert admin.can_access_tenant("t2")

    def test_ensure_tenant_answers_404(self) -> None:
        agent = Principal(sub="a", role=Role.AGENT, tenant="t1")
        ensure_tenant(agent, "t1")
        with pytest.raises(ProblemError) as info:
            ensure_tenant(agent, "t2")
        assert info.value.status == 404

    def test_require_roles_needs_a_role(self) -> None:
        with pytest.raises(ValueError, match="at least one role"):
            require_roles()


def _app(verifier: TokenVerifier) -> FastAPI:
    app = FastAPI()
    app.state.token_verifier = verifier
    install_problem_handlers(app)

    @app.get("/me")
    async def me(principal: CurrentPrincipal) -> dict[str, str]:
        return {"sub": principal.sub, "role": principal.role.value, "tenant": principal.tenant}

    @app.get("/strategies")
    async def strategies(principal: OpsOnly) -> dict[str, str]:
        return {"sub": principal.sub}

    @app.get("/tenants/{tenant}/accounts")
    async def accounts(tenant: str, principal: CurrentPrincipal) -> dict[str, str]:
        ensure_tenant(principal, tenant)
        return {"tenant": tenant}

    return app


@pytest.fixture
async def client(verifier: TokenVerifier) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=_app(verifier))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


class TestDependencies:
    async def test_missing_token_is_401(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/me")
        assert response.status_code == 401
        assert response.headers["www-authenticate"] == "Bearer"
        assert response.headers["content-type"] == "application/problem+json"

    async def test_wrong_scheme_is_401(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/me", headers={"Authorization": "Basic dTpw"})
        assert response.status_code == 401

    async def test_expired_is_401(self, client: httpx.AsyncClient, private_pem: bytes) -> None:
        issued = datetime.now(UTC) - timedelta(hours=2)
        token = issue_token(private_pem, sub="u1", role="ops", tenant="t1", now=issued)
        response = await client.get("/me", headers=_bearer(token))
        assert response.status_code == 401
        assert response.json()["detail"] == "token expired"

    async def test_forged_is_401(self, client: httpx.AsyncClient) -> None:
        other = Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        token = issue_token(other, sub="u1", role="admin", tenant="t1")
        response = await client.get("/me", headers=_bearer(token))
        assert response.status_code == 401

    async def test_valid_token_gives_the_principal(
        self, client: httpx.AsyncClient, private_pem: bytes
    ) -> None:
        token = issue_token(private_pem, sub="u1", role="lender", tenant="t1")
        response = await client.get("/me", headers=_bearer(token))
        assert response.status_code == 200
        assert response.json() == {"sub": "u1", "role": "lender", "tenant": "t1"}

    @pytest.mark.parametrize(
        ("role", "status"),
        [("agent", 403), ("lender", 403), ("compliance", 403), ("ops", 200), ("admin", 200)],
    )
    async def test_require_roles(
        self, client: httpx.AsyncClient, private_pem: bytes, role: str, status: int
    ) -> None:
        token = issue_token(private_pem, sub="u1", role=role, tenant="t1")
        response = await client.get("/strategies", headers=_bearer(token))
        assert response.status_code == status

    @pytest.mark.parametrize(
        ("role", "tenant", "status"),
        [("ops", "t1", 200), ("ops", "t2", 404), ("admin", "t2", 200)],
    )
    async def test_other_tenant_answers_404(
        self, client: httpx.AsyncClient, private_pem: bytes, role: str, tenant: str, status: int
    ) -> None:
        token = issue_token(private_pem, sub="u1", role=role, tenant="t1")
        response = await client.get(f"/tenants/{tenant}/accounts", headers=_bearer(token))
        assert response.status_code == status

    async def test_unconfigured_verifier_fails_closed(self, private_pem: bytes) -> None:
        app = FastAPI()
        install_problem_handlers(app)

        @app.get("/me")
        async def me(principal: CurrentPrincipal) -> dict[str, str]:
            return {"sub": principal.sub}

        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            token = issue_token(private_pem, sub="u1", role="admin", tenant="t1")
            response = await c.get("/me", headers=_bearer(token))
        assert response.status_code == 500
