"""Reading accounts: masked personal data, tenant isolation, roles, and cursor pagination."""

from __future__ import annotations

import base64
import json

import orjson
import pytest

from common.auth import Role
from common.testing.stack import Stack
from tests.e2e.intake import builders as b
from tests.e2e.intake.lender import Lender, error_fields, new_tenant

pytestmark = pytest.mark.e2e


async def test_personal_data_is_masked_in_every_answer(stack: Stack, lender: Lender) -> None:
    event = b.account_placed()
    account_id = await lender.accept(event)
    ops = stack.headers(tenant=lender.tenant, role=Role.OPS)

    one = await lender.http.get(f"/v1/accounts/{account_id}", headers=lender.headers)
    listed = await lender.accounts(external_account_id=event["account"]["external_account_id"])
    as_ops = await lender.http.get(f"/v1/accounts/{account_id}", headers=ops)

    borrower = one.json()["borrower"]
    assert borrower["name"] == "张*"
    assert borrower["national_id"] == "1101**********002X"
    assert [p["number"] for p in borrower["phones"]] == ["+86 138****8000"]
    assert [e["address"] for e in borrower["emails"]] == ["z*******@example.cn"]
    assert [(a["line1"], a["city"], a["country"]) for a in borrower["addresses"]] == [
        ("福田***", "深圳", "CN")
    ]
    assert listed.json()["items"] == [one.json()]
    assert as_ops.json() == one.json()
    plaintext = (
        b.SPEC_NAME,
        b.SPEC_PHONE,
        "13800138000",
        b.SPEC_NATIONAL_ID,
        b.SPEC_EMAIL,
        "zhang.san",
        b.SPEC_ADDRESS_LINE,
        "李四",
        "13900139000",
    )
    for response in (one, listed, as_ops):
        shown = json.dumps(response.json(), ensure_ascii=False)
        for plain in plaintext:
            assert plain not in shown, plain


async def test_another_tenant_sees_nothing_and_may_reuse_the_same_ids(stack: Stack, lender: Lender) -> None:
    event = b.account_placed()
    ext = event["account"]["external_account_id"]
    account_id = await lender.accept(event)
    other = Lender(stack=stack, http=lender.http, tenant=new_tenant())

    hidden = await other.http.get(f"/v1/accounts/{account_id}", headers=other.headers)
    assert hidden.status_code == 404
    assert hidden.headers["content-type"].startswith("application/problem+json")
    assert (await other.accounts(external_account_id=ext)).json()["items"] == []
    assert account_id not in (await other.accounts()).text

    same_ids = b.account_placed(external_account_id=ext, event_id=event["event_id"], amount_due_minor=777)
    answer = await other.post(same_ids)
    assert answer.status_code == 202, answer.text
    assert answer.json()["status"] == "accepted"
    other_id = answer.json()["account_id"]
    assert other_id != account_id

    mine, theirs = await lender.account(account_id), await other.account(other_id)
    assert (mine["amount_due_minor"], theirs["amount_due_minor"]) == (1_234_500, 777)
    assert [a["account_id"] for a in (await lender.accounts(external_account_id=ext)).json()["items"]] == [
        account_id
    ]
    assert [a["account_id"] for a in (await other.accounts(external_account_id=ext)).json()["items"]] == [
        other_id
    ]
    other_ops = stack.headers(tenant=other.tenant, role=Role.OPS)
    assert (await lender.http.get(f"/v1/accounts/{account_id}", headers=other_ops)).status_code == 404


@pytest.mark.parametrize(
    ("role", "post_status", "read_status"),
    [
        (Role.LENDER, 202, 200),
        (Role.OPS, 403, 200),
        (Role.COMPLIANCE, 403, 200),
        (Role.AGENT, 403, 403),
    ],
)
async def test_roles_decide_who_posts_and_who_reads(
    stack: Stack, lender: Lender, role: Role, post_status: int, read_status: int
) -> None:
    account_id = await lender.accept(b.account_placed())
    headers = stack.headers(tenant=lender.tenant, role=role)

    posted = await lender.http.post("/v1/events", json=b.account_placed(), headers=headers)
    one = await lender.http.get(f"/v1/accounts/{account_id}", headers=headers)
    listed = await lender.http.get("/v1/accounts", headers=headers)

    assert posted.status_code == post_status, posted.text
    assert one.status_code == read_status, one.text
    assert listed.status_code == read_status, listed.text
    for response in (posted, one, listed):
        if response.status_code >= 400:
            assert response.headers["content-type"].startswith("application/problem+json")
    if read_status == 200:
        assert one.json()["account_id"] == account_id
        assert account_id in [a["account_id"] for a in listed.json()["items"]]


async def test_without_a_token_everything_is_401(lender: Lender) -> None:
    account_id = await lender.accept(b.account_placed())

    answers = [
        await lender.http.post("/v1/events", json=b.account_placed()),
        await lender.http.get(f"/v1/accounts/{account_id}"),
        await lender.http.get("/v1/accounts"),
    ]

    for response in answers:
        assert response.status_code == 401, response.text
        assert response.headers["content-type"].startswith("application/problem+json")


async def test_limit_two_walks_every_account_of_the_tenant_exactly_once(lender: Lender) -> None:
    batch = await lender.batch([b.account_placed() for _ in range(3)])
    placed = [r["account_id"] for r in batch.json()["results"]]
    placed += [await lender.accept(b.account_placed()) for _ in range(2)]

    seen: list[str] = []
    pages = 0
    cursor: str | None = None
    while True:
        params: dict[str, object] = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = await lender.accounts(**params)
        assert page.status_code == 200, page.text
        items = page.json()["items"]
        assert len(items) <= 2
        seen += [a["account_id"] for a in items]
        pages += 1
        cursor = page.json()["next_cursor"]
        if cursor is None:
            break
        assert pages < 10, "the cursor never ends"

    assert pages == 3
    assert len(seen) == len(set(seen)) == 5
    assert set(seen) == set(placed)
    assert seen[3:] == placed[3:]


def _cursor(position: object) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(position)).decode().rstrip("=")


@pytest.mark.parametrize(
    "cursor",
    [
        "garbage!!",
        "bm90IGpzb24",
        _cursor(["only one"]),
        _cursor(["yesterday", "nobody"]),
        _cursor([1, 2]),
        _cursor(["2026-11-29T00:00:00+00:00", "not-a-uuid"]),
        _cursor(["2026-11-29T00:00:00", "8f0c1a4e-6f6e-4d0e-9a8e-2f1f6b1c8d7a"]),
        _cursor({"placed_at": "2026-11-29T00:00:00+00:00"}),
        # A time that overflows when the database converts it to UTC.
        _cursor(["0001-01-01T00:00:00+23:59", "8f0c1a4e-6f6e-4d0e-9a8e-2f1f6b1c8d7a"]),
    ],
    ids=[
        "not base64",
        "not json",
        "one part",
        "words",
        "numbers",
        "bad uuid",
        "naive time",
        "object",
        "overflow",
    ],
)
async def test_a_garbage_cursor_is_a_400_problem(lender: Lender, cursor: str) -> None:
    response = await lender.accounts(limit=2, cursor=cursor)

    assert response.status_code == 400, response.text
    assert error_fields(response) == {"cursor"}


async def test_the_list_checks_its_limit(lender: Lender) -> None:
    for limit in (0, 501, "ten"):
        response = await lender.accounts(limit=limit)
        assert response.status_code == 422, response.text
        assert error_fields(response) == {"query.limit"}
