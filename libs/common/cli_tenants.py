"""`collectctl tenant show|set`: a lender's settings (default strategy, contact spacing, visits), kept
by reminders, which plans and escalates with them."""

from __future__ import annotations

from typing import Any

import httpx
import orjson
import typer

from common.auth import Role
from common.cli_kit import service_token, table
from common.devstack.layout import Layout

tenant_cli = typer.Typer(no_args_is_help=True, help="A tenant's (lender's) settings.")

FIELDS = ("default_strategy", "contact_spacing_s", "visits_enabled")


def _call(method: str, tenant: str, url: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    base = url or Layout().service_url("reminders")
    token = service_token(Role.OPS, tenant, "reminders")
    reply = httpx.request(
        method, f"{base}/v1/settings", json=body, headers={"Authorization": f"Bearer {token}"}, timeout=30
    )
    if reply.status_code != 200:
        typer.echo(f"{reply.status_code}: {reply.text}", err=True)
        raise typer.Exit(1)
    result: dict[str, Any] = reply.json()
    return result


def settings_table(view: dict[str, Any]) -> str:
    """What the tenant saved beside what applies (the default where it saved nothing)."""

    def cell(value: object) -> str:
        return "-" if value is None else str(value).lower() if isinstance(value, bool) else str(value)

    rows = [(name, cell(view["saved"].get(name)), cell(view["effective"][name])) for name in FIELDS]
    lines = table(("SETTING", "SAVED", "APPLIES"), rows)
    lines.append(f"\ntenant {view['tenant']}, version {view['version']}, by {view.get('updated_by') or '-'}")
    return "\n".join(lines)


def _print(view: dict[str, Any], as_json: bool) -> None:
    typer.echo(orjson.dumps(view).decode() if as_json else settings_table(view))


@tenant_cli.command("show")
def tenant_show(
    tenant: str = typer.Option(..., help="the tenant (lender)"),
    as_json: bool = typer.Option(False, "--json", help="JSON for scripts"),
    url: str = typer.Option("", help="reminders base URL (default: the dev stack's)"),
) -> None:
    """Show a tenant's settings and what applies to its accounts."""
    _print(_call("GET", tenant, url), as_json)


@tenant_cli.command("set")
def tenant_set(
    tenant: str = typer.Option(..., help="the tenant (lender)"),
    default_strategy: str | None = typer.Option(
        None, help="the saved strategy new accounts follow ('builtin' for the jurisdiction's own)"
    ),
    contact_spacing: int | None = typer.Option(
        None, "--contact-spacing", help="seconds between rungs due at once (3600 to 2592000)"
    ),
    visits: bool | None = typer.Option(None, "--visits/--no-visits", help="may accounts escalate to a visit"),
    reset: list[str] = typer.Option(
        [], "--reset", help=f"put a setting back to its default (repeatable): {', '.join(FIELDS)}"
    ),
    as_json: bool = typer.Option(False, "--json", help="JSON for scripts"),
    url: str = typer.Option("", help="reminders base URL (default: the dev stack's)"),
) -> None:
    """Change some of a tenant's settings; the others stay as they are."""
    unknown = sorted(set(reset) - set(FIELDS))
    if unknown:
        typer.echo(f"cannot reset {', '.join(unknown)}: the settings are {', '.join(FIELDS)}", err=True)
        raise typer.Exit(2)
    saved = _call("GET", tenant, url)["saved"]
    changes = {
        "default_strategy": default_strategy,
        "contact_spacing_s": contact_spacing,
        "visits_enabled": visits,
    }
    body = {name: saved.get(name) for name in FIELDS}
    body.update({name: value for name, value in changes.items() if value is not None})
    body.update(dict.fromkeys(reset))
    _print(_call("PUT", tenant, url, body), as_json)
