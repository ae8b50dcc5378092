"""The provider webhooks as a prober and as a provider meet them: masks hide only a few digits of a
phone, so the inbound SMS webhook answers a borrower and a stranger alike and keeps nothing of the
stranger's; ops tokens are metered per tenant; providers sign with a secret each, and a signature
replayed later or sent elsewhere is refused. The sandbox signs its callbacks, so replies and
receipts work end to end."""

from __future__ import annotations

import asyncio
import time

import asyncpg
import httpx
import orjson
import phonenumbers
import pytest

from common.crypto import FieldCipher, Keyring
from reminders.settings import RemindersSettings
from tests.e2e.intake import builders as b
from tests.e2e.reminders.desk import PROBLEM_JSON, Desk, Placed, now_utc
from tests.e2e.reminders.placements import daytime_home, placement
from tests.support.waiting import eventually

pytestmark = pytest.mark.e2e

SHORT_CODE = "10690000"
FLOOR_S = RemindersSettings.model_fields["inbound_answer_floor_s"].default
BURST = RemindersSettings.model_fields["webhook_burst"].default


async def reply(desk: Desk, sender: str, text: str) -> tuple[httpx.Response, float]:
    """Post a reply with the desk's ops token; the answer and how long it took."""
    body = {"from": sender, "to": SHORT_CODE, "text": text, "received_at": b.now_iso()}
    started = time.monotonic()
    response = await desk.http.reminders.post("/v1/inbound/sms", json=body, headers=desk.headers())
    return response, time.monotonic() - started


def phone_point(desk: Desk, number: str) -> str:
    """The contact-point id reminders files a number under (the keyed hash of its E.164 form)."""
    e164 = phonenumbers.format_number(phonenumbers.parse(number), phonenumbers.PhoneNumberFormat.E164)
    return FieldCipher(Keyring.load(desk.stack.layout.field_keys)).lookup_hash(e164, purpose="phone")


async def kept_replies(pg: asyncpg.Pool, point: str) -> int:
    count: int = await pg.fetchval(
        "SELECT count(*) FROM reminders.inbound_messages WHERE contact_point_id = $1", point
    )
    return count


async def opted_out(pg: asyncpg.Pool, placed: Placed) -> list[str]:
    found: list[str] = await pg.fetchval(
        "SELECT opted_out FROM reminders.accounts WHERE account_id = $1::uuid", placed.account_id
    )
    return found


async def test_a_borrower_and_a_prober_get_the_same_answer_and_the_probe_leaves_nothing(
    desk: Desk, other: Desk, pg: asyncpg.Pool
) -> None:
    ours = await desk.place(placement(*daytime_home()))
    theirs = await other.place(placement(*daytime_home()))  # another lender's borrower
    nobody = b.unique_cn_mobile()
    assert phone_point(desk, ours.placement.phone) == await desk.point_id(ours)

    borrower, borrower_took = await reply(desk, ours.placement.phone, "STOP")
    stranger, stranger_took = await reply(desk, nobody, "STOP")
    foreign, foreign_took = await reply(desk, theirs.placement.phone, "STOP")

    assert borrower.status_code == stranger.status_code == foreign.status_code == 200, borrower.text
    assert borrower.content == stranger.content == foreign.content
    assert borrower.headers["content-type"] == stranger.headers["content-type"]
    # No quicker for a stranger: the opt-out's work is hidden under the same floor.
    assert min(borrower_took, stranger_took, foreign_took) >= FLOOR_S
    # The borrower's STOP took effect; the probes changed and kept nothing.
    assert await kept_replies(pg, phone_point(desk, ours.placement.phone)) == 1
    assert await opted_out(pg, ours) == ["sms"]
    assert await kept_replies(pg, phone_point(desk, nobody)) == 0
    assert await kept_replies(pg, phone_point(desk, theirs.placement.phone)) == 0
    assert await opted_out(pg, theirs) == []


async def test_ops_probing_faster_than_its_tenants_rate_gets_429_and_others_do_not_notice(
    desk: Desk, other: Desk
) -> None:
    probes = [reply(desk, b.unique_cn_mobile(), "STOP") for _ in range(int(BURST) + 10)]

    answers = [response for response, _ in await asyncio.gather(*probes)]

    limited = [r for r in answers if r.status_code == 429]
    assert limited, [r.status_code for r in answers]
    assert {r.status_code for r in answers} == {200, 429}
    assert int(limited[0].headers["retry-after"]) >= 1
    assert limited[0].headers["content-type"].startswith(PROBLEM_JSON)
    neighbour, _ = await reply(other, b.unique_cn_mobile(), "STOP")
    assert neighbour.status_code == 200, neighbour.text


async def sent_message(desk: Desk) -> tuple[Placed, dict[str, str]]:
    """An account whose first SMS went out, and that SMS as the sandbox's provider took it."""
    placed = await desk.place(placement(*daytime_home()))
    await desk.first_reminder_sent(placed)
    (message,) = await desk.messages(placed.placement.phone)
    return placed, message


async def test_the_sandbox_signs_a_delivery_receipt_and_a_borrowers_stop_end_to_end(
    desk: Desk, pg: asyncpg.Pool
) -> None:
    placed, message = await sent_message(desk)

    receipt = await desk.http.sandbox.post(
        f"/v1/messages/{message['id']}/receipt", json={"status": "delivered"}
    )
    stop = await desk.http.sandbox.post(
        "/v1/replies", json={"from": placed.placement.phone, "to": SHORT_CODE, "text": "STOP"}
    )

    assert receipt.json() == {"status": 200, "answer": {"status": "recorded", "id": message["id"]}}
    assert (await desk.jobs(placed.account_id))[0]["delivery"] == "delivered"
    assert stop.json() == {"status": 200, "answer": {"status": "received"}}, stop.text
    assert await opted_out(pg, placed) == ["sms"]

    async def compliance_knows() -> bool:
        return "sms" in (await desk.state(placed.account_id))["channel_opt_outs"]

    await eventually(compliance_knows, timeout_s=45)


async def test_a_signature_replayed_later_sent_elsewhere_or_by_another_provider_is_refused(
    desk: Desk,
) -> None:
    placed, message = await sent_message(desk)
    provider = message["provider"]
    path = f"/v1/receipts/{provider}"
    failed = orjson.dumps(
        {"provider_message_id": message["id"], "status": "failed", "at": now_utc().isoformat()}
    )
    reminders = desk.http.reminders
    stack = desk.stack

    six_minutes_ago = time.time() - 360
    replayed = await reminders.post(
        path,
        content=failed,
        headers=stack.webhook_headers(provider, path=path, body=failed, at=six_minutes_ago),
    )
    fresh = stack.webhook_headers(provider, path=path, body=failed)
    elsewhere = await reminders.post("/v1/inbound/sms", content=failed, headers=fresh)
    other = "secondary" if provider == "primary" else "primary"
    posing = await reminders.post(
        path, content=failed, headers=stack.webhook_headers(other, path=path, body=failed)
    )

    for refused in (replayed, elsewhere, posing):
        assert refused.status_code == 401, refused.text
        assert refused.headers["content-type"].startswith(PROBLEM_JSON)
    assert (await desk.jobs(placed.account_id))[0]["delivery"] == "accepted"
    accepted = await reminders.post(path, content=failed, headers=fresh)
    assert accepted.status_code == 200, accepted.text
    assert (await desk.jobs(placed.account_id))[0]["delivery"] == "failed"
