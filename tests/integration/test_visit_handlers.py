"""Visits' handlers against the real PostgreSQL, each test inside a transaction that is rolled back:
the orders of events the end-to-end stack rarely produces on its own.

- an escalation (reminders.v1) that overtakes the account's placement (intake.v1, another topic):
  the case waits for the account and asks its permit when the placement arrives;
- an account with no home address: the case waits, asks no permit (compliance would be asked for a
  visit nobody can make), and asks once intake brings an address.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

import common.contracts.intake as c
import common.contracts.reminders as r
from common.clock import ManualClock
from common.contracts import type_of
from common.messaging.envelope import Event, new_envelope
from common.testing.stack import Stack
from tests.support.rollback import published, rolled_back
from visits.cases import Policy
from visits.handlers import build_router

pytestmark = pytest.mark.integration

NOW = datetime(2026, 12, 3, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
POLICY = Policy(recording_jurisdictions=frozenset({"CN"}), default_crew_size=2)


@pytest.fixture
async def session(stack: Stack) -> AsyncIterator[AsyncSession]:
    async with rolled_back(stack) as conn:
        yield AsyncSession(bind=conn)


def event(data: Any, tenant: str) -> Event[Any]:
    ce_type, version = type_of(type(data))
    return Event(
        envelope=new_envelope(ce_type=ce_type, version=version, source="test", tenant=tenant), data=data
    )


def address(region: str = "广东") -> c.Address:
    return c.Address(id="addr-1", sealed="enc:v1:opaque", country="CN", region=region, type="home")


def placed(account_id: uuid.UUID, borrower_id: uuid.UUID, addresses: list[c.Address]) -> c.AccountPlaced:
    ids = {"account_id": str(account_id), "borrower_id": str(borrower_id)}
    return c.AccountPlaced(
        lender_event_id=f"le-{uuid.uuid4()}",
        occurred_at=NOW,
        seq=1,
        **ids,
        account=c.Account(
            account_id=str(account_id),
            external_account_id="ext-1",
            product=None,
            currency="CNY",
            amount_due_minor=500_000,
            principal_minor=None,
            due_date=date(2026, 10, 15),
            jurisdiction="CN",
        ),
        borrower=c.Borrower(
            borrower_id=str(borrower_id),
            external_borrower_id="extb-1",
            name=None,
            national_id=None,
            phones=[],
            emails=[],
            addresses=addresses,
            timezones=["Asia/Shanghai"],
            language="zh-CN",
        ),
        third_parties=[],
    )


def escalated(account_id: uuid.UUID, borrower_id: uuid.UUID) -> r.CollectionEscalated:
    return r.CollectionEscalated(
        account_id=str(account_id),
        borrower_id=str(borrower_id),
        to="visit",
        reason="dpd>=30 and no promise",
        dpd=49,
        amount_minor=500_000,
        at=NOW,
    )


async def case_of(session: AsyncSession, account_id: uuid.UUID) -> Any:
    rows = (
        await session.execute(
            text("SELECT state, request_id, date, reasons FROM visits.visits WHERE account_id = :a"),
            {"a": account_id},
        )
    ).all()
    assert len(rows) == 1, rows
    return rows[0]


async def permit_requests(session: AsyncSession, account_id: uuid.UUID) -> list[dict[str, Any]]:
    """The permit requests the transaction will publish (the outbox is written at commit)."""
    return [p for p in published(session, "permit.requested") if p["account_id"] == str(account_id)]


@pytest.fixture
def router() -> Any:
    return build_router(ManualClock(NOW), POLICY)


async def visits_of_two_accounts(
    session: AsyncSession, router: Any, tenant: str, day: date, **fields: Any
) -> list[tuple[uuid.UUID, uuid.UUID, uuid.UUID]]:
    """Two accounts placed, each with one visit on `day` in crew c1's hands (state and the rest in
    `fields`): (visit_id, account_id, borrower_id) of each."""
    from visits import repository as repo

    accounts = [(uuid.uuid4(), uuid.uuid4()) for _ in range(2)]
    await router.batch_handler_for("account.placed")(
        session, [event(placed(a, b, [address()]), tenant) for a, b in accounts]
    )
    visits = []
    for account_id, borrower_id in accounts:
        visit_id = uuid.uuid4()
        values = {"tenant": tenant, "account_id": account_id, "borrower_id": borrower_id, "date": day}
        await repo.insert_visit(
            session,
            {**values, "visit_id": visit_id, "source": "ops", "reason": "r", "crew_id": "c1", **fields},
        )
        visits.append((visit_id, account_id, borrower_id))
    return visits


async def test_an_escalation_that_overtakes_the_placement_asks_its_permit_when_the_account_arrives(
    session: AsyncSession, router: Any
) -> None:
    tenant, account_id, borrower_id = f"t-{uuid.uuid4().hex[:8]}", uuid.uuid4(), uuid.uuid4()

    await router.handler_for("collection.escalated")(
        session, event(escalated(account_id, borrower_id), tenant)
    )
    case = await case_of(session, account_id)
    assert case.state == "awaiting_account" and case.request_id is None
    assert await permit_requests(session, account_id) == []

    await router.batch_handler_for("account.placed")(
        session, [event(placed(account_id, borrower_id, [address()]), tenant)]
    )
    case = await case_of(session, account_id)
    assert case.state == "awaiting_permit"
    # The borrower's next local day (Shanghai), not the UTC one.
    assert case.date == date(2026, 12, 4)
    (request,) = await permit_requests(session, account_id)
    assert request["request_id"] == case.request_id
    assert request["channel"] == "visit" and request["crew_size"] == 2 and request["recording"] is True
    assert request["contact_point_id"] == "addr-1"
    # The window is the borrower's permitted day, not a moment.
    assert datetime.fromisoformat(request["until"]) - datetime.fromisoformat(request["at"]) > timedelta(
        hours=8
    )

    # The escalation redelivered (another reminders replica, a replay) opens no second case.
    await router.handler_for("collection.escalated")(
        session, event(escalated(account_id, borrower_id), tenant)
    )
    await case_of(session, account_id)
    assert len(await permit_requests(session, account_id)) == 1


async def test_a_case_with_no_address_waits_for_one_and_asks_no_permit_until_then(
    session: AsyncSession, router: Any
) -> None:
    tenant, account_id, borrower_id = f"t-{uuid.uuid4().hex[:8]}", uuid.uuid4(), uuid.uuid4()
    await router.batch_handler_for("account.placed")(
        session, [event(placed(account_id, borrower_id, []), tenant)]
    )
    await router.handler_for("collection.escalated")(
        session, event(escalated(account_id, borrower_id), tenant)
    )
    case = await case_of(session, account_id)
    assert case.state == "awaiting_address"
    assert [x["rule"] for x in case.reasons] == ["visits.no_address"]
    assert await permit_requests(session, account_id) == []

    changed = c.ContactChanged(
        lender_event_id=f"le-{uuid.uuid4()}",
        occurred_at=NOW,
        account_id=str(account_id),
        borrower_id=str(borrower_id),
        seq=2,
        phones=[],
        emails=[],
        addresses=[address()],
        timezones=["Asia/Shanghai"],
    )
    await router.handler_for("borrower.contact_changed")(session, event(changed, tenant))
    case = await case_of(session, account_id)
    assert case.state == "awaiting_permit" and case.reasons == []
    (request,) = await permit_requests(session, account_id)
    assert request["request_id"] == case.request_id

    # A payment still ends a case that waits for an address.
    paid = c.PaymentReceived(
        lender_event_id=f"le-{uuid.uuid4()}",
        occurred_at=NOW,
        account_id=str(account_id),
        borrower_id=str(borrower_id),
        seq=3,
        amount_minor=500_000,
        currency="CNY",
        paid_at=NOW,
        reference=None,
        balance_minor=0,
    )
    await router.handler_for("payment.received")(session, event(paid, tenant))
    assert (await case_of(session, account_id)).state == "cancelled"


@pytest.mark.parametrize(
    ("hold", "reason"),
    [
        ("do_not_visit", "do_not_visit"),
        ("vulnerable", "vulnerable"),
        ("deceased", "deceased"),
        (None, "payment"),
    ],
)
async def test_a_stop_event_takes_a_planned_visit_out_of_its_crews_plan(
    session: AsyncSession, router: Any, hold: str | None, reason: str
) -> None:
    from visits import repository as repo

    tenant, day = f"t-{uuid.uuid4().hex[:8]}", date(2026, 12, 4)
    visits = await visits_of_two_accounts(session, router, tenant, day, state="planned")
    visit_ids = [str(visit_id) for visit_id, _, _ in visits]
    document = {"crew_id": "c1", "date": str(day), "stops": [{"visit_id": v} for v in visit_ids]}
    await repo.save_plan(session, tenant, "c1", day, document, "vroom")

    (_, account_id, borrower_id) = visits[0]
    ids = {"lender_event_id": f"le-{uuid.uuid4()}", "occurred_at": NOW, "seq": 2}
    ids |= {"account_id": str(account_id), "borrower_id": str(borrower_id)}
    data: Any = (
        c.HoldSet(**ids, hold=hold)
        if hold
        else c.PaymentReceived(
            **ids, amount_minor=1, currency="CNY", paid_at=NOW, reference=None, balance_minor=499_999
        )
    )
    await router.handler_for("hold.set" if hold else "payment.received")(session, event(data, tenant))

    plan = await repo.plan(session, tenant, "c1", day)
    assert [s["visit_id"] for s in plan.document["stops"]] == visit_ids[1:]
    assert plan.document["cancelled"] == visit_ids[:1]
    cancelled = await repo.visit(session, uuid.UUID(visit_ids[0]))
    assert cancelled.state == "cancelled" and cancelled.reasons[0]["rule"] == f"visits.{reason}"
    # The borrower's other visit is untouched.
    assert (await repo.visit(session, uuid.UUID(visit_ids[1]))).state == "planned"


async def test_a_receipt_retried_after_lost_signal_is_recorded_once(
    session: AsyncSession, router: Any
) -> None:
    """The app loses signal after sending a cash receipt and sends it again, then once more with the
    notes edited: one receipt, one payment reaching intake, one attempt in the ledger. The same
    receipt for another visit is refused rather than taken as a second payment."""
    from visits import cases
    from visits import repository as repo

    tenant = f"t-{uuid.uuid4().hex[:8]}"
    visits = await visits_of_two_accounts(
        session,
        router,
        tenant,
        date(2026, 12, 3),
        state="checked_in",
        permit_id=uuid.uuid4(),
        check_in={"crew_id": "c1", "at": NOW.isoformat()},
    )
    visit_ids = [visit_id for visit_id, _, _ in visits]
    receipt = {"client_id": "app-receipt-1", "amount_minor": 500_000, "method": "cash", "number": "R-1"}

    def outcome(notes: str | None) -> cases.Outcome:
        return cases.Outcome(
            outcome="met_paid",
            entry_consent=True,
            notes=notes,
            promise=None,
            receipt=receipt,
            evidence=[],
            fingerprint=f"body-{notes}",
        )

    async def complete(visit_id: uuid.UUID, notes: str | None) -> bool:
        visit = await repo.visit(session, visit_id, lock=True)
        account = await repo.account(session, visit.account_id)
        return await cases.complete(session, visit, account, outcome(notes), agent_id="a1", now=NOW)

    assert await complete(visit_ids[0], None) is True
    assert await complete(visit_ids[0], None) is False  # the same body again
    assert await complete(visit_ids[0], "enc:v1:edited") is False  # the same receipt, notes edited
    with pytest.raises(cases.Refused) as refused:
        await complete(visit_ids[1], None)
    assert refused.value.status == 409

    rows = (
        await session.execute(
            text("SELECT visit_id, amount_minor FROM visits.receipts WHERE tenant = :t"), {"t": tenant}
        )
    ).all()
    assert [(r.visit_id, r.amount_minor) for r in rows] == [(visit_ids[0], 500_000)]
    completed = published(session, "visit.completed")
    assert [(p["visit_id"], p["receipt"]["amount_minor"]) for p in completed] == [
        (str(visit_ids[0]), 500_000)
    ]
    assert len(published(session, "contact.attempted")) == 1
    assert (await repo.visit(session, visit_ids[1])).state == "checked_in"
