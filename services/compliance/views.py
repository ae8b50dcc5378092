"""Rows to the engine's values and back: AccountState and Ledger from the database, and snapshots
that let a stored decision be replayed exactly."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import fields, is_dataclass
from datetime import date, datetime, time
from typing import Any

from compliance.domain.model import (
    AccountState,
    AgreedHours,
    Attempt,
    Consent,
    Dispute,
    InconvenientWindow,
    Ledger,
    PermitRequest,
)


def _time(value: str) -> time:
    return time.max if value == "24:00" else time.fromisoformat(value)


def _instant(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def state_from_rows(account: Any, borrower: Any, *, tenant_allows_visits: bool) -> AccountState:
    prefs = borrower.preferences or {}
    agreed = prefs.get("agreed_hours")
    dispute = account.dispute
    return AccountState(
        account_id=str(account.account_id),
        borrower_id=str(account.borrower_id),
        jurisdiction=account.jurisdiction,
        timezones=tuple(borrower.timezones),
        holds=frozenset(account.holds) | frozenset(borrower.holds),
        channel_opt_outs=frozenset(borrower.channel_opt_outs),
        consents={cp: _consent(c) for cp, c in borrower.consents.items()},
        preferences=tuple(
            InconvenientWindow(weekdays=frozenset(w["days"]), start=_time(w["start"]), end=_time(w["end"]))
            for w in prefs.get("inconvenient", [])
        ),
        agreed_hours=AgreedHours(start=_time(agreed["start"]), end=_time(agreed["end"])) if agreed else None,
        no_work_contact=bool(prefs.get("no_work_contact", False)),
        tenant_allows_visits=tenant_allows_visits,
        refused_third_parties=frozenset(borrower.refused_third_parties),
        contacted_third_parties=frozenset(borrower.contacted_third_parties),
        first_contact_at=account.first_contact_at,
        validation_notice_sent_at=account.validation_notice_sent_at,
        validation_period_ends=account.validation_period_ends,
        notices={purpose: datetime.fromisoformat(at) for purpose, at in (account.notices or {}).items()},
        dispute=Dispute(
            received_at=datetime.fromisoformat(dispute["received_at"]), written=dispute["written"]
        )
        if dispute
        else None,
    )


_CONSENT_FIELDS = frozenset(f.name for f in fields(Consent)) - {"consent_checked_at"}


def _consent(stored: dict[str, Any]) -> Consent:
    checked = stored.get("consent_checked_at")
    return Consent(
        **{k: v for k, v in stored.items() if k in _CONSENT_FIELDS},
        consent_checked_at=date.fromisoformat(checked) if checked else None,
    )


def attempt_from_row(r: Any) -> Attempt:
    """A recorded attempt (outbound or inbound) of the ledger table."""
    return Attempt(
        at=r.at,
        channel=r.channel,
        outcome=r.outcome,
        contact_point_id=r.contact_point_id,
        account_id=str(r.account_id),
        borrower_id=str(r.borrower_id),
        recipient=r.recipient,
        direction=r.direction,
        purpose=r.purpose,
        third_party_id=r.third_party_id,
    )


def reserved_from_row(p: Any) -> Attempt:
    """An allowed permit not used yet, as a `reserved` attempt at the instant it was granted for."""
    return Attempt(
        at=datetime.fromisoformat(p.request["at"]),
        channel=p.channel,
        outcome="reserved",
        contact_point_id=p.request.get("contact_point_id"),
        account_id=str(p.account_id),
        borrower_id=p.request["borrower_id"],
        recipient=p.request.get("recipient", "debtor"),
        purpose=p.request.get("purpose", "collection"),
        third_party_id=p.request.get("third_party_id"),
    )


def ledger_from_rows(rows: Sequence[Any], *, reserved: Sequence[Any] = ()) -> Ledger:
    """Every recorded attempt, plus each allowed permit not yet used as a `reserved` attempt."""
    attempts = [attempt_from_row(r) for r in rows] + [reserved_from_row(p) for p in reserved]
    return Ledger(attempts=tuple(sorted(attempts, key=lambda a: a.at)))


_FIELDS: dict[type, tuple[str, ...]] = {}


def _plain(value: Any) -> Any:
    """JSON-ready values of the engine's dataclasses, built directly (dataclasses.asdict deep-copies
    everything first, which was most of a decision's time); sets become sorted lists."""
    kind = type(value)
    if value is None or kind in (str, int, bool, float):
        return value
    if kind in (datetime, date, time):
        return value.isoformat()
    names = _FIELDS.get(kind)
    if names is None and is_dataclass(value):
        names = _FIELDS[kind] = tuple(f.name for f in fields(value))
    if names is not None:
        return {name: _plain(getattr(value, name)) for name in names}
    if isinstance(value, frozenset | set):
        return sorted(_plain(v) for v in value)
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def state_snapshot(state: AccountState) -> dict[str, Any]:
    plain: dict[str, Any] = _plain(state)
    return plain


def snapshot_with(request: PermitRequest, state: dict[str, Any], ledger: Ledger) -> dict[str, Any]:
    """Everything the engine saw, as JSON, the state's part already built."""
    return {"request": _plain(request), "state": state, "ledger": [_plain(a) for a in ledger.attempts]}


def snapshot(request: PermitRequest, state: AccountState, ledger: Ledger) -> dict[str, Any]:
    """Everything the engine saw, as JSON."""
    return snapshot_with(request, state_snapshot(state), ledger)


def restore(snap: dict[str, Any]) -> tuple[PermitRequest, AccountState, Ledger]:
    """The inverse of `snapshot`, for replaying a stored decision."""
    req = dict(snap["request"])
    req["at"] = datetime.fromisoformat(req["at"])
    req["until"] = _instant(req.get("until"))
    st = {k: v for k, v in snap["state"].items() if k in _STATE_FIELDS}
    for key in ("first_contact_at", "validation_notice_sent_at"):
        st[key] = _instant(st.get(key))
    ends = st.get("validation_period_ends")
    st["validation_period_ends"] = date.fromisoformat(ends) if ends else None
    for key in ("holds", "channel_opt_outs", "refused_third_parties", "contacted_third_parties"):
        st[key] = frozenset(st[key])
    st["timezones"] = tuple(st["timezones"])
    st["consents"] = {k: _consent(v) for k, v in st["consents"].items()}
    st["preferences"] = tuple(
        InconvenientWindow(weekdays=frozenset(w["weekdays"]), start=_time(w["start"]), end=_time(w["end"]))
        for w in st["preferences"]
    )
    agreed = st["agreed_hours"]
    st["agreed_hours"] = (
        AgreedHours(start=_time(agreed["start"]), end=_time(agreed["end"])) if agreed else None
    )
    st["notices"] = {k: datetime.fromisoformat(v) for k, v in st.get("notices", {}).items()}
    dispute = st.get("dispute")
    st["dispute"] = (
        Dispute(received_at=datetime.fromisoformat(dispute["received_at"]), written=dispute["written"])
        if dispute
        else None
    )
    attempts = tuple(Attempt(**{**a, "at": datetime.fromisoformat(a["at"])}) for a in snap["ledger"])
    return PermitRequest(**req), AccountState(**st), Ledger(attempts=attempts)


_STATE_FIELDS = frozenset(f.name for f in fields(AccountState))
