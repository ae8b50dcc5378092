"""`collectctl report reminders|compliance|visits|all`: the case analysis (成功/失败案例) of a period as
tables, as the services' JSON (`--json`), or as one PNG chart per report (`--png DIR`).

- reminders `GET /v1/reports/outcomes`: cure and promise-kept rates of the accounts placed in the
  period by strategy, variant and channel, and each challenger against its champion;
- compliance `GET /v1/reports/decisions`: decisions per outcome, denials and deferrals per rule,
  violations per kind;
- visits `GET /v1/reports/visits`: outcomes at the door by crew and region, door promises, travel.

Every rate is shown with its 95% interval; `make demo` prints the same tables.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any, Final

import httpx
import orjson
import typer

from common.auth import Role
from common.cli_kit import service_token, table
from common.devstack.layout import Layout
from common.report_charts import write_png

report_cli = typer.Typer(
    no_args_is_help=True, help="Case analysis: outcomes, denials and visits of a period."
)

KINDS: Final = ("reminders", "compliance", "visits")
SERVICE: Final = {"reminders": "reminders", "compliance": "compliance", "visits": "visits"}
PATH: Final = {
    "reminders": "/v1/reports/outcomes",
    "compliance": "/v1/reports/decisions",
    "visits": "/v1/reports/visits",
}
DEFAULT_DAYS: Final = 30


@dataclass(frozen=True)
class Period:
    """[start, end): instants for reminders and compliance, the days it touches for visits."""

    start: datetime
    end: datetime

    def params(self, kind: str) -> dict[str, str]:
        if kind == "visits":
            # the days the period touches, the last one excluded by the visits report's `to`
            last = (self.end - timedelta(microseconds=1)).date() + timedelta(days=1)
            return {"from": self.start.date().isoformat(), "to": last.isoformat()}
        return {"from": self.start.isoformat(), "to": self.end.isoformat()}


def parse_when(value: str, name: str) -> datetime:
    """A day (midnight UTC) or an RFC 3339 time with its offset."""
    try:
        if len(value) == 10:
            return datetime.combine(date.fromisoformat(value), time(), tzinfo=UTC)
        found = datetime.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(
            f"{value!r} is neither YYYY-MM-DD nor a time with an offset", param_hint=name
        ) from None
    if found.tzinfo is None:
        raise typer.BadParameter(f"{value!r} needs an offset (e.g. +00:00)", param_hint=name)
    return found


def period_of(start: str | None, end: str | None, *, now: datetime | None = None) -> Period:
    stop = parse_when(end, "--to") if end else (now or datetime.now(UTC))
    begin = parse_when(start, "--from") if start else stop - timedelta(days=DEFAULT_DAYS)
    if begin >= stop:
        raise typer.BadParameter("must be before --to", param_hint="--from")
    return Period(begin, stop)


@dataclass(frozen=True)
class Fetched:
    kind: str
    report: dict[str, Any] | None
    error: str | None = None


async def fetch_reports(
    kinds: Sequence[str],
    period: Period,
    token_for: Callable[[str], str],
    urls: dict[str, str] | None = None,
    *,
    client: httpx.AsyncClient | None = None,
) -> list[Fetched]:
    """Each report of `kinds` for `period`, asked at once; one that fails says why instead."""
    base = {kind: (urls or {}).get(kind) or Layout().service_url(SERVICE[kind]) for kind in kinds}

    async def one(http: httpx.AsyncClient, kind: str) -> Fetched:
        try:
            reply = await http.get(
                f"{base[kind]}{PATH[kind]}",
                params=period.params(kind),
                headers={"Authorization": f"Bearer {token_for(SERVICE[kind])}"},
            )
        except httpx.HTTPError as exc:
            return Fetched(kind, None, f"{type(exc).__name__}: {exc}")
        if reply.status_code != 200:
            return Fetched(kind, None, f"{reply.status_code}: {reply.text[:300]}")
        return Fetched(kind, reply.json())

    if client is not None:
        return list(await asyncio.gather(*(one(client, k) for k in kinds)))
    async with httpx.AsyncClient(timeout=60) as http:
        return list(await asyncio.gather(*(one(http, k) for k in kinds)))


# --- tables ---------------------------------------------------------------------------------------


def pct(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.1f}%"


def rate_cell(value: float | None, ci: Sequence[float] | None) -> str:
    """A rate and its 95% interval: `47.5% [32.9-62.5]`."""
    if value is None:
        return "-"
    if not ci:
        return pct(value)
    return f"{pct(value)} [{ci[0] * 100:.1f}-{ci[1] * 100:.1f}]"


def _signed(value: float | None, ci: Sequence[float] | None) -> str:
    if value is None:
        return "-"
    band = f" [{ci[0] * 100:+.1f}, {ci[1] * 100:+.1f}]" if ci else ""
    return f"{value * 100:+.1f} pts{band}"


def _promise_cells(p: dict[str, Any]) -> tuple[str, str]:
    return f"{p['made']} / {p['kept']} / {p['broken']} / {p['active']}", rate_cell(
        p["kept_rate"], p["kept_rate_ci95"]
    )


def render_reminders(report: dict[str, Any]) -> str:
    """The outcomes report as an operator reads it: cohort, strategies, variants, channels, challengers."""
    t = report["totals"]
    lines = [
        f"reminders: {t['accounts']} accounts placed from {report['from']} to {report['to']}, "
        f"followed up to now: {t['cured']} cured (paid or settled), "
        f"cure rate {rate_cell(t['cure_rate'], t['cure_rate_ci95'])}, {t['escalated']} escalated",
        "",
        "cure and promise-kept rates by strategy (promises made / kept / broken / active; 95% intervals):",
    ]
    head = ("STRATEGY", "ACCOUNTS", "CURED", "CURE RATE", "ESCALATED", "PROMISES M/K/B/A", "KEPT RATE")
    lines += table(
        head,
        [
            (
                s["strategy"],
                str(s["accounts"]),
                str(s["cured"]),
                rate_cell(s["cure_rate"], s["cure_rate_ci95"]),
                str(s["escalated"]),
                *_promise_cells(s["promises"]),
            )
            for s in report["by_strategy"]
        ],
    )
    lines += ["", "by variant (champion / challenger):"]
    lines += table(
        ("STRATEGY", "VARIANT", "ROLE", "ACCOUNTS", "CURED", "CURE RATE", "PROMISES M/K/B/A", "KEPT RATE"),
        [
            (
                v["strategy"],
                v["variant"],
                "champion" if v["champion"] else "challenger",
                str(v["accounts"]),
                str(v["cured"]),
                rate_cell(v["cure_rate"], v["cure_rate_ci95"]),
                *_promise_cells(v["promises"]),
            )
            for v in report["by_variant"]
        ],
    )
    lines += [
        "",
        "by channel (a cure goes to the channel of the last contact sent before it; none: nothing sent):",
    ]
    lines += table(
        ("CHANNEL", "CONTACTS SENT", "ACCOUNTS", "CURES", "CURE RATE"),
        [
            (
                c["channel"],
                str(c["contacts_sent"]),
                str(c["accounts"]),
                str(c["cures"]),
                rate_cell(c["cure_rate"], c["cure_rate_ci95"]),
            )
            for c in report["by_channel"]
        ],
    )
    lines += ["", "promises by where they were made:"]
    lines += table(
        ("CHANNEL", "MADE", "KEPT", "BROKEN", "ACTIVE", "KEPT RATE"),
        [
            (
                p["channel"],
                str(p["made"]),
                str(p["kept"]),
                str(p["broken"]),
                str(p["active"]),
                rate_cell(p["kept_rate"], p["kept_rate_ci95"]),
            )
            for p in report["promises_by_channel"]
        ],
    )
    lines += ["", "challengers against their champion (difference in points, 95% interval):"]
    if report["challengers"]:
        lines += table(
            ("STRATEGY", "VARIANT", "METRIC", "VARIANT RATE", "CHAMPION RATE", "DIFFERENCE", "SIGNIFICANT"),
            [
                (
                    c["strategy"],
                    c["variant"],
                    c["metric"],
                    f"{pct(c['variant_rate'])} (n={c['variant_n']})",
                    f"{pct(c['champion_rate'])} (n={c['champion_n']})",
                    _signed(c["difference"], c["difference_ci95"]),
                    "-" if c["significant"] is None else ("yes" if c["significant"] else "no"),
                )
                for c in report["challengers"]
            ],
        )
    else:
        lines.append("(no strategy ran a challenger in this cohort)")
    return "\n".join(lines)


def render_compliance(report: dict[str, Any]) -> str:
    """Decisions per outcome, the rules behind each denial and deferral, violations per kind."""
    outcomes = report.get("outcomes", {})
    lines = [
        f"compliance: {sum(outcomes.values())} permit decisions from {report['start']} to {report['end']}"
    ]
    lines += table(("OUTCOME", "DECISIONS"), [(k, str(n)) for k, n in sorted(outcomes.items())])
    lines += ["", "denials and deferrals by rule:"]
    rules = report.get("rules", [])
    lines += (
        table(("OUTCOME", "RULE", "COUNT"), [(r["outcome"], r["rule"], str(r["count"])) for r in rules])
        if rules
        else ["(none)"]
    )
    lines += ["", "violations detected, by kind:"]
    violations = report.get("violations", {})
    lines += (
        table(("KIND", "COUNT"), [(k, str(n)) for k, n in sorted(violations.items())])
        if violations
        else ["(none)"]
    )
    return "\n".join(lines)


def _visit_rows(groups: list[dict[str, Any]], key: str) -> list[tuple[str, ...]]:
    return [
        (
            g[key],
            str(g["visits"]),
            rate_cell(g["success_rate"], g["success_rate_ci95"]),
            ", ".join(f"{o} {n}" for o, n in g["outcomes"].items()),
        )
        for g in groups
    ]


def render_visits(report: dict[str, Any]) -> str:
    """Visits made by crew and region (success: a promise or a payment at the door), promises, travel."""
    lines = [
        f"visits: days {report['from']} to {report['to']} (to excluded); success = met_promise or met_paid"
    ]
    for key, name in (("by_crew", "crew_id"), ("by_region", "region")):
        lines += ["", f"{key.replace('_', ' ')}:"]
        rows = _visit_rows(report.get(key, []), name)
        lines += (
            table((name.upper(), "VISITS", "SUCCESS RATE", "OUTCOMES"), rows) if rows else ["(no visit made)"]
        )
    p, travel = report["door_promises"], report["travel"]
    lines += [
        "",
        f"door promises: {p['made']} made, {p['kept']} kept, {p['broken']} broken, {p['active']} active; "
        f"kept rate {rate_cell(p['kept_rate'], p['kept_rate_ci95'])}",
        f"travel: {travel['planned_stops']} planned stops, {travel['distance_m_per_visit'] or '-'} m and "
        f"{travel['travel_s_per_visit'] or '-'} s per visit",
    ]
    return "\n".join(lines)


RENDER: Final[dict[str, Callable[[dict[str, Any]], str]]] = {
    "reminders": render_reminders,
    "compliance": render_compliance,
    "visits": render_visits,
}


# --- the command ----------------------------------------------------------------------------------


def _urls(overrides: list[str]) -> dict[str, str]:
    urls: dict[str, str] = {}
    for item in overrides:
        name, sep, url = item.partition("=")
        if not sep or name not in KINDS:
            raise typer.BadParameter(
                f"takes SERVICE=URL with SERVICE one of {', '.join(KINDS)}", param_hint="--url"
            )
        urls[name] = url.rstrip("/")
    return urls


def run(
    kinds: Sequence[str],
    *,
    tenant: str,
    start: str | None,
    end: str | None,
    as_json: bool,
    png: Path | None,
    url: list[str],
) -> None:
    period = period_of(start, end)
    fetched = asyncio.run(
        fetch_reports(kinds, period, lambda service: service_token(Role.OPS, tenant, service), _urls(url))
    )
    failed = [f for f in fetched if f.report is None]
    for f in failed:
        typer.echo(f"{f.kind} report: {f.error}", err=True)
    found = {f.kind: f.report for f in fetched if f.report is not None}
    if as_json:
        document = found[kinds[0]] if len(kinds) == 1 and found else found
        typer.echo(orjson.dumps(document, option=orjson.OPT_INDENT_2).decode())
    elif png is not None:
        for kind, report in found.items():
            typer.echo(f"wrote {write_png(kind, report, png)}")
    else:
        typer.echo("\n\n".join(RENDER[kind](report) for kind, report in found.items()))
    if failed:
        raise typer.Exit(1)


def _command(kinds: tuple[str, ...], summary: str) -> Callable[..., None]:
    def command(
        tenant: str = typer.Option(..., help="the tenant (lender) whose figures to show"),
        start: str | None = typer.Option(
            None,
            "--from",
            help=f"YYYY-MM-DD or a time with offset (default: {DEFAULT_DAYS} days before --to)",
        ),
        end: str | None = typer.Option(
            None, "--to", help="YYYY-MM-DD or a time with offset, excluded (default: now)"
        ),
        as_json: bool = typer.Option(False, "--json", help="print the services' JSON as it came"),
        png: Path | None = typer.Option(
            None, "--png", help="write one PNG chart per report into this directory"
        ),
        url: list[str] = typer.Option(
            [], "--url", help="SERVICE=URL where a service answers (default: the dev stack's)"
        ),
    ) -> None:
        run(kinds, tenant=tenant, start=start, end=end, as_json=as_json, png=png, url=url)

    command.__doc__ = summary
    return command


report_cli.command("reminders")(
    _command(("reminders",), "Cure and promise-kept rates by strategy, variant and channel.")
)
report_cli.command("compliance")(
    _command(("compliance",), "Permit decisions, denials per rule, violations per kind.")
)
report_cli.command("visits")(
    _command(("visits",), "Visit outcomes by crew and region, door promises, travel.")
)
report_cli.command("all")(_command(KINDS, "The three reports of the period."))
