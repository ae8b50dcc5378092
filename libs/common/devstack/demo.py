"""`make demo`: a small multi-tenant portfolio posted through intake, then what the platform did with it."""

from __future__ import annotations

import asyncio
import random
import uuid
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import orjson

from common.auth import Role, issue_token
from common.devstack.layout import Layout

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def _cn_id(rng: random.Random) -> str:
    body = (
        f"440305{date(1970, 1, 1) + timedelta(days=rng.randrange(30 * 365)):%Y%m%d}{rng.randrange(1000):03d}"
    )
    return body + "10X98765432"[sum(int(d) * w for d, w in zip(body, _WEIGHTS, strict=True)) % 11]


def _account(run: str, n: int, rng: random.Random, jurisdiction: str, currency: str) -> dict[str, Any]:
    return {
        "external_account_id": f"{run}-{n:04d}",
        "product": "consumer_installment",
        "currency": currency,
        "amount_due_minor": rng.randrange(20_000, 3_000_000),
        "due_date": (datetime.now(UTC).date() - timedelta(days=rng.randrange(1, 90))).isoformat(),
        "jurisdiction": jurisdiction,
    }


def portfolio(tenant: str, run: str, rng: random.Random, size: int) -> list[dict[str, Any]]:
    """Placements of one lender, with a few payments, a dispute and a cease request after them."""
    events: list[dict[str, Any]] = []
    for n in range(size):
        if tenant == "huabei":
            account = _account(run, n, rng, "CN", "CNY")
            borrower = {
                "name": rng.choice("王李张刘陈") + rng.choice("伟芳娜敏静"),
                "national_id": _cn_id(rng),
                "phones": [{"number": f"+86139{rng.randrange(10**8):08d}", "consent_sms": True}],
                "emails": [{"address": f"hb{run}{n}@example.cn", "consent": True}],
                "timezone": "Asia/Shanghai",
                "language": "zh-CN",
            }
        elif tenant == "lendco":
            account = _account(run, n, rng, rng.choice(["US-CA", "US-NY", "US-MA"]), "USD")
            borrower = {
                "name": rng.choice(["Ann Lee", "Bo Diaz", "Cy Park"]),
                "phones": [{"number": f"+1212555{n % 100:04d}", "consent_sms": True}],
                "emails": [{"address": f"lc{run}{n}@example.com", "consent": True}],
                "addresses": [
                    {"line1": f"{n} Main St", "city": "Springfield", "region": "NY", "country": "US"}
                ],
                "language": "en",
            }
        else:
            account = _account(run, n, rng, "GB", "GBP")
            borrower = {
                "name": rng.choice(["Amy Shaw", "Tom Hale"]),
                "phones": [{"number": f"+4474001234{n % 100:02d}", "consent_sms": True}],
                "emails": [{"address": f"bb{run}{n}@example.co.uk", "consent": True}],
                "timezone": "Europe/London",
                "language": "en",
            }
        events.append(
            {
                "event_id": f"{run}-place-{n}",
                "type": "account.placed",
                "occurred_at": datetime.now(UTC).isoformat(),
                "account": account,
                "borrower": {"external_borrower_id": f"{run}-b{n}", **borrower},
            }
        )
    for n in range(0, size, 5):
        events.append(
            {
                "event_id": f"{run}-pay-{n}",
                "type": "payment.received",
                "occurred_at": datetime.now(UTC).isoformat(),
                "account": {"external_account_id": f"{run}-{n:04d}"},
                "payment": {
                    "amount_minor": events[n]["account"]["amount_due_minor"],
                    "paid_at": datetime.now(UTC).isoformat(),
                },
            }
        )
    events.append(
        {
            "event_id": f"{run}-dispute",
            "type": "dispute.opened",
            "occurred_at": datetime.now(UTC).isoformat(),
            "account": {"external_account_id": f"{run}-0001"},
            "dispute": {
                "received_at": datetime.now(UTC).isoformat(),
                "written": True,
                "reason": "not my debt",
            },
        }
    )
    return events


async def run(size: int = 20) -> None:
    layout = Layout()
    key = layout.jwt_private_key.read_bytes()
    rng = random.Random(uuid.uuid4().int)  # noqa: S311 - demo data, not secrets
    run_id = uuid.uuid4().hex[:6]
    async with httpx.AsyncClient(timeout=60) as client:
        placed: dict[str, list[str]] = {}
        for tenant in ("huabei", "lendco", "britbank"):
            token = issue_token(key, sub="demo", role=Role.LENDER, tenant=tenant)
            body = b"\n".join(orjson.dumps(e) for e in portfolio(tenant, f"{tenant[:2]}{run_id}", rng, size))
            reply = await client.post(
                f"{layout.service_url('intake')}/v1/events",
                content=body,
                headers={"Authorization": f"Bearer {token}", "content-type": "application/x-ndjson"},
            )
            reply.raise_for_status()
            result = reply.json()
            placed[tenant] = [r["account_id"] for r in result["results"] if r["status"] == "accepted"][:size]
            print(
                f"{tenant:9} posted {len(result['results'])} events: {result['accepted']} accepted, "
                f"{result['rejected']} rejected"
            )
        print("waiting 10 s for reminders and compliance ...")
        await asyncio.sleep(10)
        for tenant, ids in placed.items():
            ops = {"Authorization": f"Bearer {issue_token(key, sub='demo', role=Role.OPS, tenant=tenant)}"}
            states: Counter[str] = Counter()
            for account_id in ids:
                jobs = await client.get(
                    f"{layout.service_url('reminders')}/v1/accounts/{account_id}/reminders", headers=ops
                )
                if jobs.status_code == 200:
                    states.update(f"{j['channel']}:{j['state']}" for j in jobs.json()["items"])
            report = await client.get(f"{layout.service_url('compliance')}/v1/reports/decisions", headers=ops)
            decisions = report.json() if report.status_code == 200 else {}
            print(f"\n{tenant}: reminder jobs {dict(sorted(states.items()))}")
            print(
                f"{tenant}: permit decisions {decisions.get('outcomes')}; "
                f"top reasons {[(r['rule'], r['count']) for r in decisions.get('rules', [])[:4]]}"
            )
        messages = (await client.get(f"http://127.0.0.1:{layout.sandbox_http_port}/v1/messages")).json()[
            "messages"
        ]
        print(
            f"\nthe sandbox received {len(messages)} messages in all; "
            f"by channel {dict(Counter(m['channel'] for m in messages))}"
        )
