"""The demo's lenders and their portfolios: valid CN, US and GB placements, and what each lender (and
our agents) do once the first reminders went. Every personal value posted is kept in `personal`, so
a test can look for each one where it must never appear (the services' logs).

Account `n` of each lender plays one part, whatever the size:

- n % 5 == 0: pays in full once the first reminder went (a cure);
- n % 5 == 1: promises half on a call, and every other one pays it (a promise kept);
- CN, n % 3 == 2: 45 days past due, owing 500+ CNY: escalates to a field visit at once;
- n == 3: CN opens a dispute, US asks in writing to stop (cease);
- n == 4: ops asks for a field visit; the CN borrower asked not to be visited, the GB one was never
  offered forbearance: compliance denies both.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, Final

TENANTS: Final = ("huabei-demo", "lendco-demo", "britbank-demo")
CN_TENANT, US_TENANT, GB_TENANT = TENANTS
VISIT_REGION: Final = "广东"
# The CN crew's base, a few kilometres from the borrowers' homes around Futian, Shenzhen.
CREW_HOME: Final = {"lat": 22.5500, "lon": 114.0600}
_WEIGHTS: Final = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_SURNAMES: Final = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
_GIVEN: Final = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂"
_FIRST: Final = ("Ann", "Bo", "Cy", "Dee", "Eli", "Fay", "Gus", "Hal", "Ida", "Jo", "Kit", "Lou")
_LAST: Final = ("Lee", "Diaz", "Park", "Shaw", "Hale", "Moss", "Reyes", "Quinn", "Ward", "Cole")


def cn_national_id(rng: random.Random) -> str:
    body = (
        f"440305{date(1970, 1, 1) + timedelta(days=rng.randrange(30 * 365)):%Y%m%d}{rng.randrange(1000):03d}"
    )
    return body + "10X98765432"[sum(int(d) * w for d, w in zip(body, _WEIGHTS, strict=True)) % 11]


@dataclass
class Portfolio:
    """One lender's events: the placements, what follows once the first reminders went, the promises
    our agents take and the visits ops asks for (by account number), and every personal value posted."""

    tenant: str
    run: str
    placements: list[dict[str, Any]] = field(default_factory=list)
    follow_ups: list[dict[str, Any]] = field(default_factory=list)
    promises: dict[int, int] = field(default_factory=dict)  # n -> amount promised (minor units)
    visit_requests: list[int] = field(default_factory=list)
    escalating: list[int] = field(default_factory=list)
    personal: set[str] = field(default_factory=set)

    def external_id(self, n: int) -> str:
        return f"{self.run}-{n:04d}"

    def amount(self, n: int) -> int:
        return int(self.placements[n]["account"]["amount_due_minor"])

    def event(self, kind: str, n: int, **fields: Any) -> dict[str, Any]:
        now = datetime.now(UTC).isoformat()
        return {
            "event_id": f"{self.run}-{kind}-{n}-{len(self.follow_ups)}",
            "type": kind,
            "occurred_at": now,
            "account": {"external_account_id": self.external_id(n)},
            **fields,
        }


def _borrower(tenant: str, n: int, rng: random.Random, run: str) -> dict[str, Any]:
    if tenant == CN_TENANT:
        return {
            "name": rng.choice(_SURNAMES) + rng.choice(_GIVEN) + rng.choice(_GIVEN),
            "national_id": cn_national_id(rng),
            "phones": [
                {"number": f"+86139{rng.randrange(10**8):08d}", "type": "mobile", "consent_sms": True}
            ],
            "emails": [{"address": f"hb{run}{n}@example.cn", "consent": True}],
            "addresses": [
                {
                    "line1": f"福田区深南大道{rng.randrange(1, 9999)}号",
                    "city": "深圳",
                    "region": VISIT_REGION,
                    "country": "CN",
                    "postal_code": "518000",
                    "lat": round(22.5431 + rng.uniform(-0.02, 0.02), 5),
                    "lon": round(114.0579 + rng.uniform(-0.02, 0.02), 5),
                    "type": "home",
                }
            ],
            "timezone": "Asia/Shanghai",
            "language": "zh-CN",
        }
    name = f"{rng.choice(_FIRST)} {rng.choice(_LAST)}"
    if tenant == US_TENANT:
        return {
            "name": name,
            "phones": [
                {"number": f"+1212555{rng.randrange(10**4):04d}", "type": "mobile", "consent_sms": True}
            ],
            "emails": [{"address": f"lc{run}{n}@example.com", "consent": True}],
            "addresses": [
                {
                    "line1": f"{rng.randrange(1, 9999)} Main St",
                    "city": "Springfield",
                    "region": "NY",
                    "country": "US",
                }
            ],
            "language": "en",
        }
    return {
        "name": name,
        "phones": [{"number": f"+4474001{rng.randrange(10**5):05d}", "type": "mobile", "consent_sms": True}],
        "emails": [{"address": f"bb{run}{n}@example.co.uk", "consent": True}],
        "addresses": [
            {
                "line1": f"{rng.randrange(1, 999)} Baker Street",
                "city": "London",
                "country": "GB",
                "postal_code": "NW1 6XE",
                "lat": round(51.5237 + rng.uniform(-0.02, 0.02), 5),
                "lon": round(-0.1585 + rng.uniform(-0.02, 0.02), 5),
                "type": "home",
            }
        ],
        "timezone": "Europe/London",
        "language": "en",
    }


def _personal(borrower: dict[str, Any]) -> set[str]:
    found = {borrower["name"], *(p["number"] for p in borrower["phones"])}
    found |= {e["address"] for e in borrower["emails"]} | {a["line1"] for a in borrower.get("addresses", [])}
    return found | ({borrower["national_id"]} if borrower.get("national_id") else set())


def portfolio(tenant: str, run: str, rng: random.Random, size: int) -> Portfolio:
    """`size` placements of `tenant` (run id `run`), and the parts of the table above."""
    found = Portfolio(tenant=tenant, run=run)
    jurisdiction, currency = {CN_TENANT: ("CN", "CNY"), US_TENANT: ("US", "USD"), GB_TENANT: ("GB", "GBP")}[
        tenant
    ]
    today = datetime.now(UTC).date()
    for n in range(size):
        escalates = tenant == CN_TENANT and n % 3 == 2
        dpd = 45 if escalates else rng.randrange(1, 25)
        borrower = _borrower(tenant, n, rng, run)
        found.personal |= _personal(borrower)
        found.placements.append(
            {
                "event_id": f"{run}-place-{n}",
                "type": "account.placed",
                "occurred_at": datetime.now(UTC).isoformat(),
                "account": {
                    "external_account_id": found.external_id(n),
                    "product": "consumer_installment",
                    "currency": currency,
                    "amount_due_minor": rng.randrange(60_000, 3_000_000),
                    "due_date": (today - timedelta(days=dpd)).isoformat(),
                    "jurisdiction": rng.choice(["US-CA", "US-NY", "US-MA"])
                    if jurisdiction == "US"
                    else jurisdiction,
                },
                "borrower": {"external_borrower_id": f"{run}-b{n}", **borrower},
            }
        )
        if escalates:
            found.escalating.append(n)
    _plans(found, size)
    return found


def _plans(p: Portfolio, size: int) -> None:
    """The promises to take and the visits to ask for; a do-not-visit flag goes with the placements."""
    for n in range(1, size, 5):
        p.promises[n] = p.amount(n) // 2
    if size > 4 and p.tenant == CN_TENANT:
        p.placements.append(p.event("borrower.flagged", 4, flag="do_not_visit", set=True))
        p.visit_requests.append(4)
    if size > 4 and p.tenant == GB_TENANT:
        p.visit_requests.append(4)


def follow_ups(p: Portfolio) -> list[dict[str, Any]]:
    """What the lender posts once the first reminders went, paid and received now: payments in
    full, the payments that keep every other promise, a dispute (CN) and a cease request (US)."""
    now = datetime.now(UTC).isoformat()
    size = len([e for e in p.placements if e["type"] == "account.placed"])
    for n in range(size):
        if n % 5 == 0:
            payment = {"amount_minor": p.amount(n), "paid_at": now, "reference": f"{p.run}-pay-{n}"}
            p.follow_ups.append(p.event("payment.received", n, payment=payment))
        elif n % 10 == 1:  # the promise is kept: paid in part, the account stays open
            payment = {"amount_minor": p.promises[n], "paid_at": now, "reference": f"{p.run}-kept-{n}"}
            p.follow_ups.append(p.event("payment.received", n, payment=payment))
    if size > 3 and p.tenant == CN_TENANT:
        dispute = {"received_at": now, "written": True, "reason": "the amount is wrong"}
        p.follow_ups.append(p.event("dispute.opened", 3, dispute=dispute))
    if size > 3 and p.tenant == US_TENANT:
        cease = {"received_at": now, "written": True}
        p.follow_ups.append(p.event("borrower.cease_requested", 3, cease=cease))
    return p.follow_ups
