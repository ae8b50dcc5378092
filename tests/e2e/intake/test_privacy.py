"""Erasure, and no plaintext personal data in the intake schema or on intake.v1 (SPEC section 7)."""

from __future__ import annotations

import asyncio
import json
import os
import random
import shutil
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from common.contracts.intake import TOPIC
from common.testing.stack import Stack
from tests.e2e.intake import builders as b
from tests.e2e.intake.lender import Lender, error_fields, published
from tests.support.kafka import read_all

pytestmark = pytest.mark.e2e


async def test_erasure_removes_contact_data_keeps_the_account_and_seals_what_must_be_retained(
    stack: Stack, lender: Lender
) -> None:
    placement = b.account_placed()
    ext = placement["account"]["external_account_id"]
    account_id = await lender.accept(placement)

    await lender.accept(b.lender_event("borrower.erasure_requested", ext))

    account = await lender.account(account_id)
    borrower = account["borrower"]
    assert borrower["erased"] is True
    assert (borrower["name"], borrower["national_id"]) == (None, None)
    assert (borrower["phones"], borrower["emails"], borrower["addresses"]) == ([], [], [])
    assert (account["status"], account["balance_minor"]) == ("open", 1_234_500)
    listed = (await lender.accounts(external_account_id=ext)).json()["items"]
    assert [a["account_id"] for a in listed] == [account_id]

    conn = await asyncpg.connect(stack.superuser_dsn)
    try:
        row = await conn.fetchrow(
            "SELECT pii_sealed, national_id_hash, retained_sealed, retain_until, erased_at"
            " FROM intake.borrowers WHERE borrower_id = $1",
            uuid.UUID(borrower["borrower_id"]),
        )
    finally:
        await conn.close()
    assert row is not None
    assert row["pii_sealed"] is None
    assert row["national_id_hash"] is None
    assert row["retained_sealed"] is not None
    assert row["retained_sealed"].startswith("enc:v1:")
    assert row["erased_at"] is not None
    # CN records are kept 5 years (SPEC section 5); a day either way for midnight and 29 February.
    five_years_on = datetime.now(UTC).date() + timedelta(days=5 * 365 + 1)
    assert row["retain_until"] is not None
    assert abs((row["retain_until"] - five_years_on).days) <= 1

    contacts = {"phones": [{"number": b.unique_cn_mobile()}]}
    refused = await lender.post(b.lender_event("borrower.contact_changed", ext, borrower=contacts))
    assert refused.status_code == 422, refused.text
    assert error_fields(refused) == {"borrower"}
    events = await published(stack, account_id, count=2)
    assert [e.type for e in events] == ["account.placed", "borrower.erased"]


def _pii(tag: str) -> dict[str, str]:
    """Personal data no other test or run uses, so finding it anywhere means we leaked it."""
    born = date(1960, 1, 1) + timedelta(days=random.randint(0, 15_000))
    return {
        "name": f"测试姓名{tag}",
        "national_id": b.cn_national_id(born, f"{random.randint(0, 999):03d}"),
        "phone": b.unique_cn_mobile(),
        "email": f"pii.{tag}@example.cn",
        "address_line": f"南山区科技园{tag}号",
        "third_party_name": f"紧急联系人{tag}",
        "third_party_phone": b.unique_cn_mobile(),
    }


def _placement(pii: dict[str, str]) -> dict[str, Any]:
    return b.account_placed(
        name=pii["name"],
        national_id=pii["national_id"],
        phone=pii["phone"],
        email=pii["email"],
        address_line=pii["address_line"],
        third_party_name=pii["third_party_name"],
        third_party_phone=pii["third_party_phone"],
    )


def _forms(secret: str) -> set[bytes]:
    """A secret as it could sit in a dump or a record: UTF-8 or JSON \\u-escaped, or bytea hex of either."""
    texts = {secret.encode(), json.dumps(secret)[1:-1].encode()}
    return texts | {t.hex().encode() for t in texts}


def _needles(secrets: list[str]) -> set[bytes]:
    """The forms to look for: a form that contains another is found through it, so only the
    minimal ones are searched (the haystacks are large)."""
    forms = set().union(*(_forms(secret) for secret in secrets))
    return {f for f in forms if not any(other != f and other in f for other in forms)}


def _leaks(haystack: bytes, secrets: list[str]) -> list[str]:
    return sorted(needle.decode() for needle in _needles(secrets) if needle in haystack)


def _pg_dump() -> str:
    """The newest pg_dump of the Debian PostgreSQL packages, else the one on PATH."""
    packaged = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/pg_dump"),
        key=lambda p: int(p.parts[-3]) if p.parts[-3].isdigit() else 0,
        reverse=True,
    )
    found = str(packaged[0]) if packaged else shutil.which("pg_dump")
    if found is None:
        pytest.fail("pg_dump is needed to inspect the intake schema at rest; install postgresql-client")
    return found


async def _dump_intake_schema(stack: Stack) -> bytes:
    layout = stack.layout
    proc = await asyncio.create_subprocess_exec(
        _pg_dump(),
        *("-h", layout.pg_host, "-p", str(layout.pg_port), "-U", "postgres", "-d", layout.database),
        *("-n", "intake", "--data-only"),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "PGCONNECT_TIMEOUT": "10"},
    )
    out, err = await asyncio.wait_for(proc.communicate(), timeout=60)
    assert proc.returncode == 0, err.decode(errors="replace")
    return out


async def _topic_bytes(stack: Stack) -> bytes:
    records = await read_all(stack.kafka_bootstrap, TOPIC)
    parts: list[bytes] = []
    for record in records:
        parts.append(record.value or b"")
        parts += [k.encode() + b"=" + (v or b"") for k, v in record.headers]
    return b"\n".join(parts)


async def test_no_plaintext_personal_data_at_rest_or_on_the_topic(stack: Stack, lender: Lender) -> None:
    tag = uuid.uuid4().hex[:16]
    single, batched, changed = _pii(f"{tag}a"), _pii(f"{tag}b"), _pii(f"{tag}c")
    attorney = {"name": f"律师{tag}", "phone": b.unique_cn_mobile(), "email": f"lawyer.{tag}@example.cn"}
    reason = f"争议原因{tag}"
    first, second = _placement(single), _placement(batched)
    ext = first["account"]["external_account_id"]

    first_id = await lender.accept(first)
    batch = await lender.batch([second])
    assert batch.json()["accepted"] == 1, batch.text
    second_id = batch.json()["results"][0]["account_id"]
    new_contacts = {
        "phones": [{"number": changed["phone"]}],
        "emails": [{"address": changed["email"]}],
        "addresses": [{"line1": changed["address_line"], "city": "深圳", "country": "CN"}],
    }
    for event in (
        b.lender_event("borrower.attorney_retained", ext, attorney=attorney),
        b.lender_event(
            "dispute.opened", ext, dispute={"received_at": b.now_iso(), "written": True, "reason": reason}
        ),
        b.lender_event("borrower.contact_changed", ext, borrower=new_contacts),
    ):
        await lender.accept(event)
    erase = b.lender_event("borrower.erasure_requested", second["account"]["external_account_id"])
    await lender.accept(erase)
    await published(stack, first_id, count=4)
    await published(stack, second_id, count=2)

    phones = [single["phone"], single["third_party_phone"], batched["phone"], batched["third_party_phone"]]
    phones += [changed["phone"], attorney["phone"]]
    secrets = [
        *single.values(),
        *batched.values(),
        changed["email"],
        changed["address_line"],
        attorney["name"],
        attorney["email"],
        reason,
        # Every made-up value carries the tag, which appears nowhere else; phones also as digits.
        tag,
        *(phone.removeprefix("+") for phone in phones),
        *(phone.removeprefix("+86") for phone in phones),
    ]
    dump = await _dump_intake_schema(stack)
    topic = await _topic_bytes(stack)

    # The searches can see: the account ids sit in plain text and, inside outbox payloads, as bytea.
    assert ext.encode() in dump
    assert ext.encode().hex().encode() in dump
    assert ext.encode() in topic
    assert _leaks(dump, secrets) == []
    assert _leaks(topic, secrets) == []
