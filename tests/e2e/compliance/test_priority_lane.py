"""A hold does not wait behind a backlog: while compliance's ordered consumer of intake.v1 is stuck
behind a placement (a lock holds it here; a lender's bulk load in life), a borrower flagged deceased
is refused every contact at once. A hold for a borrower whose placement is still in the backlog
waits for it, and applies after it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest

from tests.e2e.compliance.desk import Desk, next_local, rules_of, unreachable_by_reminders
from tests.e2e.intake import builders as b
from tests.support.backlog import Backlog
from tests.support.waiting import eventually

pytestmark = pytest.mark.e2e

ZONE = "Asia/Shanghai"


@pytest.fixture
async def backlog(pg: asyncpg.Pool) -> AsyncIterator[Backlog]:
    async with pg.acquire() as conn:
        # Placements cannot be applied while this is held (they add accounts); stop events can.
        held = Backlog(conn, "compliance.accounts")
        try:
            yield held
        finally:
            await held.release()


async def known_to_compliance(pg: asyncpg.Pool, account_id: str) -> bool:
    found = await pg.fetchval("select 1 from compliance.accounts where account_id = $1::uuid", account_id)
    return found is not None


async def test_a_hold_overtakes_a_stuck_backlog_and_one_behind_it_waits_its_turn(
    desk: Desk, pg: asyncpg.Pool, backlog: Backlog
) -> None:
    morning = {"channel": "voice_call", "at": next_local(ZONE, 10)}
    # Neither borrower hears from reminders: a contact attempt's update of the account would wait on
    # the lock that stands in for the backlog here, holding the borrower's row that the hold needs
    # (in life a backlog is queued events, which hold no lock).
    known = await desk.place(unreachable_by_reminders(b.account_placed(timezone=ZONE)))
    assert (await desk.evaluate(known.account_id, **morning))["outcome"] == "allow"

    await backlog.hold()
    stuck = unreachable_by_reminders(b.account_placed(timezone=ZONE))
    stuck_id = await desk.lender.accept(stuck)
    ext = stuck["account"]["external_account_id"]
    await desk.lender.accept(b.lender_event("borrower.flagged", ext, flag="deceased", set=True))

    await desk.lender.accept(
        b.lender_event("borrower.flagged", known.external_account_id, flag="deceased", set=True)
    )
    await eventually(lambda: _flagged(pg, known.borrower_id), timeout_s=30)
    # A permit asked for now is refused. (A dry run would defer instead while the ordered consumer
    # lags on this partition: it cannot tell whether what lags is this borrower's.)
    dead = await desk.permit(known, channel="voice_call", at=morning["at"])
    assert (dead["outcome"], rules_of(dead)) == ("deny", {"CN.deceased"}), dead
    assert not await known_to_compliance(pg, stuck_id), "the backlog was not held back"

    # The backlog moves: the stuck borrower is placed, then flagged, in that order.
    await backlog.release()
    await eventually(lambda: known_to_compliance(pg, stuck_id), timeout_s=60)
    held = await desk.verdict_settles(stuck_id, lambda d: rules_of(d) == {"CN.deceased"}, **morning)
    assert held["outcome"] == "deny", held


async def _flagged(pg: asyncpg.Pool, borrower_id: str) -> bool:
    holds = await pg.fetchval(
        "select holds from compliance.borrowers where borrower_id = $1::uuid", borrower_id
    )
    return "deceased" in (holds or [])
