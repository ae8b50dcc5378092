"""Realistic lender events for benchmarks and demos: valid CN, US and GB placements."""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any

_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
_GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂"
_CN_CITIES = [
    ("深圳", "广东", "518000", 22.54, 114.06),
    ("杭州", "浙江", "310000", 30.27, 120.15),
    ("成都", "四川", "610000", 30.57, 104.07),
    ("北京", "北京", "100000", 39.90, 116.40),
]
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def cn_national_id(rng: random.Random) -> str:
    birth = date(1960, 1, 1) + timedelta(days=rng.randrange(365 * 40))
    body = f"110105{birth:%Y%m%d}{rng.randrange(1000):03d}"
    check = "10X98765432"[sum(int(d) * w for d, w in zip(body, _WEIGHTS, strict=True)) % 11]
    return body + check


def placement(n: int, *, run: str, rng: random.Random, today: date) -> dict[str, Any]:
    """The n-th placement of a run: a CN consumer loan with full borrower data."""
    city, region, postal, lat, lon = rng.choice(_CN_CITIES)
    mobile = f"+86139{rng.randrange(10**8):08d}"
    return {
        "event_id": f"{run}-evt-{n:07d}",
        "type": "account.placed",
        "occurred_at": "2026-11-29T08:00:00+08:00",
        "account": {
            "external_account_id": f"{run}-acc-{n:07d}",
            "product": "consumer_installment",
            "currency": "CNY",
            "amount_due_minor": rng.randrange(10_000, 5_000_000),
            "principal_minor": rng.randrange(10_000, 5_000_000),
            "due_date": (today - timedelta(days=rng.randrange(1, 120))).isoformat(),
            "jurisdiction": "CN",
        },
        "borrower": {
            "external_borrower_id": f"{run}-b-{n:07d}",
            "name": rng.choice(_SURNAMES) + rng.choice(_GIVEN) + rng.choice(_GIVEN),
            "national_id": cn_national_id(rng),
            "phones": [
                {"number": mobile, "type": "mobile", "consent_sms": True, "consent_autodialer": False}
            ],
            "emails": [{"address": f"user{n}@example.cn", "consent": True}],
            "addresses": [
                {
                    "line1": f"{rng.randrange(1, 999)}号",
                    "city": city,
                    "region": region,
                    "country": "CN",
                    "postal_code": postal,
                    "lat": lat + rng.uniform(-0.1, 0.1),
                    "lon": lon + rng.uniform(-0.1, 0.1),
                    "type": "home",
                }
            ],
            "timezone": "Asia/Shanghai",
            "language": "zh-CN",
        },
        "third_parties": [
            {
                "name": "李四",
                "relationship": "emergency_contact",
                "phone": f"+86138{rng.randrange(10**8):08d}",
            }
        ],
    }
