"""What the read API shows of an account: balances, DPD, holds, and masked personal data."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from pydantic import BaseModel, Field

from common.crypto import FieldCipher, mask_address, mask_email, mask_name, mask_national_id, mask_phone
from intake.domain.dpd import days_past_due, today_in
from intake.normalise import open_pii, third_parties_of


class PhoneView(BaseModel):
    id: str
    number: str
    type: str


class EmailView(BaseModel):
    id: str
    address: str
    type: str


class AddressView(BaseModel):
    id: str
    line1: str
    city: str | None
    region: str | None
    country: str
    type: str


class ThirdPartyView(BaseModel):
    """A third party the lender named, masked; `id` is what contact logging and dry runs name."""

    id: str
    name: str | None
    relationship: str
    phone: str | None


class ZoneView(BaseModel):
    zone: str
    sources: list[str]


class BorrowerView(BaseModel):
    borrower_id: str
    external_borrower_id: str
    name: str | None
    national_id: str | None
    phones: list[PhoneView]
    emails: list[EmailView]
    addresses: list[AddressView]
    third_parties: list[ThirdPartyView]
    timezones: list[str]
    zones: list[ZoneView]
    language: str | None
    erased: bool
    intake_seq: int = Field(
        description="the number of the borrower's latest intake event; a dry run may pass it as intake_seq"
    )


class AccountView(BaseModel):
    account_id: str
    external_account_id: str
    status: str
    closed_reason: str | None
    product: str | None
    jurisdiction: str
    currency: str
    amount_due_minor: int
    paid_minor: int
    balance_minor: int
    principal_minor: int | None
    due_date: date
    dpd: int
    holds: list[str]
    placed_at: datetime
    updated_at: datetime
    borrower: BorrowerView


class AccountPage(BaseModel):
    items: list[AccountView]
    next_cursor: str | None


def account_view(row: Any, cipher: FieldCipher, *, now: datetime | None = None) -> AccountView:
    pii: dict[str, Any] = open_pii(cipher, row.pii_sealed)
    zone = row.timezones[0] if row.timezones else "UTC"
    today = today_in(zone, now or datetime.now(UTC))
    balance = max(row.amount_due_minor - row.paid_minor, 0)
    return AccountView(
        account_id=str(row.account_id),
        external_account_id=row.external_account_id,
        status=row.status,
        closed_reason=row.closed_reason,
        product=row.product,
        jurisdiction=row.jurisdiction,
        currency=row.currency,
        amount_due_minor=row.amount_due_minor,
        paid_minor=row.paid_minor,
        balance_minor=balance,
        principal_minor=row.principal_minor,
        due_date=row.due_date,
        dpd=days_past_due(row.due_date, today=today) if row.status == "open" else 0,
        holds=sorted(set(row.holds) | set(row.borrower_holds)),
        placed_at=row.placed_at,
        updated_at=row.updated_at,
        borrower=BorrowerView(
            borrower_id=str(row.borrower_id),
            external_borrower_id=row.external_borrower_id,
            name=mask_name(pii["name"]) if pii.get("name") else None,
            national_id=mask_national_id(pii["national_id"]) if pii.get("national_id") else None,
            phones=[
                PhoneView(id=p["id"], number=mask_phone(p["number"]), type=p["type"])
                for p in pii.get("phones", [])
            ],
            emails=[
                EmailView(id=e["id"], address=mask_email(e["address"]), type=e["type"])
                for e in pii.get("emails", [])
            ],
            addresses=[
                AddressView(
                    id=a["id"],
                    line1=mask_address(a["line1"]),
                    city=a.get("city"),
                    region=a.get("region"),
                    country=a["country"],
                    type=a["type"],
                )
                for a in pii.get("addresses", [])
            ],
            third_parties=[
                ThirdPartyView(
                    id=t["id"],
                    name=mask_name(t["name"]) if t.get("name") else None,
                    relationship=t["relationship"],
                    phone=mask_phone(t["phone"]) if t.get("phone") else None,
                )
                for t in third_parties_of(cipher, pii)
            ],
            timezones=list(row.timezones),
            zones=[ZoneView(zone=z, sources=(row.zone_sources or {}).get(z, [])) for z in row.timezones],
            language=row.language,
            erased=row.erased_at is not None,
            intake_seq=row.event_seq,
        ),
    )
