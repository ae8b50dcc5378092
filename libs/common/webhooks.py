"""Signed provider webhooks, as Stripe and Twilio sign theirs: one secret per provider, and
`X-Signature: t=<unix>,v1=<hex>` where the hex is HMAC-SHA256 of `t.METHOD.target.body`.

The timestamp bounds a replay to the tolerance, the method and target (the path, with its query if
any) stop a signature made for one endpoint from serving another, and the body is covered whole.
A receiver may list several `v1` values while a provider rotates its secret.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
from collections.abc import Iterable
from pathlib import Path
from typing import Final

SIGNATURE_HEADER: Final = "X-Signature"
# Which provider signed: the receipts route names it in its path, every other webhook in this header.
PROVIDER_HEADER: Final = "X-Provider"
DEFAULT_TOLERANCE_S: Final = 300.0
_SECRET_BYTES: Final = 32
# A secrets file may say what it is under this key (the dev launcher's say they are dev secrets).
NOTE_KEY: Final = "note"


class SignatureError(Exception):
    """The signature header is missing a part, too old or too new, or matches nothing."""


def target_of(path: str, query: str = "") -> str:
    """What a signature binds besides method and body: the path, and the query when there is one."""
    return f"{path}?{query}" if query else path


def _mac(secret: bytes, *, timestamp: int, method: str, target: str, body: bytes) -> str:
    signed = f"{timestamp}.{method.upper()}.{target}.".encode() + body
    return hmac.new(secret, signed, hashlib.sha256).hexdigest()


def sign(secret: bytes, *, method: str, target: str, body: bytes, timestamp: int) -> str:
    """The `X-Signature` value of a request made at `timestamp` (Unix seconds)."""
    return f"t={timestamp},v1={_mac(secret, timestamp=timestamp, method=method, target=target, body=body)}"


def signed_headers(
    provider: str, secret: bytes, *, method: str, target: str, body: bytes, timestamp: int
) -> dict[str, str]:
    """The headers a provider sends with a signed callback."""
    signature = sign(secret, method=method, target=target, body=body, timestamp=timestamp)
    return {PROVIDER_HEADER: provider, SIGNATURE_HEADER: signature}


def verify(
    header: str,
    secret: bytes,
    *,
    method: str,
    target: str,
    body: bytes,
    now: float,
    tolerance_s: float = DEFAULT_TOLERANCE_S,
) -> None:
    """Return when `header` signs this request within `tolerance_s` of `now`; else SignatureError."""
    timestamp, macs = _parse(header)
    if abs(now - timestamp) > tolerance_s:
        raise SignatureError(f"the signature was made more than {tolerance_s:.0f} s from now")
    expected = _mac(secret, timestamp=timestamp, method=method, target=target, body=body)
    # Every candidate is compared, in constant time, so the time taken says nothing of which matched.
    matched = [hmac.compare_digest(expected, mac) for mac in macs]
    if not any(matched):
        raise SignatureError("the signature does not match")


def _parse(header: str) -> tuple[int, list[str]]:
    timestamp: int | None = None
    macs: list[str] = []
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t" and value.isascii() and value.isdigit():
            timestamp = int(value)
        elif key == "v1" and value:
            macs.append(value)
    if timestamp is None or not macs:
        raise SignatureError("the signature header needs t=<unix seconds> and v1=<hex>")
    return timestamp, macs


def load_secrets(path: Path) -> dict[str, bytes]:
    """Read a secrets file: a JSON object of provider name to secret (and perhaps a `note`)."""
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ValueError(f"{path} must map provider names to non-empty secrets")
    data.pop(NOTE_KEY, None)
    if not all(isinstance(name, str) and isinstance(secret, str) and secret for name, secret in data.items()):
        raise ValueError(f"{path} must map provider names to non-empty secrets")
    return {name: secret.encode() for name, secret in data.items()}


def generate_secrets_file(path: Path, providers: Iterable[str], *, note: str | None = None) -> None:
    """Write a fresh random secret for each of `providers` to `path` (mode 0600), with `note` if given.
    A file already there keeps its secrets (replacing one would break its sender) and gains any
    provider or note it lacks."""
    before = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    secrets_of = {name: secret.decode() for name, secret in (load_secrets(path) if before else {}).items()}
    for name in providers:
        secrets_of.setdefault(name, secrets.token_hex(_SECRET_BYTES))
    note = note or before.get(NOTE_KEY)
    wanted = {**({NOTE_KEY: note} if note else {}), **secrets_of}
    if wanted == before:
        return
    partial = path.with_name(f".{path.name}.{os.getpid()}")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(json.dumps(wanted, indent=2) + "\n")
    os.replace(partial, path)
