"""Every stored decision keeps what the engine saw; replayed against its pack it gives the same answer,
by the test's own engine call, by the service's replay endpoints and by `collectctl decisions
replay`; a snapshot altered afterwards is found by the audit verify."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from common.testing.stack import Stack
from compliance import audit_store
from compliance.domain.engine import evaluate
from compliance.domain.packs import load_all, pack_for
from compliance.replay import answer_of
from compliance.views import restore
from tests.e2e.compliance.desk import (
    Desk,
    Placed,
    midday_zone,
    next_local,
    rules_of,
    unreachable_by_reminders,
)
from tests.e2e.intake import builders as b
from tests.support.cli import collectctl
from tests.support.rollback import rolled_back

pytestmark = pytest.mark.e2e

PERMIT_TTL = timedelta(minutes=15)
PROVISIONAL = {
    "compliance.account_not_yet_known",
    "compliance.state_not_fresh",
}  # the service's default (COMPLIANCE_PERMIT_TTL_S)


async def stored(pg: asyncpg.Pool, permit_id: str) -> dict[str, Any]:
    row = await pg.fetchrow("SELECT * FROM compliance.decisions WHERE permit_id = $1::uuid", permit_id)
    assert row is not None, permit_id
    decision = dict(row)
    for column in ("snapshot", "reasons", "request", "evaluated_rules"):
        decision[column] = json.loads(decision[column])
    return decision


def replay(decision: dict[str, Any]) -> dict[str, Any]:
    request, state, ledger = restore(decision["snapshot"])
    pack = load_all()[pack_for(state.jurisdiction)]
    return answer_of(evaluate(request, state, ledger, pack, permit_ttl=PERMIT_TTL))


async def decisions_to_replay(desk: Desk, cn: Placed, us: Placed, zone: str) -> list[dict[str, Any]]:
    """A spread of answers: allows, a quiet-hours and an inconvenient-time deferral, a ledger
    deferral, consent and hold denials."""
    phone = await desk.contact_point(us, "phone")
    answers = [
        await desk.permit(us, channel="sms", contact_point_id=phone),
        await desk.permit(us, channel="voice_call", autodialed=True, contact_point_id=phone),
        await desk.permit(cn, channel="voice_call", at=next_local(zone, 23)),
        await desk.permit(cn, channel="sms"),
    ]
    for _ in range(3):
        permit = await desk.permit(cn, channel="voice_call")
        answers.append(permit)
        await desk.attempt(cn, channel="voice_call", outcome="connected", permit_id=permit["permit_id"])
    answers.append(await desk.permit(cn, channel="voice_call"))
    inconvenient = {
        "inconvenient": [
            {"days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"], "start": "11:00", "end": "15:00"}
        ]
    }
    await desk.lender.accept(
        b.lender_event("borrower.preferences_changed", us.external_account_id, preferences=inconvenient)
    )
    # (A call: an e-mail would also wait for the day's spacing after the first reminder.)
    answers.append(
        await desk.verdict_settles(
            us.account_id, lambda d: d["outcome"] == "defer", channel="voice_call", contact_point_id=phone
        )
    )
    answers.append(await desk.permit(us, channel="voice_call", contact_point_id=phone))
    await desk.lender.accept(
        b.lender_event("borrower.flagged", cn.external_account_id, flag="bankrupt", set=True)
    )
    await desk.verdict_settles(cn.account_id, lambda d: d["outcome"] == "deny", channel="email")
    answers.append(await desk.permit(cn, channel="email"))
    return [a for a in answers if "permit_id" in a]


async def test_every_stored_decision_replays_to_the_same_answer(desk: Desk, pg: asyncpg.Pool) -> None:
    zone = midday_zone()
    cn = await desk.place(unreachable_by_reminders(b.account_placed(timezone=zone)))
    us = await desk.place(b.us_account_placed(timezone=zone))  # consented SMS: reminders may decide too

    answers = await decisions_to_replay(desk, cn, us, zone)

    # SMS with the consent given at placement: allowed, unless the borrower's own first reminder got
    # there first (the notice and the first SMS can be out within a tenth of a second of placement).
    first = (answers[0]["outcome"], rules_of(answers[0]))
    assert first in (("allow", set()), ("defer", {"US.contact_spacing"})), answers[0]
    outcomes = {(a["outcome"], frozenset(rules_of(a))) for a in answers}
    assert ("allow", frozenset()) in outcomes
    assert ("deny", frozenset({"US.tcpa_prior_express_consent"})) in outcomes
    assert ("deny", frozenset({"CN.sms_consent"})) in outcomes
    assert ("defer", frozenset({"CN.quiet_hours"})) in outcomes
    assert ("defer", frozenset({"CN.connected_calls_per_day"})) in outcomes
    assert ("defer", frozenset({"US.quiet_hours"})) in outcomes
    assert ("deny", frozenset({"CN.bankruptcy"})) in outcomes
    assert len(answers) == 10

    # Every decision on both accounts, the reminders service's own requests included.
    rows = await pg.fetch(
        "SELECT permit_id FROM compliance.decisions WHERE account_id = ANY($1::uuid[])",
        [cn.account_id, us.account_id],
    )
    permit_ids = {str(r["permit_id"]) for r in rows}
    assert {a["permit_id"] for a in answers} <= permit_ids
    mine = {a["permit_id"]: a for a in answers}
    for permit_id in permit_ids:
        decision = await stored(pg, permit_id)
        if decision["policy"] == "none":
            # Deferred before the engine ran: compliance had not caught up with intake yet.
            assert {r["rule"] for r in decision["reasons"]} <= PROVISIONAL, decision
            continue
        pack = load_all()[pack_for(decision["snapshot"]["state"]["jurisdiction"])]
        assert decision["policy"] == pack.version_tag
        again = replay(decision)
        assert again == {key: decision[key] for key in again}, (decision, again)
        if permit_id in mine:
            answer = mine[permit_id]
            assert (answer["outcome"], answer["policy"], answer["reasons"]) == (
                again["outcome"],
                again["policy"],
                again["reasons"],
            )


async def test_the_service_replays_its_decisions_and_verify_finds_an_altered_snapshot(
    desk: Desk, pg: asyncpg.Pool, stack: Stack
) -> None:
    zone = midday_zone()
    cn = await desk.place(unreachable_by_reminders(b.account_placed(timezone=zone)))
    us = await desk.place(b.us_account_placed(timezone=zone))
    answers = await decisions_to_replay(desk, cn, us, zone)

    # One at a time, as an officer explaining a decision would.
    for answer in answers:
        reply = await desk.compliance.post(
            f"/v1/decisions/{answer['permit_id']}:replay",
            json={"against_current": True},
            headers=desk.headers(),
        )
        assert reply.status_code == 200, reply.text
        found = reply.json()
        assert (found["status"], found["differences"], found["snapshot_verified"]) == ("same", [], True), (
            found
        )
        assert found["engine"] == found["engine_now"] and not found["engine_changed"]
        assert found["current"]["outcome"] == answer["outcome"] and not found["current"]["outcome_changed"]
    # Another tenant's officer cannot replay them; a permit that does not exist is not found.
    stranger = desk.headers(tenant=f"{desk.tenant}-other")
    first = answers[0]["permit_id"]
    assert (await desk.compliance.post(f"/v1/decisions/{first}:replay", headers=stranger)).status_code == 404
    assert (
        await desk.compliance.post("/v1/decisions/nope:replay", headers=desk.headers())
    ).status_code == 404

    # The tenant's whole period through the command line, two decisions a page.
    out = await collectctl(
        "decisions",
        "replay",
        "--from",
        "2000-01-01T00:00:00+00:00",
        "--of",
        desk.tenant,
        "--current",
        "--json",
        "--page",
        "2",
        env={"COLLECTCTL_SIGNING_KEY_FILE": str(stack.layout.jwt_private_key)},
    )
    total = json.loads(out)
    assert total["replayed"] >= len(answers)
    assert total["replayed"] == total["same"] + total["provisional"], total
    assert total["snapshots_verified"] == total["replayed"], total
    assert (total["differs"], total["unreplayable"], total["changed_today"]) == (0, 0, 0)

    # A snapshot changed in the table afterwards (here inside a transaction that is rolled back):
    # the tenant's chain no longer verifies, and the problem names the decision.
    async with rolled_back(stack) as conn:
        session = AsyncSession(bind=conn)
        assert (await audit_store.verify(session, desk.tenant)).ok
        await session.execute(
            text(
                "UPDATE compliance.decisions SET snapshot = jsonb_set(snapshot, '{state,timezones}', "
                "'[\"Pacific/Kiritimati\"]') WHERE permit_id = CAST(:p AS uuid)"
            ),
            {"p": first},
        )
        result = await audit_store.verify(session, desk.tenant)
        assert not result.ok
        assert result.problem is not None and f"decision {first}: its stored snapshot" in result.problem
    denied = next(a["permit_id"] for a in answers if a["outcome"] == "deny")
    async with rolled_back(stack) as conn:
        session = AsyncSession(bind=conn)
        await session.execute(
            text("UPDATE compliance.decisions SET outcome = 'allow' WHERE permit_id = CAST(:p AS uuid)"),
            {"p": denied},
        )
        result = await audit_store.verify(session, desk.tenant)
        assert not result.ok
        assert result.problem is not None and f"decision {denied}: its stored outcome" in result.problem
