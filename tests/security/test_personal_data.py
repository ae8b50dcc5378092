"""No personal data in the clear anywhere the platform keeps or sends things: a `pg_dump` of the whole
database, every record of every topic, every service log.

What to look for is what lenders really posted: every borrower intake holds (sealed) is opened with
the dev keyring, so the scan covers whatever the suite placed before it, plus a placement of its own
made here (so it never passes on an empty stack). Phones, e-mails and national ids are found by
their shape and matched against that set; names and address lines, which have no shape, are
searched for directly (the ones placed here, and a sample of the others).
"""

from __future__ import annotations

import asyncio
import random
import re
import shutil
import uuid
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import httpx
import orjson
import pytest

from common.crypto import FieldCipher, Keyring
from common.devstack.layout import SERVICES, TOPICS
from common.devstack.postgres import find_bin_dir
from common.testing.stack import Stack
from intake.normalise import open_pii
from tests.e2e.intake import builders as b
from tests.e2e.intake.lender import Lender
from tests.support.kafka import read_all
from tests.support.waiting import eventually

pytestmark = [pytest.mark.e2e, pytest.mark.security]

PHONE = re.compile(rb"\+?\d{10,15}")
AT = re.compile(rb"@")
EMAIL_CHARS = re.compile(rb"[\w.+-]*$")
DOMAIN = re.compile(rb"[\w-]+(?:\.[\w-]+)+")
NATIONAL_ID = re.compile(rb"\d{17}[\dXx]")
FREE_TEXT_SAMPLE = 20


@dataclass
class Posted:
    """Personal data lenders posted: by shape, and free text (names, address lines)."""

    shaped: set[bytes] = field(default_factory=set)
    free: set[str] = field(default_factory=set)

    def add(self, pii: dict[str, Any]) -> None:
        for phone in pii.get("phones", []):
            number = str(phone.get("number", ""))
            self.shaped |= {number.encode(), number.lstrip("+").encode()}
        for email in pii.get("emails", []):
            self.shaped.add(str(email.get("address", "")).lower().encode())
        if pii.get("national_id"):
            self.shaped.add(str(pii["national_id"]).encode())
        if pii.get("name") and len(pii["name"]) >= 3:
            self.free.add(str(pii["name"]))
        for address in pii.get("addresses", []):
            if len(str(address.get("line1", ""))) >= 6:
                self.free.add(str(address["line1"]))
        for third in pii.get("third_parties", []):
            if third.get("phone"):
                self.shaped |= {str(third["phone"]).encode(), str(third["phone"]).lstrip("+").encode()}

    def found_in(self, blob: bytes, free: set[str]) -> set[str]:
        shaped = {m.group().lower() for pattern in (PHONE, NATIONAL_ID) for m in pattern.finditer(blob)}
        shaped |= set(emails(blob))
        hits = {v.decode() for v in shaped & self.shaped}
        return hits | {v for v in free if v.encode() in blob}


def emails(blob: bytes) -> list[bytes]:
    """Every e-mail-shaped token, found from its "@" (a pattern run over every position of a long
    base64 token would take minutes on a whole dump)."""
    found = []
    for at in AT.finditer(blob):
        local = EMAIL_CHARS.search(blob, max(0, at.start() - 64), at.start())
        domain = DOMAIN.match(blob, at.end())
        if local and local.group() and domain:
            found.append((local.group() + b"@" + domain.group()).lower())
    return found


async def posted_by_lenders(pg: asyncpg.Pool, cipher: FieldCipher) -> Posted:
    posted = Posted()
    for row in await pg.fetch("SELECT pii_sealed FROM intake.borrowers WHERE pii_sealed IS NOT NULL"):
        posted.add(open_pii(cipher, row["pii_sealed"]))
    return posted


async def test_no_personal_data_in_the_database_dump_the_topics_or_the_logs(
    stack: Stack, pg: asyncpg.Pool, figures: list[str]
) -> None:
    # A placement of our own, with data nothing else uses, followed until every service has it.
    name, street = (
        f"测试{uuid.uuid4().hex[:6]}",
        f"{random.randint(100, 999)} 隐私路 {uuid.uuid4().hex[:4]}号",
    )
    phone, email = b.unique_cn_mobile(), f"{b.fresh('pii')}@example.com"
    tenant = f"pii-{uuid.uuid4().hex[:8]}"
    async with httpx.AsyncClient(base_url=stack.service_urls["intake"], timeout=30) as http:
        lender = Lender(stack=stack, http=http, tenant=tenant)
        event = b.account_placed(phone=phone, email=email, name=name)
        event["borrower"]["addresses"][0]["line1"] = street
        account_id = await lender.accept(event)

    async def everywhere() -> bool:
        found = await pg.fetchval(
            "SELECT (SELECT count(*) FROM reminders.accounts WHERE account_id = $1)"
            " + (SELECT count(*) FROM compliance.accounts WHERE account_id = $1)"
            " + (SELECT count(*) FROM visits.accounts WHERE account_id = $1)",
            uuid.UUID(account_id),
        )
        return bool(found == 3)

    await eventually(everywhere, timeout_s=60, interval_s=0.5)

    cipher = FieldCipher(Keyring.load(stack.layout.field_keys))
    posted = await posted_by_lenders(pg, cipher)
    assert phone.encode() in posted.shaped and name in posted.free and street in posted.free
    others = sorted(posted.free - {name, street})
    free = {name, street, *random.Random(7).sample(others, min(FREE_TEXT_SAMPLE, len(others)))}

    leaks: dict[str, set[str]] = {}
    dump = await pg_dump(stack)
    leaks["database"] = posted.found_in(dump, free)
    records = 0
    for topic in TOPICS:
        for record in await read_all(stack.kafka_bootstrap, topic):
            records += 1
            blob = (record.value or b"") + orjson.dumps(
                [(k, v.decode(errors="replace")) for k, v in record.headers]
            )
            if hits := posted.found_in(blob, free):
                leaks.setdefault(f"topic {topic}", set()).update(hits)
    logs = sorted(p for s in SERVICES for p in stack.layout.logs.glob(f"{s}*.log"))
    for log in logs:
        if hits := posted.found_in(log.read_bytes(), free):
            leaks[f"log {log.name}"] = hits
    figures.append(
        f"personal data scan: {len(posted.shaped)} phones/e-mails/ids and {len(free)} names and addresses "
        f"searched in a {len(dump) // 1024} KiB dump, {records} topic records and {len(logs)} logs"
    )
    assert {where: hits for where, hits in leaks.items() if hits} == {}
    assert records > 0 and logs and len(dump) > 0


async def pg_dump(stack: Stack) -> bytes:
    bin_dir = find_bin_dir()
    binary = bin_dir / "pg_dump" if bin_dir else shutil.which("pg_dump")
    assert binary, "pg_dump is not installed"
    proc = await asyncio.create_subprocess_exec(
        str(binary),
        "--data-only",
        "--dbname",
        stack.superuser_dsn,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await proc.communicate()
    assert proc.returncode == 0, err.decode()
    return out
