"""Contact spacing: one collection message per person in any 24 hours, across channels and debts,
required notices aside (US.contact_spacing, CN.contact_spacing, GB.contact_spacing)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import pytest

from compliance.domain.engine import evaluate
from compliance.domain.model import Consent
from compliance.domain.packs import Pack
from tests.unit.compliance.builders import LONDON, NEW_YORK, SHANGHAI, attempt, ledger, local, request, state

pytestmark = pytest.mark.unit

NOON = {
    "US": local(NEW_YORK, 2026, 6, 10, 12),
    "CN": local(SHANGHAI, 2026, 6, 10, 12),
    "GB": local(LONDON, 2026, 6, 10, 12),
}
EVERYTHING = Consent(
    kind="phone",
    sms=True,
    email=True,
    is_mobile=True,
    line_type="mobile",
    consent_checked_at=date(2026, 6, 1),
)


def message(hours_ago: float, channel: str = "sms", outcome: str = "delivered", **fields: Any) -> Any:
    return attempt(NOON[fields.pop("pack", "US")] - timedelta(hours=hours_ago), outcome, channel, **fields)


@pytest.mark.parametrize("pack", ["US", "CN", "GB"])
@pytest.mark.parametrize(
    ("history", "channel", "outcome", "wait_hours"),
    [
        ([], "email", "allow", None),
        # An SMS 23 hours ago: the e-mail waits an hour; at 24 hours it goes.
        ([{"hours_ago": 23}], "email", "defer", 1),
        ([{"hours_ago": 24}], "email", "allow", None),
        ([{"hours_ago": 2, "channel": "email"}], "sms", "defer", 22),
        ([{"hours_ago": 2, "channel": "letter"}], "push", "defer", 22),
        # A failed send reached nobody; a validation notice or another notice is not counted.
        ([{"hours_ago": 2, "outcome": "failed"}], "email", "allow", None),
        ([{"hours_ago": 2, "channel": "letter", "purpose": "validation_notice"}], "email", "allow", None),
        ([{"hours_ago": 2, "channel": "email", "purpose": "visit_notice"}], "sms", "allow", None),
        # A forbearance offer is a collection message like any other.
        ([{"hours_ago": 2, "channel": "email", "purpose": "forbearance_offer"}], "sms", "defer", 22),
        # Per person, across their debts.
        ([{"hours_ago": 2, "account_id": "acc-2"}], "email", "defer", 22),
        ([{"hours_ago": 2, "borrower_id": "bor-2"}], "email", "allow", None),
        # A message reserved for later today counts now.
        ([{"hours_ago": -3, "outcome": "reserved"}], "email", "defer", 27),
        # Calls are not messages: their own caps govern them.
        ([{"hours_ago": 2, "channel": "voice_call", "outcome": "connected"}], "email", "allow", None),
        ([{"hours_ago": 2}], "voice_call", "allow", None),
    ],
)
def test_one_collection_message_a_day(
    packs: dict[str, Pack],
    pack: str,
    history: list[dict[str, Any]],
    channel: str,
    outcome: str,
    wait_hours: int | None,
) -> None:
    attempts = [message(pack=pack, **item) for item in history]
    account = state(pack, consents={"phone-1": EVERYTHING})
    decision = evaluate(request(NOON[pack], channel), account, ledger(*attempts), packs[pack])
    assert decision.outcome == outcome, decision.reasons
    if outcome == "defer":
        assert [reason.rule for reason in decision.reasons] == [f"{pack}.contact_spacing"]
        assert decision.not_before == NOON[pack] + timedelta(hours=wait_hours or 0)


@pytest.mark.parametrize("purpose", ["validation_notice", "visit_notice", "notice_efforts_terminated"])
def test_notices_go_out_whatever_the_spacing(packs: dict[str, Pack], purpose: str) -> None:
    account = state("US", consents={"phone-1": EVERYTHING})
    decision = evaluate(
        request(NOON["US"], "email", purpose=purpose), account, ledger(message(1)), packs["US"]
    )
    assert decision.outcome == "allow", decision.reasons


def test_a_deferral_past_the_evening_waits_for_the_morning(packs: dict[str, Pack]) -> None:
    # A message at 20:59:30 yesterday lets the next go at 20:59:30 today, still inside the hours...
    at = local(NEW_YORK, 2026, 6, 10, 20, 59)
    account = state("US", consents={"phone-1": EVERYTHING})
    history = [attempt(at - timedelta(hours=23, minutes=59, seconds=30), "delivered", "sms")]
    decision = evaluate(request(at, "email"), account, ledger(*history), packs["US"])
    assert (decision.outcome, decision.not_before) == ("defer", at + timedelta(seconds=30))
    # ... one at 21:00 yesterday only at 21:00 today, when quiet hours begin: then the morning.
    history = [attempt(at - timedelta(hours=23, minutes=59), "delivered", "sms")]
    decision = evaluate(request(at, "email"), account, ledger(*history), packs["US"])
    assert (decision.outcome, decision.not_before) == ("defer", local(NEW_YORK, 2026, 6, 11, 8))
    assert isinstance(decision.not_before, datetime)
