"""`python -m common.devstack up|down|status|migrate` (what `make up` and `make down` run)."""

from __future__ import annotations

import os
import sys

import typer

from common import migrations
from common.devstack import postgres, stack
from common.devstack.layout import SERVICES, Layout
from common.devstack.processes import StackError

cli = typer.Typer(add_completion=False, no_args_is_help=True, help="The local dev stack.")


@cli.command()
def up(services: bool = typer.Option(True, help="also start the four services")) -> None:
    """Start PostgreSQL, Kafka, the sandbox and the services; returns when all are ready."""
    layout = Layout()
    try:
        stack.up(layout, with_services=services)
    except StackError as exc:
        typer.echo(f"make up failed: {exc}", err=True)
        raise typer.Exit(1) from None
    _print_status(layout)


@cli.command()
def down() -> None:
    """Stop every process the dev stack runs."""
    stack.down(Layout())
    typer.echo("dev stack stopped")


@cli.command()
def status() -> None:
    """Show which parts of the dev stack are running."""
    if not _print_status(Layout()):
        raise typer.Exit(1)


@cli.command()
def migrate(
    bootstrap: bool = typer.Option(False, help="first create the database, roles and schemas"),
) -> None:
    """Run every service's migrations (each as its schema's owner role)."""
    layout = Layout()
    if bootstrap:
        postgres.bootstrap(layout)
    stack.migrate(layout)


@cli.command()
def keys() -> None:
    """Generate the dev signing keys, field keyring and webhook secrets in .devstack/keys (kept if there)."""
    stack.ensure_keys(Layout())


@cli.command()
def demo(size: int = typer.Option(20, help="accounts per lender")) -> None:
    """Post a small portfolio for three lenders (CN, US, GB) and print what the platform did."""
    import asyncio

    from common.devstack.demo import run

    asyncio.run(run(size))


@cli.command("migrate-one", hidden=True)
def migrate_one(service: str) -> None:
    url = os.environ.get("COLLECTIONS_MIGRATION_URL") or Layout().role_url(f"{service}_owner")
    migrations.upgrade(service, url)


def _print_status(layout: Layout) -> bool:
    states = stack.status(layout)
    for name, ok in states.items():
        where = f":{SERVICES[name]}" if name in SERVICES else ""
        typer.echo(f"{name:<11} {'ready' if ok else 'DOWN'}{where}")
    return all(states.values())


if __name__ == "__main__":
    sys.exit(cli())
