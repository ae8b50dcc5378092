"""`collectctl`: the operator's command line (tokens, stack status, dead letters, migrations)."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import httpx
import orjson
import typer

from common.auth import AUDIENCES, MAX_TOKEN_LIFETIME_S, Role, issue_token
from common.devstack import stack
from common.devstack.layout import SERVICES, TOPICS, Layout
from common.messaging import dlq

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Operate the collections platform.")
token_cli = typer.Typer(no_args_is_help=True, help="Mint access tokens.")
stack_cli = typer.Typer(no_args_is_help=True, help="The local dev stack.")
dlq_cli = typer.Typer(no_args_is_help=True, help="Inspect and replay dead-lettered events.")
app.add_typer(token_cli, name="token")
app.add_typer(stack_cli, name="stack")
audit_cli = typer.Typer(no_args_is_help=True, help="Check the tamper-evident audit trail.")
app.add_typer(dlq_cli, name="dlq")
app.add_typer(audit_cli, name="audit")
visits_cli = typer.Typer(no_args_is_help=True, help="Field visits: a crew's day.")
app.add_typer(visits_cli, name="visits")


# The services each role has any business with (SPEC section 7): a lender's token opens only intake.
ROLE_AUDIENCES: dict[Role, tuple[str, ...]] = {
    Role.LENDER: ("intake",),
    Role.AGENT: ("reminders", "visits", "compliance"),
    Role.OPS: AUDIENCES,
    Role.COMPLIANCE: AUDIENCES,
    Role.ADMIN: AUDIENCES,
}


def _signing_key() -> bytes:
    """The token signing key, or exit 2 saying where it was looked for."""
    env = os.environ.get("COLLECTCTL_SIGNING_KEY_FILE")
    path = Path(env) if env else Layout().jwt_private_key
    if not path.exists():
        typer.echo(f"no signing key at {path}; run `make up` first", err=True)
        raise typer.Exit(2)
    return path.read_bytes()


def _service_token(role: Role, tenant: str, service: str) -> str:
    """A five-minute token of `role` for one service, for the commands that call it."""
    return issue_token(
        _signing_key(), sub="collectctl", role=role, tenant=tenant, ttl_s=300, audience=[service]
    )


def _bootstrap() -> str:
    return os.environ.get("COLLECTCTL_KAFKA_BOOTSTRAP") or Layout().kafka_bootstrap


@token_cli.command("issue")
def token_issue(
    tenant: str = typer.Option(..., help="the tenant (lender) the token is scoped to"),
    role: Role = typer.Option(..., help="lender, agent, ops, compliance or admin"),
    sub: str = typer.Option("collectctl", help="who the token names"),
    ttl: int = typer.Option(3600, help="lifetime in seconds", min=1, max=MAX_TOKEN_LIFETIME_S),
    aud: list[str] = typer.Option(
        [], "--aud", help="a service the token is for (repeatable; default: those the role uses)"
    ),
) -> None:
    """Print a signed token and nothing else, so `$(collectctl token issue ...)` works."""
    audience = aud or ROLE_AUDIENCES[role]
    try:
        token = issue_token(_signing_key(), sub=sub, role=role, tenant=tenant, ttl_s=ttl, audience=audience)
    except ValueError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None
    typer.echo(token)


@stack_cli.command("status")
def stack_status() -> None:
    """Which parts of the dev stack answer."""
    states = stack.status(Layout())
    for name, ok in states.items():
        where = f":{SERVICES[name]}" if name in SERVICES else ""
        typer.echo(f"{name:<11} {'ready' if ok else 'DOWN'}{where}")
    if not all(states.values()):
        raise typer.Exit(1)


@dlq_cli.command("list")
def dlq_list(
    topic: str = typer.Argument(..., help=f"one of {', '.join(TOPICS)}"),
    limit: int = typer.Option(50, help="at most this many, oldest first"),
) -> None:
    """Print dead letters as JSON lines: origin, reason, error and the CloudEvents attributes."""
    for letter in asyncio.run(dlq.read(_bootstrap(), topic, limit=limit)):
        typer.echo(orjson.dumps(letter.summary()).decode())


@dlq_cli.command("replay")
def dlq_replay(
    topic: str = typer.Argument(..., help="the original topic whose dead letters to replay"),
    ce_id: list[str] = typer.Option([], "--ce-id", help="only these events (repeatable)"),
    limit: int = typer.Option(1000, help="at most this many"),
) -> None:
    """Publish dead letters back to their original topic, with their original headers and key."""
    count = asyncio.run(dlq.replay(_bootstrap(), topic, ce_ids=set(ce_id), limit=limit))
    typer.echo(f"replayed {count} event(s) to {topic}")


@audit_cli.command("verify")
def audit_verify(
    url: str = typer.Option("", help="compliance base URL (default: the dev stack's)"),
    tenant: str = typer.Option("platform", help="tenant named in the minted admin token"),
    of: str = typer.Option("", "--of", help="only this tenant's chain (default: every chain)"),
) -> None:
    """Ask compliance to walk the audit chains; exits 1 and names the first bad entry if any."""
    base = url or Layout().service_url("compliance")
    token = _service_token(Role.ADMIN, tenant, "compliance")
    reply = httpx.get(
        f"{base}/v1/audit/verify",
        params={"tenant": of} if of else {},
        headers={"Authorization": f"Bearer {token}"},
        timeout=600,
    )
    reply.raise_for_status()
    result = reply.json()
    typer.echo(orjson.dumps(result).decode())
    if not result["ok"]:
        raise typer.Exit(1)


@audit_cli.command("verify-export")
def audit_verify_export(
    export: Path = typer.Argument(
        ..., exists=True, dir_okay=False, help="an NDJSON file from /v1/audit/export"
    ),
    public_key: Path = typer.Option(
        ..., exists=True, dir_okay=False, help="the audit checkpoint public key (PEM)"
    ),
) -> None:
    """Verify an export offline: chain, content digests and the signed checkpoint."""
    from common.auditfile import verify_export_file

    result = verify_export_file(export.read_bytes().splitlines(), public_key.read_bytes())
    typer.echo(orjson.dumps(result).decode())
    if not result["ok"]:
        raise typer.Exit(1)


@visits_cli.command("plan")
def visits_plan(
    crew: str = typer.Option(..., help="the crew whose day to show"),
    day: str = typer.Option(..., "--date", help="the day, YYYY-MM-DD"),
    tenant: str = typer.Option(..., help="the tenant (lender) the crew works for"),
    svg: Path | None = typer.Option(None, help="write the picture of the route here instead"),
    url: str = typer.Option("", help="visits base URL (default: the dev stack's)"),
) -> None:
    """Print a crew's day plan (JSON), or draw it (route, numbered stops, windows) as an SVG file."""
    base = url or Layout().service_url("visits")
    token = _service_token(Role.OPS, tenant, "visits")
    path = f"/v1/crews/{crew}/plan.svg" if svg else f"/v1/crews/{crew}/plan"
    reply = httpx.get(
        f"{base}{path}", params={"date": day}, headers={"Authorization": f"Bearer {token}"}, timeout=60
    )
    if reply.status_code != 200:
        typer.echo(f"{reply.status_code}: {reply.text}", err=True)
        raise typer.Exit(1)
    if svg:
        svg.write_bytes(reply.content)
        typer.echo(f"wrote {svg}")
    else:
        typer.echo(orjson.dumps(reply.json(), option=orjson.OPT_INDENT_2).decode())


def main() -> None:
    app()
