"""`make demo`: a small portfolio of three lenders (CN, US, GB) posted through intake, what the lenders
and our agents do once the first reminders went (payments, promises, a dispute, a cease, visits
asked for), and what the platform made of it: the reminders sent, the permits denied and why, the
crew's day plan, the case analysis of the run, and the audit chains verified.

Nothing moves the services' clocks (others may share the stack): visits are planned for tomorrow,
and a promise is kept or still running, never broken, within the run. The demo tenants keep their
own strategy and crew, saved again on every run.
"""

from __future__ import annotations

import asyncio
import os
import random
import sys
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import partial
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import orjson

from common.auth import Role, issue_token
from common.cli_kit import table
from common.cli_reports import RENDER, Fetched, Period, fetch_reports
from common.devstack.demo_portfolio import (
    CN_TENANT,
    CREW_HOME,
    TENANTS,
    VISIT_REGION,
    Portfolio,
    follow_ups,
    portfolio,
)
from common.devstack.layout import Layout

Out = Callable[[str], None]
CREW = "demo-c1"
AGENTS = ("demo-a1", "demo-a2")
SHANGHAI = ZoneInfo("Asia/Shanghai")
PENDING = ("planned", "awaiting_permit", "sending")
UNDECIDED_VISITS = ("awaiting_account", "awaiting_address", "awaiting_permit")


@dataclass(frozen=True)
class DemoRun:
    """What a run posted and found: the personal values it sent (to look for where they must not
    be), the accounts of each tenant, and whether every tenant's audit chain verified."""

    started_at: datetime
    personal: frozenset[str]
    accounts: dict[str, list[str]]
    audit_ok: bool


async def until(check: Callable[[], Awaitable[bool]], *, timeout_s: float, interval_s: float = 1.0) -> bool:
    """Ask `check` until it says yes or `timeout_s` passed; whether it did."""
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            return False
        await asyncio.sleep(interval_s)
    return True


class Demo:
    def __init__(self, layout: Layout, client: httpx.AsyncClient, out: Out) -> None:
        self.layout, self.client, self.out = layout, client, out
        self.key = layout.jwt_private_key.read_bytes()

    def headers(self, tenant: str, role: Role = Role.OPS) -> dict[str, str]:
        return {"Authorization": f"Bearer {issue_token(self.key, sub='demo', role=role, tenant=tenant)}"}

    def url(self, service: str, path: str) -> str:
        return f"{self.layout.service_url(service)}{path}"

    async def get(self, service: str, path: str, tenant: str, **params: Any) -> Any:
        reply = await self.client.get(self.url(service, path), params=params, headers=self.headers(tenant))
        return reply.json() if reply.status_code == 200 else None

    async def send(self, method: str, service: str, path: str, tenant: str, body: Any) -> httpx.Response:
        return await self.client.request(
            method, self.url(service, path), json=body, headers=self.headers(tenant)
        )

    # --- before the portfolio -----------------------------------------------------------------------

    async def field_force(self) -> None:
        """Two agents in Shenzhen and their crew: visits go to crews of two in CN."""
        shift = {"start": "09:00", "end": "18:00", "timezone": "Asia/Shanghai"}
        for agent in AGENTS:
            body = {"name": agent, "region": VISIT_REGION, "home": CREW_HOME, "shift": shift}
            await self.send(
                "PUT", "visits", f"/v1/agents/{agent}", CN_TENANT, {**body, "max_visits_per_day": 8}
            )
        await self.send("PUT", "visits", f"/v1/crews/{CREW}", CN_TENANT, {"agent_ids": list(AGENTS)})

    async def champion_and_challenger(self) -> None:
        """The CN lender tries its first reminder by e-mail (challenger) against SMS (champion)."""
        builtin = await self.get("reminders", "/v1/strategies/builtin-CN", CN_TENANT)
        if builtin is None:
            self.out("(no built-in CN strategy to start from: the accounts run the built-in one)")
            return
        document = builtin["document"]
        first = document["steps"][0]
        email_first = {
            **first,
            "channel": "email",
            "subject": first["fallback"]["subject"],
            "templates": first["fallback"]["templates"],
            "fallback": {"channel": "sms", "subject": None, "templates": first["templates"]},
        }
        document["variants"] = [
            {"name": "champion", "weight": 50},
            {"name": "email_first", "weight": 50, "steps": [email_first, *document["steps"][1:]]},
        ]
        saved = await self.send("PUT", "reminders", "/v1/strategies/default", CN_TENANT, document)
        if saved.status_code != 200:
            self.out(
                f"(the champion/challenger strategy was refused: {saved.status_code} {saved.text[:200]})"
            )

    async def post(self, tenant: str, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
        headers = {**self.headers(tenant, Role.LENDER), "content-type": "application/x-ndjson"}
        reply = await self.client.post(
            self.url("intake", "/v1/events"),
            content=b"\n".join(orjson.dumps(e) for e in events),
            headers=headers,
        )
        reply.raise_for_status()
        results: list[dict[str, Any]] = reply.json()["results"]
        return results

    # --- waiting ------------------------------------------------------------------------------------

    async def jobs(self, tenant: str, account_id: str) -> list[dict[str, Any]]:
        found = await self.get("reminders", f"/v1/accounts/{account_id}/reminders", tenant)
        return list(found["items"]) if found else []

    async def first_reminders_went(self, accounts: dict[str, list[str]]) -> bool:
        """Every account's first job is past waiting: sent, deferred, denied or cancelled."""
        for tenant, ids in accounts.items():
            for account_id in ids:
                jobs = sorted(await self.jobs(tenant, account_id), key=lambda j: j["due_at"])
                if not jobs or jobs[0]["state"] in PENDING:
                    return False
        return True

    async def visits(self, tenant: str) -> list[dict[str, Any]]:
        found = await self.get("visits", "/v1/visits", tenant, limit=500)
        return list(found["items"]) if found else []

    async def visits_decided(self, tenant: str, ours: set[str], expected: int) -> bool:
        cases = [v for v in await self.visits(tenant) if v["account_id"] in ours]
        return len(cases) >= expected and not any(v["state"] in UNDECIDED_VISITS for v in cases)


async def _sandbox_messages(demo: Demo, personal: frozenset[str]) -> Counter[str]:
    reply = await demo.client.get(f"http://127.0.0.1:{demo.layout.sandbox_http_port}/v1/messages")
    messages = reply.json()["messages"] if reply.status_code == 200 else []
    return Counter(m["channel"] for m in messages if m.get("to") in personal)


def _short(account_id: str) -> str:
    return account_id[:8]


def _reasons(reasons: list[dict[str, Any]]) -> str:
    return "; ".join(f"{r.get('rule')}: {r.get('message')}" for r in reasons) or "-"


async def _reminders_section(
    demo: Demo, accounts: dict[str, list[str]], personal: frozenset[str]
) -> list[str]:
    rows: list[tuple[str, ...]] = []
    stops: Counter[str] = Counter()
    for tenant, ids in accounts.items():
        states: Counter[tuple[str, str]] = Counter()
        for account_id in ids:
            for job in await demo.jobs(tenant, account_id):
                states[(job["channel"], job["state"])] += 1
                if job["state"] == "cancelled":
                    stops[_reasons(job["reasons"])] += 1
        rows += [(tenant, channel, state, str(n)) for (channel, state), n in sorted(states.items())]
    lines = ["== reminders sent ==", *table(("TENANT", "CHANNEL", "STATE", "JOBS"), rows)]
    took = await _sandbox_messages(demo, personal)
    lines.append(
        f"the sandbox's gateways took {sum(took.values())} messages for this run's borrowers: {dict(took)}"
    )
    lines += [f"cancelled: {n} x {reason}" for reason, n in stops.most_common(5)]
    return lines


async def _denials_section(demo: Demo, accounts: dict[str, list[str]], period: Period) -> list[str]:
    lines, details = ["== permit denials and their reasons =="], []
    for tenant, ids in accounts.items():
        ours = set(ids)
        for account_id in ids:
            for job in await demo.jobs(tenant, account_id):
                if job["state"] == "denied":
                    details.append((tenant, job["channel"], _short(account_id), _reasons(job["reasons"])))
        for visit in await demo.visits(tenant):
            if visit["account_id"] in ours and visit["state"] == "denied":
                details.append((tenant, "visit", _short(visit["account_id"]), _reasons(visit["reasons"])))
        report = await demo.get("compliance", "/v1/reports/decisions", tenant, **period.params("compliance"))
        for rule in (report or {}).get("rules", []):
            if rule["outcome"] == "deny":
                lines.append(f"{tenant}: {rule['count']} denied under {rule['rule']}")
    lines += ["", *table(("TENANT", "CHANNEL", "ACCOUNT", "WHY (RULE: MESSAGE)"), details)] if details else []
    if not details:
        lines.append("(no permit was denied in this run)")
    return lines


async def _plans_section(demo: Demo, day: date) -> list[str]:
    lines = [f"== visit plans ({CN_TENANT}, {day}, region {VISIT_REGION}) =="]
    built = await demo.send(
        "POST", "visits", "/v1/plans:build", CN_TENANT, {"date": str(day), "region": VISIT_REGION}
    )
    if built.status_code != 200:
        return [*lines, f"(plans:build answered {built.status_code}: {built.text[:200]})"]
    answer = built.json()
    lines.append(
        f"solver {answer['solver']} in {answer['solve_s']} s; {len(answer['dropped'])} stop(s) dropped"
    )
    lines += [f"dropped {_short(d['visit_id'])}: {d['reason']}" for d in answer["dropped"][:5]]
    plan = await demo.get("visits", f"/v1/crews/{CREW}/plan", CN_TENANT, date=str(day))
    if plan is None:
        return [*lines, f"(crew {CREW} has no plan for {day})"]
    lines.append(
        f"crew {CREW}: {len(plan['stops'])} stops, {plan['distance_m'] / 1000:.1f} km, "
        f"{plan['travel_s'] // 60} min on the road"
    )
    stops = [
        (
            str(i),
            datetime.fromisoformat(s["arrive_at"]).astimezone(SHANGHAI).strftime("%H:%M"),
            datetime.fromisoformat(s["depart_at"]).astimezone(SHANGHAI).strftime("%H:%M"),
            _short(s["account_id"]),
        )
        for i, s in enumerate(plan["stops"], 1)
    ]
    return [*lines, *table(("STOP", "ARRIVE", "LEAVE", "ACCOUNT"), stops)]


async def _analysis_section(demo: Demo, period: Period, day: date) -> list[str]:
    lines = ["== case analysis (this run's accounts) =="]
    # visits are for the borrower's next day: the report covers today and tomorrow
    visits_period = Period(
        datetime.combine(day - timedelta(days=1), time(), tzinfo=UTC),
        datetime.combine(day + timedelta(days=1), time(), tzinfo=UTC),
    )
    for tenant in TENANTS:

        def token(service: str, tenant: str = tenant) -> str:
            return issue_token(demo.key, sub="demo", role=Role.OPS, tenant=tenant, audience=[service])

        found: list[Fetched] = await fetch_reports(
            ["reminders", "compliance"], period, token, client=demo.client
        )
        if tenant == CN_TENANT:
            found += await fetch_reports(["visits"], visits_period, token, client=demo.client)
        lines.append(f"\n--- {tenant} ---")
        for f in found:
            lines.append(RENDER[f.kind](f.report) if f.report is not None else f"{f.kind} report: {f.error}")
            lines.append("")
    return lines


async def _audit_section(demo: Demo) -> tuple[list[str], bool]:
    """`collectctl audit verify --of TENANT` for each demo tenant, as an operator would run it."""
    lines, ok = ["== audit trail (collectctl audit verify) =="], True
    collectctl = str(Path(sys.executable).with_name("collectctl"))
    for tenant in TENANTS:
        proc = await asyncio.create_subprocess_exec(
            *(collectctl, "audit", "verify", "--of", tenant, "--url", demo.layout.service_url("compliance")),
            env={**os.environ, "COLLECTCTL_SIGNING_KEY_FILE": str(demo.layout.jwt_private_key)},
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        said, _ = await proc.communicate()
        ok = ok and proc.returncode == 0
        lines.append(
            f"{tenant}: {'verified' if proc.returncode == 0 else 'FAILED'}: {said.decode().strip()[:300]}"
        )
    return lines, ok


# The steps `run` reports to `step` (collectctl demo's progress bar): crew and strategy, each
# lender's book posted, first reminders, the follow-ups, everything applied, the sections read.
STEPS: int = len(TENANTS) + 5


def _no_step(_: str) -> None:
    return None


async def run(
    size: int = 20, *, layout: Layout | None = None, out: Out = print, step: Out = _no_step
) -> DemoRun:
    """Post the portfolio, act on it once the first reminders went, and print what came of it.
    `step` is called once per step done (STEPS in all), with what comes next."""
    layout = layout or Layout()
    started = datetime.now(UTC) - timedelta(seconds=1)
    rng = random.Random(uuid.uuid4().int)  # noqa: S311 - demo data, not secrets
    run_id = uuid.uuid4().hex[:6]
    books = {t: portfolio(t, f"{t[:2]}{run_id}", rng, size) for t in TENANTS}
    personal = frozenset(v for book in books.values() for v in book.personal)
    async with httpx.AsyncClient(timeout=60) as client:
        demo = Demo(layout, client, out)
        await demo.field_force()
        await demo.champion_and_challenger()
        step("posting the lenders' books")
        accounts: dict[str, list[str]] = {}
        for tenant, book in books.items():
            results = await demo.post(tenant, book.placements)
            accounts[tenant] = [r["account_id"] for r in results[:size]]
            bad = len([r for r in results if r["status"] == "rejected"])
            out(f"{tenant:13} posted {len(results)} events: {len(results) - bad} accepted, {bad} rejected")
            step(f"{tenant} posted")
        out("waiting for the first reminders (sent, or deferred to the borrower's permitted hours) ...")
        await until(lambda: demo.first_reminders_went(accounts), timeout_s=45)
        step("first reminders went")
        await _act(demo, books, accounts)
        step("payments, promises, a dispute, a cease and visits posted")
        out("waiting for payments, promises and visit permits to be applied ...")
        for tenant, book in books.items():
            # every visit case of the run (escalations not paid off at once, and those ops asked for) decided
            expected = len([n for n in book.escalating if n % 5 != 0]) + len(book.visit_requests)
            ours = set(accounts[tenant])
            if expected:
                await until(partial(demo.visits_decided, tenant, ours, expected), timeout_s=30)
        await asyncio.sleep(2)  # the last payments' stop events reach reminders
        step("reading what came of it")
        period = Period(started, datetime.now(UTC) + timedelta(seconds=1))
        day = datetime.now(SHANGHAI).date() + timedelta(days=1)
        sections = [
            await _reminders_section(demo, accounts, personal),
            await _denials_section(demo, accounts, period),
            await _plans_section(demo, day),
            await _analysis_section(demo, period, day),
        ]
        audit, audit_ok = await _audit_section(demo)
        step("done")
    for lines in [*sections, audit]:
        out("\n" + "\n".join(lines))
    return DemoRun(started_at=started, personal=personal, accounts=accounts, audit_ok=audit_ok)


async def _act(demo: Demo, books: dict[str, Portfolio], accounts: dict[str, list[str]]) -> None:
    """Our agents take the promises, the lenders post what happened, ops asks for the visits."""
    due = (datetime.now(UTC).date() + timedelta(days=7)).isoformat()
    for tenant, book in books.items():
        for n, amount in book.promises.items():
            body = {
                "account_id": accounts[tenant][n],
                "amount_minor": amount,
                "due_date": due,
                "source": "call",
            }
            await demo.send("POST", "reminders", "/v1/promises", tenant, body)
        events = follow_ups(book)
        if events:
            await demo.post(tenant, events)
        for n in book.visit_requests:
            body = {"account_id": accounts[tenant][n], "reason": "no answer to reminders"}
            await demo.send("POST", "visits", "/v1/visits", tenant, body)
