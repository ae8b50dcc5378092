"""`collectctl`: the operator's command line (tokens, stack status, dead letters, migrations)."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import orjson
import typer
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from common.auth import AUDIENCES, MAX_TOKEN_LIFETIME_S, Role, issue_token
from common.cli_decisions import decisions_cli
from common.cli_kit import bootstrap, service_token, signing_key, table
from common.cli_reports import report_cli
from common.cli_tenants import tenant_cli
from common.cli_traces import show_trace
from common.contracts.catalog import topics_read_by
from common.devstack.layout import SERVICES, TOPICS, Layout
from common.messaging import dlq
from common.messaging.admin import partitions_of

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
app.add_typer(decisions_cli, name="decisions")
app.add_typer(tenant_cli, name="tenant")
app.add_typer(report_cli, name="report")
app.command("trace")(show_trace)


# The services each role has any business with (SPEC section 7): a lender's token opens only intake.
ROLE_AUDIENCES: dict[Role, tuple[str, ...]] = {
    Role.LENDER: ("intake",),
    Role.AGENT: ("reminders", "visits", "compliance"),
    Role.OPS: AUDIENCES,
    Role.COMPLIANCE: AUDIENCES,
    Role.ADMIN: AUDIENCES,
}


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
        token = issue_token(signing_key(), sub=sub, role=role, tenant=tenant, ttl_s=ttl, audience=audience)
    except ValueError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None
    typer.echo(token)


@dataclass(frozen=True)
class ServiceState:
    """One service as its /readyz and /v1/ops/outbox answered (`state` is ready, not_ready or down)."""

    name: str
    url: str
    state: str
    checks: dict[str, str]
    outbox_pending: int | None = None
    outbox_oldest_at: datetime | None = None
    outbox_oldest_age_s: float | None = None
    error: str | None = None


@dataclass(frozen=True)
class PartitionLag:
    group: str
    topic: str
    partition: int
    committed: int | None  # None: the group never committed here and starts from the beginning
    end: int
    lag: int


@dataclass(frozen=True)
class StackState:
    services: list[ServiceState]
    lags: list[PartitionLag]
    dead_letters: dict[str, int]  # `<topic>.dlq` -> records it holds
    kafka_error: str | None = None

    @property
    def ok(self) -> bool:
        return self.kafka_error is None and all(s.state == "ready" for s in self.services)

    def group_lags(self) -> dict[tuple[str, str], list[PartitionLag]]:
        groups: dict[tuple[str, str], list[PartitionLag]] = {}
        for lag in self.lags:
            groups.setdefault((lag.group, lag.topic), []).append(lag)
        return groups


def status_json(state: StackState) -> dict[str, Any]:
    """The stack's state as `collectctl stack status --json` prints it."""
    return {
        "ok": state.ok,
        "services": {
            s.name: {
                "url": s.url,
                "state": s.state,
                "checks": s.checks,
                "outbox": {
                    "pending": s.outbox_pending,
                    "oldest_pending_at": s.outbox_oldest_at.isoformat() if s.outbox_oldest_at else None,
                    "oldest_pending_age_s": s.outbox_oldest_age_s,
                },
                "error": s.error,
            }
            for s in state.services
        },
        "consumer_groups": [
            {
                "group": group,
                "topic": topic,
                "lag": sum(p.lag for p in parts),
                "partitions": [
                    {"partition": p.partition, "committed": p.committed, "end": p.end, "lag": p.lag}
                    for p in parts
                ],
            }
            for (group, topic), parts in state.group_lags().items()
        ],
        "dead_letters": state.dead_letters,
        "kafka_error": state.kafka_error,
    }


def _cell(value: object) -> str:
    if value is None:
        return "-"
    return f"{value:.1f}s" if isinstance(value, float) else str(value)


def status_table(state: StackState) -> str:
    """The stack's state as three tables: services, consumer lag per group, dead letters per topic."""
    services = [
        (
            s.name,
            s.state if s.state == "ready" else s.state.upper(),
            s.checks.get("database", "-"),
            s.checks.get("kafka", "-"),
            _cell(s.outbox_pending),
            _cell(s.outbox_oldest_age_s),
            s.error or "",
        )
        for s in state.services
    ]
    lines = table(("SERVICE", "STATE", "DATABASE", "KAFKA", "OUTBOX", "OLDEST", "ERROR"), services)
    lines.append("")
    if state.kafka_error is not None:
        lines.append(f"KAFKA UNREACHABLE: {state.kafka_error}")
        return "\n".join(lines)
    groups = [
        (
            group,
            topic,
            str(sum(p.lag for p in parts)),
            " ".join(f"{p.partition}:{p.lag}" for p in parts if p.lag) or "-",
        )
        for (group, topic), parts in state.group_lags().items()
    ]
    lines += table(("GROUP", "TOPIC", "LAG", "PARTITION:LAG"), groups)
    lines.append("")
    lines += table(("DEAD LETTERS", "RECORDS"), [(t, str(n)) for t, n in state.dead_letters.items()])
    return "\n".join(lines)


async def _service_state(
    client: httpx.AsyncClient, name: str, url: str, token: str, now: datetime
) -> ServiceState:
    try:
        ready = await client.get(f"{url}/readyz")
        checks = ready.json().get("checks", {})
    except (httpx.HTTPError, ValueError) as exc:
        return ServiceState(name, url, "down", {}, error=type(exc).__name__)
    state = "ready" if ready.status_code == 200 else "not_ready"
    try:
        outbox = await client.get(f"{url}/v1/ops/outbox", headers={"Authorization": f"Bearer {token}"})
        outbox.raise_for_status()
    except httpx.HTTPError as exc:
        return ServiceState(name, url, state, checks, error=f"outbox: {type(exc).__name__}")
    body = outbox.json()
    oldest = datetime.fromisoformat(body["oldest_pending_at"]) if body["oldest_pending_at"] else None
    age = max(0.0, (now - oldest).total_seconds()) if oldest else None
    return ServiceState(name, url, state, checks, body["pending"], oldest, age)


def platform_groups(listed: set[str]) -> list[tuple[str, str]]:
    """(group, topic) of every group the services run: each reader's group per topic from the catalogue,
    whether or not it has committed yet, and any priority lane the broker knows."""
    found: list[tuple[str, str]] = []
    for service in SERVICES:
        for topic in TOPICS:
            ordered, lane = f"{service}.{topic}", f"{service}.{topic}.priority"
            if topic in topics_read_by(service) or ordered in listed:
                found.append((ordered, topic))
            if lane in listed:
                found.append((lane, topic))
    return found


async def _kafka_state(bootstrap: str) -> tuple[list[PartitionLag], dict[str, int]]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, group_id=None)
        await consumer.start()
        try:
            names = [*TOPICS, *(f"{t}.dlq" for t in TOPICS)]
            described = await admin.describe_topics(names)
            tps = [
                TopicPartition(entry["topic"], p["partition"])
                for entry in described
                if entry["error_code"] == 0
                for p in entry["partitions"]
            ]
            consumer.assign(tps)  # so the client knows where each partition lives
            ends = await consumer.end_offsets(tps)
            starts = await consumer.beginning_offsets(tps)
            listed = {str(g[0]) for g in await admin.list_consumer_groups()}
            lags: list[PartitionLag] = []
            for group, topic in platform_groups(listed):
                committed = await admin.list_consumer_group_offsets(group)
                for tp in sorted((tp for tp in tps if tp.topic == topic), key=lambda tp: tp.partition):
                    at = committed[tp].offset if tp in committed and committed[tp].offset >= 0 else None
                    lag = ends[tp] - (starts[tp] if at is None else at)
                    lags.append(PartitionLag(group, topic, tp.partition, at, ends[tp], max(0, lag)))
            letters = {
                f"{t}.dlq": sum(ends[tp] - starts[tp] for tp in tps if tp.topic == f"{t}.dlq") for t in TOPICS
            }
            return lags, letters
        finally:
            await consumer.stop()
    finally:
        await admin.close()


async def gather_stack_state(
    urls: dict[str, str], bootstrap: str, token_for: Callable[[str], str], *, timeout_s: float = 10.0
) -> StackState:
    """Ask every service and the broker at once; what does not answer in `timeout_s` is reported so."""
    now = datetime.now(UTC)
    async with httpx.AsyncClient(timeout=timeout_s) as client:
        services = await asyncio.gather(
            *(_service_state(client, name, url, token_for(name), now) for name, url in urls.items())
        )
    try:
        lags, letters = await asyncio.wait_for(_kafka_state(bootstrap), timeout=timeout_s * 3)
    except Exception as exc:  # noqa: BLE001 - any failure to reach the broker is reported, not raised
        said = str(exc) if str(exc).startswith(type(exc).__name__) else f"{type(exc).__name__}: {exc}"
        return StackState(list(services), [], {}, kafka_error=said[:200])
    return StackState(list(services), lags, letters)


def _service_urls(overrides: list[str]) -> dict[str, str]:
    urls = {name: Layout().service_url(name) for name in SERVICES}
    for item in overrides:
        name, sep, url = item.partition("=")
        if not sep or name not in SERVICES:
            typer.echo(f"--url takes SERVICE=URL with SERVICE one of {', '.join(SERVICES)}", err=True)
            raise typer.Exit(2)
        urls[name] = url.rstrip("/")
    return urls


@stack_cli.command("status")
def stack_status(
    as_json: bool = typer.Option(False, "--json", help="print one JSON document instead of tables"),
    url: list[str] = typer.Option(
        [], "--url", help="SERVICE=URL where a service answers (repeatable; default: the dev stack's)"
    ),
    tenant: str = typer.Option("platform", help="tenant named in the minted admin token"),
) -> None:
    """Each service's readiness and outbox backlog, consumer lag per group and partition, dead letters
    per topic. Exits 1 when a service is not ready or Kafka does not answer."""
    urls = _service_urls(url)
    state = asyncio.run(
        gather_stack_state(urls, bootstrap(), lambda service: service_token(Role.ADMIN, tenant, service))
    )
    typer.echo(
        orjson.dumps(status_json(state), option=orjson.OPT_INDENT_2).decode()
        if as_json
        else status_table(state)
    )
    if not state.ok:
        raise typer.Exit(1)


def dlq_table(letters: list[dict[str, Any]]) -> str:
    """Dead letters one a line: where they sit, what they were and why they are there."""
    rows = [
        (
            f"{d['dlq_partition']}:{d['dlq_offset']}",
            _cell(d["ce_id"]),
            _cell(d["ce_type"]),
            _cell(d["ce_tenant"]),
            _cell(d["reason"]),
            _cell(d["at"]),
            _short(d["error"], 60),
        )
        for d in letters
    ]
    lines = table(("LETTER", "CE_ID", "TYPE", "TENANT", "REASON", "AT", "ERROR"), rows)
    lines.append(f"\n{len(letters)} dead letter(s)")
    return "\n".join(lines)


def _short(value: object, width: int) -> str:
    text = " ".join(_cell(value).split())
    return text if len(text) <= width else text[: width - 1] + "…"


def _topic(topic: str) -> str:
    """`topic` when it has a dead-letter topic on the broker; a typo exits 2 naming the platform's."""
    if not asyncio.run(partitions_of(bootstrap(), f"{topic}.dlq")):
        typer.echo(f"no topic {topic}.dlq on the broker; the platform's are {', '.join(TOPICS)}", err=True)
        raise typer.Exit(2)
    return topic


@dlq_cli.command("list")
def dlq_list(
    topic: str = typer.Argument(..., help=f"one of {', '.join(TOPICS)}"),
    limit: int = typer.Option(50, help="at most this many, oldest first"),
    as_json: bool = typer.Option(False, "--json", help="JSON lines for scripts"),
) -> None:
    """Dead letters of a topic: origin, reason, error and the CloudEvents attributes."""
    letters = [letter.summary() for letter in asyncio.run(dlq.read(bootstrap(), _topic(topic), limit=limit))]
    if as_json:
        for letter in letters:
            typer.echo(orjson.dumps(letter).decode())
    else:
        typer.echo(dlq_table(letters))


@dlq_cli.command("show")
def dlq_show(
    topic: str = typer.Argument(..., help=f"one of {', '.join(TOPICS)}"),
    ce_id: str = typer.Argument(..., help="the event's ce_id"),
    limit: int = typer.Option(1_000_000, help="look at most this many letters"),
) -> None:
    """One dead letter whole: why, from where, every header and the payload (personal data in it is
    sealed, as on the topic)."""
    letters = asyncio.run(dlq.read(bootstrap(), _topic(topic), limit=limit))
    found = [letter for letter in letters if letter.header("ce_id") == ce_id]
    if not found:
        typer.echo(f"no dead letter with ce_id {ce_id} on {topic}.dlq", err=True)
        raise typer.Exit(1)
    for letter in found:  # the same event dead-lettered twice shows twice
        try:
            payload: Any = orjson.loads(letter.value or b"null")
        except orjson.JSONDecodeError:
            payload = (letter.value or b"").decode("utf-8", "replace")
        shown = {
            **letter.summary(),
            "key": (letter.key or b"").decode("utf-8", "replace"),
            "headers": {k: v.decode("utf-8", "replace") for k, v in letter.headers},
            "payload": payload,
        }
        typer.echo(orjson.dumps(shown, option=orjson.OPT_INDENT_2).decode())


@dlq_cli.command("replay")
def dlq_replay(
    topic: str = typer.Argument(..., help="the original topic whose dead letters to replay"),
    ce_id: list[str] = typer.Option([], "--ce-id", help="only these events (repeatable)"),
    limit: int = typer.Option(1000, help="at most this many"),
) -> None:
    """Publish dead letters back to their original topic, with their original headers and key."""
    with typer.progressbar(length=0, label="replaying", file=sys.stderr) as bar:

        def sent(done: int, total: int) -> None:
            bar.length = total
            bar.update(1)

        count = asyncio.run(
            dlq.replay(bootstrap(), _topic(topic), ce_ids=set(ce_id), limit=limit, on_sent=sent)
        )
    typer.echo(f"replayed {count} event(s) to {topic}")


def verify_table(result: dict[str, Any]) -> str:
    """The verify's answer as an operator reads it: the verdict first, then where it looked."""
    verdict = "OK" if result["ok"] else "BROKEN"
    rows = [
        ("chain", _cell(result.get("chain") or f"all ({result.get('chains')})")),
        ("entries", _cell(result.get("entries"))),
        ("head", _cell(result.get("head"))),
    ]
    if not result["ok"]:
        rows += [
            ("first bad seq", _cell(result.get("first_bad_seq"))),
            ("problem", _cell(result.get("problem"))),
        ]
    return "\n".join([f"audit chain {verdict}", *table(("", ""), rows)[1:]])


def _verdict(result: dict[str, Any], as_json: bool) -> None:
    typer.echo(orjson.dumps(result).decode() if as_json else verify_table(result))
    if not result["ok"]:
        raise typer.Exit(1)


@audit_cli.command("verify")
def audit_verify(
    url: str = typer.Option("", help="compliance base URL (default: the dev stack's)"),
    tenant: str = typer.Option("platform", help="tenant named in the minted admin token"),
    of: str = typer.Option("", "--of", help="only this tenant's chain (default: every chain)"),
    as_json: bool = typer.Option(False, "--json", help="compliance's answer as JSON"),
) -> None:
    """Ask compliance to walk the audit chains; exits 1 and names the first bad entry if any."""
    base = url or Layout().service_url("compliance")
    token = service_token(Role.ADMIN, tenant, "compliance")
    reply = httpx.get(
        f"{base}/v1/audit/verify",
        params={"tenant": of} if of else {},
        headers={"Authorization": f"Bearer {token}"},
        timeout=600,
    )
    reply.raise_for_status()
    _verdict(reply.json(), as_json)


@audit_cli.command("export")
def audit_export(
    of: str = typer.Option(..., "--of", help="the tenant whose chain to export"),
    out: Path = typer.Option(..., "--out", file_okay=False, help="a directory for the pages"),
    first: int = typer.Option(1, "--from", min=1, help="the first entry (sequence number)"),
    last: int | None = typer.Option(None, "--to", min=1, help="the last entry (default: the head)"),
    page: int = typer.Option(10_000, min=1, max=100_000, help="entries a page"),
    url: str = typer.Option("", help="compliance base URL (default: the dev stack's)"),
) -> None:
    """Write a tenant's chain as NDJSON pages (page-0001.ndjson, ...), each ending in a signed
    checkpoint, for `audit verify-export` offline."""
    base = url or Layout().service_url("compliance")
    token = service_token(Role.COMPLIANCE, of, "compliance")
    out.mkdir(parents=True, exist_ok=True)
    params: dict[str, Any] | None = {"from": first, "limit": page, **({"to": last} if last else {})}
    next_url, pages, entries = f"{base}/v1/audit/export", 0, 0
    with httpx.Client(headers={"Authorization": f"Bearer {token}"}, timeout=600) as http:
        while next_url:
            reply = http.get(next_url, params=params)
            if reply.status_code != 200:
                typer.echo(f"{reply.status_code}: {reply.text}", err=True)
                raise typer.Exit(1)
            lines = [line for line in reply.content.splitlines() if line.strip()]
            if not lines:
                break
            pages += 1
            entries += len(lines) - 1  # the last line is the checkpoint
            (out / f"page-{pages:04d}.ndjson").write_bytes(b"\n".join(lines) + b"\n")
            typer.echo(f"page {pages}: {entries} entries", err=True)
            following = reply.links.get("next", {}).get("url")
            next_url, params = (str(reply.url.join(following)), None) if following else ("", None)
    typer.echo(f"wrote {entries} entries in {pages} page(s) to {out}")


@audit_cli.command("verify-export")
def audit_verify_export(
    export: list[Path] = typer.Argument(
        ..., exists=True, dir_okay=False, help="NDJSON pages from /v1/audit/export or `audit export`"
    ),
    public_key: Path = typer.Option(
        ..., exists=True, dir_okay=False, help="the audit checkpoint public key (PEM)"
    ),
    as_json: bool = typer.Option(False, "--json", help="the answer as JSON"),
) -> None:
    """Verify exported pages offline: chain, content digests and each page's signed checkpoint;
    consecutive pages must join (each starts where the one before ended)."""
    from common.auditfile import verify_export_file

    key, entries, head = public_key.read_bytes(), 0, None
    for path in export:
        lines = [line for line in path.read_bytes().splitlines() if line.strip()]
        result = verify_export_file(lines, key)
        if result["ok"] and head is not None and orjson.loads(lines[0]).get("prev_hash") != head:
            result = {
                **result,
                "ok": False,
                "problem": f"{path.name} does not start where the page before ended",
            }
        if not result["ok"]:
            _verdict({**result, "chain": path.name}, as_json)
        entries, head = entries + int(result["entries"] or 0), result["head"]
    _verdict({"ok": True, "chain": None, "chains": len(export), "entries": entries, "head": head}, as_json)


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
    token = service_token(Role.OPS, tenant, "visits")
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


@app.command("demo")
def demo(size: int = typer.Option(20, help="accounts per lender", min=1, max=500)) -> None:
    """Post three lenders' portfolios to the running dev stack and print what the platform did
    (the same as `make demo`, with a progress bar on stderr). Fails if an audit chain does not verify."""
    from common.devstack.demo import STEPS, run

    with typer.progressbar(length=STEPS, label="crew and strategy", file=sys.stderr) as bar:

        def step(next_up: str) -> None:
            bar.label = next_up
            bar.update(1)

        done = asyncio.run(run(size, out=typer.echo, step=step))
    if not done.audit_ok:
        raise typer.Exit(1)


def main() -> None:
    app()
