"""What collectctl's commands share: the signing key, a short-lived token for one service, the
broker's address, and plain-text tables."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import typer

from common.auth import Role, issue_token
from common.devstack.layout import Layout


def signing_key() -> bytes:
    """The token signing key, or exit 2 saying where it was looked for."""
    env = os.environ.get("COLLECTCTL_SIGNING_KEY_FILE")
    path = Path(env) if env else Layout().jwt_private_key
    if not path.exists():
        typer.echo(f"no signing key at {path}; run `make up` first", err=True)
        raise typer.Exit(2)
    return path.read_bytes()


def service_token(role: Role, tenant: str, service: str) -> str:
    """A five-minute token of `role` for one service, for the commands that call it."""
    return issue_token(
        signing_key(), sub="collectctl", role=role, tenant=tenant, ttl_s=300, audience=[service]
    )


def bootstrap() -> str:
    return os.environ.get("COLLECTCTL_KAFKA_BOOTSTRAP") or Layout().kafka_bootstrap


def table(header: tuple[str, ...], rows: Sequence[tuple[str, ...]]) -> list[str]:
    """Columns padded to their widest cell, two spaces apart, the header first."""
    widths = [max(len(r[i]) for r in (header, *rows)) for i in range(len(header))]
    return ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in (header, *rows)]
