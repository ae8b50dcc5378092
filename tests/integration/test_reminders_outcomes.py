"""Reminders' case analysis against the real PostgreSQL: the report's statements over rows the test
inserts, and `GET /v1/reports/outcomes` of an in-process app (no consumers, no relay) reading them.

The rows go into a scratch copy of the reminders tables (built from `reminders.tables` in a schema
of its own, inside a transaction that is rolled back), so the test neither sees nor locks the rows
of the running stack, and runs whether or not the stack's database has this revision's columns yet
(`test_migrations` checks that the migrations build the same tables).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import insert, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession, async_sessionmaker

from common.auth import Role
from common.testing.stack import Stack
from reminders import reports, tables
from reminders.app import create_app
from reminders.settings import RemindersSettings
from tests.support.rollback import rolled_back

pytestmark = pytest.mark.integration

TENANT = "outcomes-t"
START = datetime(2026, 11, 1, tzinfo=UTC)
END = datetime(2026, 12, 1, tzinfo=UTC)
IN_PERIOD = datetime(2026, 11, 10, tzinfo=UTC)


@pytest.fixture
async def scratch(stack: Stack) -> AsyncIterator[AsyncConnection]:
    """A connection whose `reminders` schema is a fresh, empty one that the rollback removes."""
    async with rolled_back(stack) as conn:
        name = f"outcomes_{uuid.uuid4().hex[:10]}"
        await conn.execute(text(f'CREATE SCHEMA "{name}"'))
        translated = await conn.execution_options(schema_translate_map={tables.SCHEMA: name})
        wanted = [tables.accounts, tables.jobs, tables.promises, tables.strategies]
        await translated.run_sync(lambda sync: tables.metadata.create_all(sync, tables=wanted))
        yield translated


class Book:
    """Accounts, their jobs and promises, written as the service would have left them."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def account(
        self,
        *,
        strategy: str = "builtin",
        variant: str = "champion",
        tenant: str = TENANT,
        placed_at: datetime = IN_PERIOD,
        closed: tuple[str, datetime | None] | None = None,
        escalated: bool = False,
    ) -> uuid.UUID:
        account_id = uuid.uuid4()
        await self.conn.execute(
            insert(tables.accounts).values(
                account_id=account_id,
                tenant=tenant,
                borrower_id=uuid.uuid4(),
                external_account_id=f"ext-{account_id.hex[:8]}",
                jurisdiction="CN",
                currency="CNY",
                amount_due_minor=100_000,
                due_date=date(2026, 10, 1),
                strategy=strategy,
                variant=variant,
                placed_at=placed_at,
                status="closed" if closed else "open",
                closed_reason=closed[0] if closed else None,
                closed_at=closed[1] if closed else None,
                escalated_at=placed_at if escalated else None,
            )
        )
        return account_id

    async def job(
        self, account_id: uuid.UUID, channel: str, *, sent_at: datetime | None, state: str = "sent"
    ) -> None:
        await self.conn.execute(
            insert(tables.jobs).values(
                job_id=uuid.uuid4(),
                tenant=TENANT,
                account_id=account_id,
                borrower_id=uuid.uuid4(),
                step_dpd=int(uuid.uuid4().int % 3000),
                channel=channel,
                state=state,
                due_at=sent_at or IN_PERIOD,
                sent_at=sent_at if state == "sent" else None,
            )
        )

    async def promise(self, account_id: uuid.UUID, state: str, source: str = "call") -> None:
        await self.conn.execute(
            insert(tables.promises).values(
                promise_id=uuid.uuid4(),
                tenant=TENANT,
                account_id=account_id,
                amount_minor=10_000,
                due_date=date(2026, 11, 20),
                state=state,
                source=source,
            )
        )

    async def strategy(self, name: str, variants: list[str], tenant: str = TENANT) -> None:
        document: dict[str, Any] = {
            "jurisdiction": "CN",
            "variants": [{"name": v, "weight": 1} for v in variants],
        }
        await self.conn.execute(insert(tables.strategies).values(tenant=tenant, name=name, document=document))


def at(hours: int) -> datetime:
    return IN_PERIOD + timedelta(hours=hours)


async def _book(conn: AsyncConnection) -> None:
    """Five accounts of the cohort and three that are not, with the contacts and promises below."""
    book = Book(conn)
    # cured (paid) after an SMS and an e-mail; a push that went after the cure is no credit
    paid = await book.account(closed=("paid", at(30)))
    await book.job(paid, "sms", sent_at=at(1))
    await book.job(paid, "email", sent_at=at(25))
    await book.job(paid, "push", sent_at=at(31))
    await book.promise(paid, "kept")
    # still open and escalated; its denied job is no contact
    owing = await book.account(escalated=True)
    await book.job(owing, "sms", sent_at=at(2))
    await book.job(owing, "email", sent_at=None, state="denied")
    await book.promise(owing, "broken")
    # recalled: closed, no cure
    recalled = await book.account(strategy="own", closed=("recalled", at(40)))
    await book.job(recalled, "sms", sent_at=at(3))
    # settled with no closing time known (closed before the column existed): its last contact counts
    settled = await book.account(strategy="own", variant="challenger", closed=("settled", None))
    await book.job(settled, "sms", sent_at=at(4))
    await book.promise(settled, "active", source="visit")
    # paid with nothing sent: a cure without a contact
    await book.account(strategy="own", variant="challenger", closed=("paid", at(5)))
    await book.strategy("own", ["champion", "challenger"])
    # not the cohort: placed before the period, another tenant's, and that tenant's strategy of the same name
    early = await book.account(placed_at=START - timedelta(seconds=1), closed=("paid", at(1)))
    await book.job(early, "sms", sent_at=at(0))
    await book.promise(early, "kept")
    other = await book.account(tenant="outcomes-other", strategy="own", variant="x", closed=("paid", at(1)))
    await book.promise(other, "kept")
    await book.strategy("own", ["x"], tenant="outcomes-other")


async def test_the_report_counts_the_cohort_placed_in_the_period(scratch: AsyncConnection) -> None:
    await _book(scratch)
    report = await reports.outcomes_report(AsyncSession(bind=scratch), TENANT, START, END)

    totals = report["totals"]
    assert (totals["accounts"], totals["cured"], totals["escalated"]) == (5, 3, 1)
    assert totals["cure_rate"] == 0.6
    assert (totals["promises"]["made"], totals["promises"]["kept"], totals["promises"]["broken"]) == (3, 1, 1)
    assert totals["promises"]["kept_rate"] == 0.5
    assert [(s["strategy"], s["accounts"], s["cured"]) for s in report["by_strategy"]] == [
        ("builtin", 2, 1),
        ("own", 3, 2),
    ]
    assert [(v["strategy"], v["variant"], v["champion"], v["cured"]) for v in report["by_variant"]] == [
        ("builtin", "champion", True, 1),
        ("own", "challenger", False, 2),
        ("own", "champion", True, 0),
    ]
    channels = {r["channel"]: (r["contacts_sent"], r["accounts"], r["cures"]) for r in report["by_channel"]}
    assert channels == {"email": (1, 1, 1), "push": (1, 1, 0), "sms": (4, 4, 1), "none": (0, 1, 1)}
    assert {p["channel"]: p["made"] for p in report["promises_by_channel"]} == {"call": 2, "visit": 1}
    [cure, kept] = report["challengers"]
    assert (cure["strategy"], cure["variant"], cure["champion"], cure["metric"]) == (
        "own",
        "challenger",
        "champion",
        "cure_rate",
    )
    assert (cure["variant_rate"], cure["champion_rate"], cure["difference"]) == (1.0, 0.0, 1.0)
    assert cure["significant"] is False  # 2 of 2 against 0 of 1 proves nothing
    assert kept["metric"] == "promise_kept_rate" and kept["difference"] is None


async def test_an_empty_period_reports_zeroes(scratch: AsyncConnection) -> None:
    await _book(scratch)
    report = await reports.outcomes_report(AsyncSession(bind=scratch), TENANT, END, END + timedelta(days=1))
    assert report["totals"]["accounts"] == 0
    assert report["by_variant"] == [] and report["challengers"] == []


@pytest.fixture
async def app_client(stack: Stack, scratch: AsyncConnection) -> AsyncIterator[httpx.AsyncClient]:
    layout = stack.layout
    settings = RemindersSettings(
        environment="dev",
        database_url=layout.role_url("reminders"),
        kafka_bootstrap=stack.kafka_bootstrap,
        jwt_public_key_file=layout.jwt_public_key,
        field_keys_file=layout.field_keys,
        start_workers=False,
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        # the routes read the scratch tables through the test's transaction
        app.state.runtime.sessions = async_sessionmaker(bind=scratch, expire_on_commit=False)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://reminders") as client:
            yield client


async def test_the_route_answers_the_tenant_of_the_token(
    stack: Stack, scratch: AsyncConnection, app_client: httpx.AsyncClient
) -> None:
    await _book(scratch)
    period = {"from": START.isoformat(), "to": END.isoformat()}
    for role in (Role.OPS, Role.COMPLIANCE, Role.ADMIN):
        response = await app_client.get(
            "/v1/reports/outcomes", params=period, headers=stack.headers(tenant=TENANT, role=role)
        )
        assert response.status_code == 200, response.text
        assert response.json()["totals"]["accounts"] == 5
    other = await app_client.get(
        "/v1/reports/outcomes", params=period, headers=stack.headers(tenant="outcomes-other", role=Role.OPS)
    )
    assert other.json()["totals"]["accounts"] == 1
    for role in (Role.LENDER, Role.AGENT):
        refused = await app_client.get(
            "/v1/reports/outcomes", params=period, headers=stack.headers(tenant=TENANT, role=role)
        )
        assert refused.status_code == 403
    backwards = {"from": END.isoformat(), "to": START.isoformat()}
    too_long = {"from": (END - timedelta(days=400)).isoformat(), "to": END.isoformat()}
    for bad in (backwards, too_long, {"from": "2026-11-01"}):
        response = await app_client.get(
            "/v1/reports/outcomes", params=bad, headers=stack.headers(tenant=TENANT, role=Role.OPS)
        )
        assert response.status_code == 422, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
