"""`collectctl decisions replay`: every decision of a period decided again by compliance against the
pack versions and engine it was made under (a difference is a bug), and optionally against today's
packs, page by page, with the totals at the end."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import orjson
import typer

from common.auth import Role
from common.cli_kit import service_token, table
from common.devstack.layout import Layout

decisions_cli = typer.Typer(no_args_is_help=True, help="Replay and explain compliance decisions.")

COUNTS = (
    "replayed",
    "same",
    "provisional",
    "differs",
    "unreplayable",
    "snapshots_verified",
    "engine_changed",
)


def merge(total: dict[str, Any], page: dict[str, Any]) -> dict[str, Any]:
    """The running totals of a replay after one more page."""
    for key in COUNTS:
        total[key] = total.get(key, 0) + page[key]
    total.setdefault("differing", []).extend(page["differing"])
    total.setdefault("failed", []).extend(page["failed"])
    total.setdefault("unproven", []).extend(page.get("unproven", []))
    total["engine_now"] = page["engine_now"]
    if page.get("changed_today") is not None:
        total["changed_today"] = total.get("changed_today", 0) + page["changed_today"]
        rules: dict[str, dict[str, int]] = total.setdefault("by_rule", {})
        for change in page["by_rule"]:
            counted = rules.setdefault(change["rule"], {"added": 0, "dropped": 0})
            counted["added"] += change["added"]
            counted["dropped"] += change["dropped"]
    return total


def render(total: dict[str, Any], start: str, end: str) -> str:
    """The totals as a compliance officer reads them."""
    lines = [f"decisions made from {start} to {end}, replayed by engine {total.get('engine_now', '?')}:"]
    labels = {
        "replayed": "replayed",
        "same": "same answer",
        "provisional": "provisional (decided before state was read: nothing to replay)",
        "differs": "different answer (a bug)",
        "unreplayable": "could not be replayed",
        "snapshots_verified": "snapshot proven by its audit entry",
        "engine_changed": "decided by another engine version",
    }
    for key in COUNTS:
        lines.append(f"  {total.get(key, 0):>9,}  {labels[key]}")
    for item in total.get("differing", []):
        lines.append(
            f"  differs: {item['permit_id']} ({item['decided_at']}): {', '.join(item['differences'])}"
        )
    for item in total.get("failed", []):
        lines.append(f"  unreplayable: {item['permit_id']}: {item['problem']}")
    for permit_id in total.get("unproven", []):
        lines.append(f"  unproven: {permit_id}: no audit entry vouches for its snapshot")
    if "changed_today" in total:
        lines.append(f"against today's packs: {total['changed_today']:,} outcomes would change")
        rules = total.get("by_rule", {})
        if rules:
            rows = [(rule, f"{n['added']:,}", f"{n['dropped']:,}") for rule, n in sorted(rules.items())]
            lines += ["  " + line for line in table(("rule", "added", "dropped"), rows)]
    return "\n".join(lines)


@decisions_cli.command("replay")
def decisions_replay(
    start: str = typer.Option(..., "--from", help="first instant (ISO 8601 with offset)"),
    end: str = typer.Option("", "--to", help="end instant, exclusive (default: now)"),
    of: str = typer.Option("", "--of", help="only this tenant's decisions, as its officer (default: all)"),
    current: bool = typer.Option(False, "--current", help="also say what today's packs would decide"),
    as_json: bool = typer.Option(False, "--json", help="print the totals as JSON"),
    page: int = typer.Option(1000, min=1, max=2000, help="decisions per request"),
    url: str = typer.Option("", help="compliance base URL (default: the dev stack's)"),
) -> None:
    """Replay decisions; exits 1 when any comes out differently or cannot be replayed."""
    end = end or datetime.now(UTC).isoformat()
    base = url or Layout().service_url("compliance")
    token = (
        service_token(Role.COMPLIANCE, of, "compliance")
        if of
        else service_token(Role.ADMIN, "platform", "compliance")
    )
    total: dict[str, Any] = {}
    cursor = None
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=300) as client:
        while True:
            body = {"from": start, "to": end, "against_current": current, "limit": page, "cursor": cursor}
            reply = client.post("/v1/decisions:replay", json=body)
            if reply.status_code != 200:
                typer.echo(f"{reply.status_code}: {reply.text}", err=True)
                raise typer.Exit(2)
            found = reply.json()
            merge(total, found)
            typer.echo(f"\rreplayed {total['replayed']:,}", err=True, nl=False)
            cursor = found["next_cursor"]
            if cursor is None:
                break
    typer.echo("", err=True)
    typer.echo(orjson.dumps(total).decode() if as_json else render(total, start, end))
    if total.get("differs") or total.get("unreplayable"):
        raise typer.Exit(1)
