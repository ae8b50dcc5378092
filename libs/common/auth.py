"""Ed25519 (EdDSA) JWTs: key pairs, minting, verification and the FastAPI dependencies."""

from __future__ import annotations

import os
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from fastapi import Depends, Request

from common.problems import ProblemError

ALGORITHM = "EdDSA"
ISSUER = "collections"
PRIVATE_KEY_FILE = "jwt_ed25519.pem"
PUBLIC_KEY_FILE = "jwt_ed25519.pub.pem"
_REQUIRED_CLAIMS = ("sub", "role", "tenant", "iss", "aud", "iat", "exp")
# The services a token may name in `aud`; a service accepts only tokens that name it.
AUDIENCES = ("intake", "reminders", "visits", "compliance")
MAX_TOKEN_LIFETIME_S = 12 * 3600
# A tenant id: letters, digits, dot, dash, underscore (never "*", which names the legacy audit chain).
TENANT_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
_BEARER_CHALLENGE = {"WWW-Authenticate": "Bearer"}


class Role(StrEnum):
    """What a token holder may do; every role but admin is scoped to its tenant."""

    LENDER = "lender"
    AGENT = "agent"
    OPS = "ops"
    COMPLIANCE = "compliance"
    ADMIN = "admin"


@dataclass(frozen=True)
class Principal:
    """The verified caller: subject, role and tenant taken from the token."""

    sub: str
    role: Role
    tenant: str

    def can_access_tenant(self, tenant: str) -> bool:
        """True when this caller may see resources of `tenant` (admin sees every tenant)."""
        return self.role is Role.ADMIN or self.tenant == tenant


class AuthError(Exception):
    """A token was refused; `status` is the HTTP status to answer with."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


def generate_signing_keypair(directory: Path) -> tuple[Path, Path]:
    """Create `jwt_ed25519.pem` (PKCS8, 0600) and `jwt_ed25519.pub.pem` under `directory`.

    Existing keys are kept; a missing public key is derived from an existing private key.
    Returns (private key path, public key path).
    """
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    private_path = directory / PRIVATE_KEY_FILE
    public_path = directory / PUBLIC_KEY_FILE
    if private_path.exists():
        private_key = _load_private_key(private_path.read_bytes())
    else:
        private_key = Ed25519PrivateKey.generate()
        pem = private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        # O_EXCL: two processes starting the dev stack at once must not clobber each other.
        fd = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(pem)
    if not public_path.exists():
        public_path.write_bytes(
            private_key.public_key().public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        )
    return private_path, public_path


def _load_private_key(pem: bytes) -> Ed25519PrivateKey:
    key = serialization.load_pem_private_key(pem, password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError("signing key is not an Ed25519 private key")
    return key


def _load_public_key(pem: bytes) -> Ed25519PublicKey:
    key = serialization.load_pem_public_key(pem)
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError("verification key is not an Ed25519 public key")
    return key


def _parse_role(value: object) -> Role:
    if isinstance(value, str) and value in Role.__members__.values():
        return Role(value)
    raise ValueError(f"unknown role {value!r}")


def issue_token(
    private_key_pem: bytes,
    *,
    sub: str,
    role: Role | str,
    tenant: str,
    ttl_s: int = 3600,
    now: datetime | None = None,
    audience: Sequence[str] = AUDIENCES,
) -> str:
    """Mint an EdDSA JWT with sub, role, tenant, aud (the services it is for), iat, exp and iss
    "collections"."""
    checked_role = _parse_role(role)
    if not sub or not tenant:
        raise ValueError("sub and tenant must be non-empty")
    if not TENANT_PATTERN.fullmatch(tenant):
        raise ValueError(f"tenant {tenant!r} is not a tenant id (letters, digits, '.', '-', '_'; up to 64)")
    if not 0 < ttl_s <= MAX_TOKEN_LIFETIME_S:
        raise ValueError(f"ttl_s must be between 1 and {MAX_TOKEN_LIFETIME_S}")
    unknown = sorted(set(audience) - set(AUDIENCES))
    if not audience or unknown:
        raise ValueError(f"audience must name services among {', '.join(AUDIENCES)}; not {unknown}")
    issued = now or datetime.now(UTC)
    if issued.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    claims: dict[str, Any] = {
        "sub": sub,
        "role": checked_role.value,
        "tenant": tenant,
        "iat": int(issued.timestamp()),
        "exp": int((issued + timedelta(seconds=ttl_s)).timestamp()),
        "iss": ISSUER,
        "aud": list(audience),
    }
    return jwt.encode(claims, _load_private_key(private_key_pem), algorithm=ALGORITHM)


class TokenVerifier:
    """Checks EdDSA JWTs against one public key for one service (`audience`) and turns them into
    Principals: issuer, audience, issue time and a lifetime of at most `max_lifetime_s` required."""

    def __init__(
        self,
        public_key_pem: bytes,
        *,
        audience: str,
        leeway_s: int = 5,
        max_lifetime_s: int = MAX_TOKEN_LIFETIME_S,
    ) -> None:
        self._key = _load_public_key(public_key_pem)
        self._audience = audience
        self._leeway = leeway_s
        self._max_lifetime = max_lifetime_s

    def verify(self, token: str) -> Principal:
        """Return the token's Principal, or raise AuthError(401) for any defect."""
        try:
            claims = jwt.decode(
                token,
                self._key,
                algorithms=[ALGORITHM],
                leeway=self._leeway,
                audience=self._audience,
                issuer=ISSUER,
                options={"require": list(_REQUIRED_CLAIMS)},
            )
        except jwt.ExpiredSignatureError:
            raise AuthError(401, "token expired") from None
        except jwt.MissingRequiredClaimError as exc:
            raise AuthError(401, f"token lacks the {exc.claim!r} claim") from None
        except jwt.InvalidAudienceError:
            raise AuthError(401, f"token is not for the {self._audience} service") from None
        except jwt.InvalidIssuerError:
            raise AuthError(401, "token from another issuer") from None
        except jwt.ImmatureSignatureError:
            raise AuthError(401, "token issued in the future") from None
        except jwt.InvalidTokenError:
            raise AuthError(401, "invalid token") from None
        iat, exp = claims["iat"], claims["exp"]
        if not isinstance(iat, int | float) or exp - iat > self._max_lifetime:
            raise AuthError(401, f"token lives longer than {self._max_lifetime} s")
        sub, tenant = claims["sub"], claims["tenant"]
        if not isinstance(sub, str) or not sub or not isinstance(tenant, str) or not tenant:
            raise AuthError(401, "token sub and tenant must be non-empty strings")
        if not TENANT_PATTERN.fullmatch(tenant):
            raise AuthError(401, "token tenant is not a tenant id")
        try:
            role = _parse_role(claims["role"])
        except ValueError:
            raise AuthError(401, "token carries an unknown role") from None
        return Principal(sub=sub, role=role, tenant=tenant)


async def get_principal(request: Request) -> Principal:
    """FastAPI dependency: the caller from `Authorization: Bearer <token>`, or a 401 problem."""
    verifier = getattr(request.app.state, "token_verifier", None)
    if not isinstance(verifier, TokenVerifier):
        # Fail closed: a service without a verifier must not serve anything protected.
        raise ProblemError(500, "authentication is not configured")
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise ProblemError(401, "a bearer token is required", headers=_BEARER_CHALLENGE)
    try:
        principal = verifier.verify(token)
    except AuthError as exc:
        raise ProblemError(exc.status, exc.detail, headers=_BEARER_CHALLENGE) from None
    request.state.principal = principal
    limiter = getattr(request.app.state, "request_limiter", None)
    if limiter is not None:  # metered once the tenant is known for sure (a forged claim costs nobody)
        limiter.take(principal.tenant)
    return principal


CurrentPrincipal = Annotated[Principal, Depends(get_principal)]


def require_roles(*roles: Role) -> Callable[[Principal], Awaitable[Principal]]:
    """A dependency giving the caller when its role is one of `roles` (admin always passes)."""
    if not roles:
        raise ValueError("require_roles needs at least one role")
    allowed = frozenset(roles) | {Role.ADMIN}

    async def _require(principal: CurrentPrincipal) -> Principal:
        if principal.role not in allowed:
            raise ProblemError(403, f"role {principal.role.value!r} may not do this")
        return principal

    return _require


def ensure_tenant(principal: Principal, tenant: str) -> None:
    """Raise a 404 problem when `principal` may not see `tenant`'s resource (ids do not leak)."""
    if not principal.can_access_tenant(tenant):
        raise ProblemError(404, "not found")
