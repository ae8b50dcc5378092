"""A permit is single-use and expires; deliveries that break that are violations, reported twice:
in GET /v1/violations and as violation.detected on compliance.v1."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from tests.e2e.compliance.desk import Desk, midday_zone, unreachable_by_reminders
from tests.e2e.intake import builders as b

pytestmark = pytest.mark.e2e


async def test_a_permit_is_used_once_expires_and_is_needed_for_every_outbound_contact(desk: Desk) -> None:
    placed = await desk.place(unreachable_by_reminders(b.account_placed(timezone=midday_zone())))
    point = await desk.contact_point(placed, "email")
    phone = await desk.contact_point(placed, "phone")

    first = await desk.permit(placed, channel="email", contact_point_id=point)
    assert first["outcome"] == "allow", first
    expires = datetime.fromisoformat(first["expires_at"])
    sent = await desk.attempt(
        placed, channel="email", outcome="delivered", permit_id=first["permit_id"], contact_point_id=point
    )
    resent = await desk.attempt(
        placed, channel="email", outcome="delivered", permit_id=first["permit_id"], contact_point_id=point
    )

    # (A second e-mail would wait a day: one collection message a day. A call does not.)
    second = await desk.permit(placed, channel="voice_call", contact_point_id=phone)
    assert second["outcome"] == "allow", second
    late = await desk.attempt(
        placed,
        channel="voice_call",
        outcome="connected",
        permit_id=second["permit_id"],
        at=datetime.fromisoformat(second["expires_at"]) + timedelta(seconds=1),
        contact_point_id=phone,
    )
    inbound = await desk.attempt(placed, channel="voice_call", outcome="conversation", direction="inbound")
    unpermitted = await desk.attempt(placed, channel="voice_call", outcome="no_answer")

    reused = (await desk.violation(resent)).payload
    expired = (await desk.violation(late)).payload
    missing = await desk.violation(unpermitted)
    # Same key, same partition: by the time the last violation is out, the earlier attempts were read.
    assert reused["kind"] == "permit_reused"
    assert reused["permit_id"] == first["permit_id"]
    assert sent in reused["detail"]
    assert expired["kind"] == "permit_expired"
    assert expired["permit_id"] == second["permit_id"]
    assert missing.payload["kind"] == "delivery_without_permit"
    assert missing.payload["permit_id"] is None
    assert missing.key == placed.borrower_id
    assert missing.headers["ce_subject"] == placed.account_id
    assert missing.headers["ce_tenant"] == desk.tenant
    assert missing.headers["ce_source"] == "compliance"
    published = desk.feed.matching(
        lambda r: r.type == "violation.detected" and r.headers.get("ce_subject") == placed.account_id
    )
    assert sorted(r.payload["attempt_id"] for r in published) == sorted([resent, late, unpermitted])

    listed = {v["attempt_id"]: v for v in await desk.violations()}
    assert {a: v["kind"] for a, v in listed.items()} == {
        resent: "permit_reused",
        late: "permit_expired",
        unpermitted: "delivery_without_permit",
    }
    assert sent not in listed and inbound not in listed  # a valid first use; a call the borrower made
    assert all(v["account_id"] == placed.account_id for v in listed.values())
    assert {v["violation_id"] for v in listed.values()} == {r.payload["violation_id"] for r in published}
    assert expires == datetime.fromisoformat(first["decided_at"]) + timedelta(minutes=15)

    used = {d["permit_id"]: d for d in await desk.decisions(placed.account_id)}
    assert used[first["permit_id"]]["used_by"] == sent


async def test_a_permit_for_a_later_time_used_now_is_a_violation(desk: Desk) -> None:
    placed = await desk.place(unreachable_by_reminders(b.account_placed(timezone=midday_zone())))
    point = await desk.contact_point(placed, "email")
    later = datetime.fromisoformat(
        (await desk.permit(placed, channel="email", contact_point_id=point))["decided_at"]
    )
    tomorrow = await desk.permit(
        placed, channel="email", contact_point_id=point, at=later + timedelta(days=1)
    )
    assert tomorrow["outcome"] == "allow", tomorrow
    early = await desk.attempt(
        placed, channel="email", outcome="delivered", permit_id=tomorrow["permit_id"], contact_point_id=point
    )
    violation = (await desk.violation(early)).payload
    assert violation["kind"] == "permit_mismatch"
    assert "used earlier" in violation["detail"]
