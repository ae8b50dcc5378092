"""Frequency caps and cooldowns: 7-in-7, conversation cooldown, CN daily caps, US-MA 2-in-7 and visits."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

import pytest

from compliance.domain.engine import evaluate
from compliance.domain.ledger import ledger_counts
from compliance.domain.model import AgreedHours, Attempt, Consent
from compliance.domain.packs import Pack
from tests.unit.compliance.builders import (
    LOS_ANGELES,
    NEW_YORK,
    SHANGHAI,
    URUMQI,
    attempt,
    ledger,
    local,
    request,
    state,
)

pytestmark = pytest.mark.unit


def daily_calls(days: range, outcome: str = "no_answer", hour: int = 10, **fields: Any) -> list[Attempt]:
    """One call per day on 2026-06-<day> at <hour>:00 New York time."""
    return [attempt(local(NEW_YORK, 2026, 6, day, hour), outcome, **fields) for day in days]


# --- US.calls_7_in_7 -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("history", "at", "outcome", "not_before"),
    [
        # Six counted calls: the 7th is allowed.
        (daily_calls(range(2, 8)), local(NEW_YORK, 2026, 6, 7, 15), "allow", None),
        # Seven: the 8th waits until the oldest is 7 x 24 h old.
        (daily_calls(range(1, 8)), local(NEW_YORK, 2026, 6, 7, 15), "defer", local(NEW_YORK, 2026, 6, 8, 10)),
        (
            daily_calls(range(1, 8)),
            local(NEW_YORK, 2026, 6, 8, 9, 59),
            "defer",
            local(NEW_YORK, 2026, 6, 8, 10),
        ),
        (daily_calls(range(1, 8)), local(NEW_YORK, 2026, 6, 8, 10), "allow", None),
        # Seven on one day: the window reopens a week later, then quiet hours still apply.
        (
            [attempt(local(NEW_YORK, 2026, 6, 1, 20, m)) for m in range(7)],
            local(NEW_YORK, 2026, 6, 2, 9),
            "defer",
            local(NEW_YORK, 2026, 6, 8, 20, 0),
        ),
        # A window that reopens at night waits for the morning.
        (
            daily_calls(range(1, 8), hour=20),
            local(NEW_YORK, 2026, 6, 7, 20, 30),
            "defer",
            local(NEW_YORK, 2026, 6, 8, 20),
        ),
        # Voicemail counts like unanswered ringing (connected calls also start the cooldown, below).
        (
            daily_calls(range(1, 5), "voicemail") + daily_calls(range(5, 8), "no_answer", hour=9),
            local(NEW_YORK, 2026, 6, 7, 15),
            "defer",
            local(NEW_YORK, 2026, 6, 8, 10),
        ),
    ],
)
def test_seven_calls_in_seven_days(
    packs: dict[str, Pack], history: list[Attempt], at: datetime, outcome: str, not_before: datetime | None
) -> None:
    decision = evaluate(request(at), state("US"), ledger(*history), packs["US"])
    assert (decision.outcome, decision.not_before) == (outcome, not_before)
    if outcome == "defer":
        rules = {reason.rule for reason in decision.reasons}
        assert "US.calls_7_in_7" in rules or "US.conversation_cooldown" in rules


@pytest.mark.parametrize("outcome", ["busy", "failed", "wrong_number"])
def test_calls_that_do_not_connect_do_not_count(packs: dict[str, Pack], outcome: str) -> None:
    history = daily_calls(range(1, 8))[:6] + daily_calls(range(1, 8), outcome, hour=11)
    decision = evaluate(request(local(NEW_YORK, 2026, 6, 7, 15)), state("US"), ledger(*history), packs["US"])
    assert decision.outcome == "allow"


def test_permits_allowed_but_not_yet_used_count_against_the_cap(packs: dict[str, Pack]) -> None:
    # Seven outstanding permits are seven calls that may still happen: an eighth is not handed out.
    reserved = daily_calls(range(1, 8), "reserved")
    decision = evaluate(request(local(NEW_YORK, 2026, 6, 7, 15)), state("US"), ledger(*reserved), packs["US"])
    assert decision.outcome == "defer"
    assert "US.calls_7_in_7" in [r.rule for r in decision.reasons]


def test_an_outstanding_permit_starts_no_conversation_cooldown(packs: dict[str, Pack]) -> None:
    reserved = daily_calls(range(6, 7), "reserved")
    decision = evaluate(request(local(NEW_YORK, 2026, 6, 7, 15)), state("US"), ledger(*reserved), packs["US"])
    assert decision.outcome == "allow"


def test_seven_in_seven_is_per_debt(packs: dict[str, Pack]) -> None:
    other_debt = daily_calls(range(1, 8), account_id="acc-2")
    third_party = daily_calls(range(1, 8), recipient="third_party")
    someone_else = daily_calls(range(1, 8), borrower_id="bor-2")
    decision = evaluate(
        request(local(NEW_YORK, 2026, 6, 7, 15)),
        state("US"),
        ledger(*other_debt, *third_party, *someone_else),
        packs["US"],
    )
    assert decision.outcome == "allow"


def test_seven_in_seven_gates_only_calls(packs: dict[str, Pack]) -> None:
    account = state(
        "US", consents={"phone-1": Consent(sms=True, consent_checked_at=datetime(2026, 6, 1).date())}
    )
    decision = evaluate(
        request(local(NEW_YORK, 2026, 6, 7, 15), "sms"),
        account,
        ledger(*daily_calls(range(1, 8))),
        packs["US"],
    )
    assert decision.outcome == "allow"


@pytest.mark.parametrize(
    ("reserved_days", "at", "outcome", "not_before"),
    [
        # Seven calls reserved for the next seven days: a call today would make eight in one window.
        (range(8, 15), local(NEW_YORK, 2026, 6, 7, 15), "defer", local(NEW_YORK, 2026, 6, 15, 10)),
        # Six reserved ahead leave room for one today.
        (range(8, 14), local(NEW_YORK, 2026, 6, 7, 15), "allow", None),
        # Reserved calls a full week or more ahead share no window with today's.
        (range(15, 22), local(NEW_YORK, 2026, 6, 7, 15), "allow", None),
        # Three behind and four ahead fill a week around today; it drains when the oldest ages out.
        (
            [*range(4, 7), *range(8, 11), 10],
            local(NEW_YORK, 2026, 6, 7, 15),
            "defer",
            local(NEW_YORK, 2026, 6, 11, 10),
        ),
        # Seven spread over exactly seven days share no window with today's call plus all of them.
        ([*range(4, 7), *range(8, 12)], local(NEW_YORK, 2026, 6, 7, 15), "allow", None),
    ],
)
def test_permits_reserved_for_later_instants_count_in_every_window_around_the_call(
    packs: dict[str, Pack], reserved_days: Any, at: datetime, outcome: str, not_before: datetime | None
) -> None:
    days = list(reserved_days)
    # A day listed twice holds two calls, at 10:00 and 11:00.
    reserved = [
        attempt(local(NEW_YORK, 2026, 6, day, 10 + days[:i].count(day)), "reserved")
        for i, day in enumerate(days)
    ]
    decision = evaluate(request(at), state("US"), ledger(*reserved), packs["US"])
    assert (decision.outcome, decision.not_before) == (outcome, not_before)
    if outcome == "defer":
        assert [reason.rule for reason in decision.reasons] == ["US.calls_7_in_7"]


def test_eight_permits_in_seven_days_are_never_all_allowed(packs: dict[str, Pack]) -> None:
    # Ask for calls one after another at random instants of one week; what is allowed is reserved.
    times = [local(NEW_YORK, 2026, 6, day, 12) for day in (5, 1, 7, 3, 2, 6, 4, 1)]
    granted: list[Attempt] = []
    for at in times:
        decision = evaluate(request(at), state("US"), ledger(*granted), packs["US"])
        if decision.outcome == "allow":
            granted.append(attempt(at, "reserved"))
    assert len(granted) == 7


# --- US.conversation_cooldown ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("at", "outcome", "not_before"),
    [
        (local(NEW_YORK, 2026, 6, 1, 15), "defer", local(NEW_YORK, 2026, 6, 8, 8)),  # day 1
        (local(NEW_YORK, 2026, 6, 7, 12), "defer", local(NEW_YORK, 2026, 6, 8, 8)),  # day 7
        (local(NEW_YORK, 2026, 6, 7, 20, 59), "defer", local(NEW_YORK, 2026, 6, 8, 8)),
        (local(NEW_YORK, 2026, 6, 8, 8), "allow", None),  # day 8
    ],
)
def test_no_call_within_seven_days_after_a_conversation(
    packs: dict[str, Pack], at: datetime, outcome: str, not_before: datetime | None
) -> None:
    history = [attempt(local(NEW_YORK, 2026, 6, 1, 10), "conversation")]
    decision = evaluate(request(at), state("US"), ledger(*history), packs["US"])
    assert (decision.outcome, decision.not_before) == (outcome, not_before)
    if outcome == "defer":
        assert [reason.rule for reason in decision.reasons] == ["US.conversation_cooldown"]


def test_cooldown_counts_days_in_the_latest_candidate_zone(packs: dict[str, Pack]) -> None:
    # 01:00 on 2 June in New York is still 1 June in Los Angeles: day 8 is 9 June in New York.
    history = [attempt(local(NEW_YORK, 2026, 6, 2, 1), "conversation")]
    account = state("US", ["America/New_York", "America/Los_Angeles"])
    decision = evaluate(request(local(NEW_YORK, 2026, 6, 8, 12)), account, ledger(*history), packs["US"])
    assert (decision.outcome, decision.not_before) == ("defer", local(LOS_ANGELES, 2026, 6, 9, 8))


@pytest.mark.parametrize(
    ("direction", "outcome", "blocked"),
    [
        ("inbound", "conversation", True),
        ("inbound", "connected", True),
        ("outbound", "conversation", True),
        ("inbound", "no_answer", False),
    ],
)
def test_a_conversation_the_consumer_started_starts_the_cooldown(
    packs: dict[str, Pack], direction: str, outcome: str, blocked: bool
) -> None:
    history = [attempt(local(NEW_YORK, 2026, 6, 1, 10), outcome, direction=direction)]
    decision = evaluate(request(local(NEW_YORK, 2026, 6, 3, 12)), state("US"), ledger(*history), packs["US"])
    assert decision.outcome == ("defer" if blocked else "allow")
    if blocked:
        assert decision.not_before == local(NEW_YORK, 2026, 6, 8, 8)


def test_inbound_calls_are_not_call_attempts(packs: dict[str, Pack]) -> None:
    history = daily_calls(range(1, 8), "no_answer", direction="inbound")
    decision = evaluate(request(local(NEW_YORK, 2026, 6, 7, 15)), state("US"), ledger(*history), packs["US"])
    assert decision.outcome == "allow"


def test_a_conversation_on_another_debt_starts_no_cooldown(packs: dict[str, Pack]) -> None:
    history = [attempt(local(NEW_YORK, 2026, 6, 1, 10), "conversation", account_id="acc-2")]
    decision = evaluate(request(local(NEW_YORK, 2026, 6, 2, 12)), state("US"), ledger(*history), packs["US"])
    assert decision.outcome == "allow"


# --- CN daily caps ---------------------------------------------------------------------------------


def cn_calls(hours: list[int], outcome: str, day: int = 10, **fields: Any) -> list[Attempt]:
    return [attempt(local(SHANGHAI, 2026, 6, day, hour), outcome, **fields) for hour in hours]


@pytest.mark.parametrize(
    ("history", "outcome", "not_before", "rule"),
    [
        (cn_calls([9, 10], "connected"), "allow", None, None),
        (
            cn_calls([9, 10, 11], "connected"),
            "defer",
            local(SHANGHAI, 2026, 6, 11, 8),
            "CN.connected_calls_per_day",
        ),
        (
            cn_calls([9, 10], "connected") + cn_calls([11], "conversation"),
            "defer",
            local(SHANGHAI, 2026, 6, 11, 8),
            "CN.connected_calls_per_day",
        ),
        # The debtor's cap counts every debt and contact point of the borrower.
        (
            cn_calls([9], "connected", account_id="acc-2")
            + cn_calls([10, 11], "connected", contact_point_id="phone-2"),
            "defer",
            local(SHANGHAI, 2026, 6, 11, 8),
            "CN.connected_calls_per_day",
        ),
        (cn_calls([9, 10, 11], "connected", day=9), "allow", None, None),
        (cn_calls([8, 9, 10, 11, 11, 11], "no_answer")[:5], "allow", None, None),
        (
            cn_calls([8, 9, 10, 11, 11, 11], "no_answer"),
            "defer",
            local(SHANGHAI, 2026, 6, 11, 8),
            "CN.unanswered_per_method_per_day",
        ),
        (
            cn_calls([8, 9, 10], "busy") + cn_calls([11, 11, 11], "voicemail"),
            "defer",
            local(SHANGHAI, 2026, 6, 11, 8),
            "CN.unanswered_per_method_per_day",
        ),
        # Unanswered attempts count per contact method: another number has its own six.
        (cn_calls([8, 9, 10, 11, 11, 11], "no_answer", contact_point_id="phone-2"), "allow", None, None),
    ],
)
def test_cn_daily_caps(
    packs: dict[str, Pack],
    history: list[Attempt],
    outcome: str,
    not_before: datetime | None,
    rule: str | None,
) -> None:
    decision = evaluate(request(local(SHANGHAI, 2026, 6, 10, 12)), state("CN"), ledger(*history), packs["CN"])
    assert (decision.outcome, decision.not_before) == (outcome, not_before)
    if rule is not None:
        assert rule in {reason.rule for reason in decision.reasons}


@pytest.mark.parametrize(
    ("reported", "outcome"),
    [
        # The lender and another agency already had two connected calls today: ours is the third.
        ([9, 10], "allow"),
        ([9, 10, 11], "defer"),
    ],
)
def test_cn_connected_calls_count_the_lender_and_every_agency(
    packs: dict[str, Pack], reported: list[int], outcome: str
) -> None:
    history = cn_calls(reported, "connected", contact_point_id="phone-9")  # logged without a permit
    decision = evaluate(request(local(SHANGHAI, 2026, 6, 10, 12)), state("CN"), ledger(*history), packs["CN"])
    assert decision.outcome == outcome


def test_cn_reserved_calls_later_today_count(packs: dict[str, Pack]) -> None:
    reserved = cn_calls([15, 16, 17], "reserved")
    decision = evaluate(
        request(local(SHANGHAI, 2026, 6, 10, 12)), state("CN"), ledger(*reserved), packs["CN"]
    )
    assert (decision.outcome, decision.not_before) == ("defer", local(SHANGHAI, 2026, 6, 11, 8))
    # Tomorrow is full too: the deferral moves on to the next free day.
    both = [*reserved, *cn_calls([9, 10, 11], "reserved", day=11)]
    decision = evaluate(request(local(SHANGHAI, 2026, 6, 10, 12)), state("CN"), ledger(*both), packs["CN"])
    assert (decision.outcome, decision.not_before) == ("defer", local(SHANGHAI, 2026, 6, 12, 8))


def test_cn_unknown_contact_point_counts_every_number(packs: dict[str, Pack]) -> None:
    history = cn_calls([8, 9, 10, 11, 11, 11], "no_answer", contact_point_id="phone-2")
    at = local(SHANGHAI, 2026, 6, 10, 12)
    decision = evaluate(request(at, contact_point_id=None), state("CN"), ledger(*history), packs["CN"])
    assert decision.outcome == "defer"


@pytest.mark.parametrize(
    ("at", "outcome", "not_before"),
    [
        (local(SHANGHAI, 2026, 6, 10, 23, 59), "defer", local(SHANGHAI, 2026, 6, 11, 0)),
        (datetime(2026, 6, 10, 15, 59, 59, tzinfo=UTC), "defer", local(SHANGHAI, 2026, 6, 11, 0)),
        (local(SHANGHAI, 2026, 6, 11, 0), "allow", None),
    ],
)
def test_cn_daily_caps_reset_at_the_borrowers_midnight(
    packs: dict[str, Pack], at: datetime, outcome: str, not_before: datetime | None
) -> None:
    # The borrower agreed to calls at any hour, so only the day boundary matters.
    account = state("CN", agreed_hours=AgreedHours(start=time(0), end=time(0)))
    history = cn_calls([9, 10, 11], "connected")
    decision = evaluate(request(at), account, ledger(*history), packs["CN"])
    assert (decision.outcome, decision.not_before) == (outcome, not_before)


def test_cn_day_counts_use_the_busiest_zone(packs: dict[str, Pack]) -> None:
    # Three connected calls just after midnight in Shanghai fall on the previous day in Urumqi.
    history = [attempt(local(SHANGHAI, 2026, 6, 11, 0, minute), "connected") for minute in (10, 20, 30)]
    account = state("CN", ["Asia/Shanghai", "Asia/Urumqi"])
    decision = evaluate(request(local(SHANGHAI, 2026, 6, 11, 12)), account, ledger(*history), packs["CN"])
    assert (decision.outcome, decision.not_before) == ("defer", local(URUMQI, 2026, 6, 12, 8))
    counts = ledger_counts(account, ledger(*history), local(SHANGHAI, 2026, 6, 11, 12), pack=packs["CN"])
    assert counts["CN.connected_calls_per_day"] == 3


# --- US-MA overlay ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("history", "channel", "outcome", "not_before"),
    [
        ([attempt(local(NEW_YORK, 2026, 6, 5, 10))], "voice_call", "allow", None),
        (
            [attempt(local(NEW_YORK, 2026, 6, 5, 10)), attempt(local(NEW_YORK, 2026, 6, 6, 10), "voicemail")],
            "voice_call",
            "defer",
            local(NEW_YORK, 2026, 6, 12, 10),
        ),
        (
            [
                attempt(local(NEW_YORK, 2026, 6, 5, 10)),
                attempt(local(NEW_YORK, 2026, 6, 6, 10), "delivered", "sms"),
            ],
            "voice_call",
            "defer",
            local(NEW_YORK, 2026, 6, 12, 10),
        ),
        (
            [attempt(local(NEW_YORK, 2026, 6, 5, 10)), attempt(local(NEW_YORK, 2026, 6, 6, 10), "no_answer")],
            "sms",
            "defer",
            local(NEW_YORK, 2026, 6, 12, 10),
        ),
        (
            [attempt(local(NEW_YORK, 2026, 6, 5, 10)), attempt(local(NEW_YORK, 2026, 6, 6, 10), "busy")],
            "voice_call",
            "allow",
            None,
        ),
        (
            [attempt(local(NEW_YORK, 2026, 6, 1, 10)), attempt(local(NEW_YORK, 2026, 6, 2, 10))],
            "voice_call",
            "allow",
            None,
        ),
    ],
)
def test_massachusetts_two_communications_in_seven_days(
    packs: dict[str, Pack], history: list[Attempt], channel: str, outcome: str, not_before: datetime | None
) -> None:
    account = state("US-MA", consents={"phone-1": MOBILE})
    at = local(NEW_YORK, 2026, 6, 8, 12)
    decision = evaluate(request(at, channel), account, ledger(*history), packs["US-MA"])
    assert (decision.outcome, decision.not_before) == (outcome, not_before)
    if outcome == "defer":
        assert [reason.rule for reason in decision.reasons] == ["US-MA.calls_2_in_7"]
    assert evaluate(request(at, channel), account, ledger(*history), packs["US"]).outcome == "allow"


MOBILE = Consent(
    kind="phone", sms=True, is_mobile=True, line_type="mobile", consent_checked_at=datetime(2026, 6, 1).date()
)
WORK = Consent(kind="phone", sms=True, line_type="work", consent_checked_at=datetime(2026, 6, 1).date())


@pytest.mark.parametrize(
    ("history", "point", "outcome", "not_before", "rules"),
    [
        # Two calls to the work line in 30 days: a third waits for the first to be 30 days old.
        (
            [
                attempt(local(NEW_YORK, 2026, 5, 20, 10), contact_point_id="work-1"),
                attempt(local(NEW_YORK, 2026, 6, 1, 10), contact_point_id="work-1"),
            ],
            "work-1",
            "defer",
            local(NEW_YORK, 2026, 6, 19, 10),
            ["US-MA.other_lines_2_in_30"],
        ),
        # The mobile is counted apart: work-line calls do not fill its 2 in 7.
        (
            [
                attempt(local(NEW_YORK, 2026, 6, 5, 10), contact_point_id="work-1"),
                attempt(local(NEW_YORK, 2026, 6, 6, 10), contact_point_id="work-1"),
            ],
            "phone-1",
            "allow",
            None,
            [],
        ),
        # And mobile calls do not fill the work line's 2 in 30.
        (
            [attempt(local(NEW_YORK, 2026, 6, 5, 10)), attempt(local(NEW_YORK, 2026, 6, 6, 10))],
            "work-1",
            "allow",
            None,
            [],
        ),
    ],
)
def test_massachusetts_two_communications_in_thirty_days_to_other_lines(
    packs: dict[str, Pack],
    history: list[Attempt],
    point: str,
    outcome: str,
    not_before: datetime | None,
    rules: list[str],
) -> None:
    account = state("US-MA", consents={"phone-1": MOBILE, "work-1": WORK})
    decision = evaluate(
        request(local(NEW_YORK, 2026, 6, 8, 12), contact_point_id=point),
        account,
        ledger(*history),
        packs["US-MA"],
    )
    assert (decision.outcome, decision.not_before, [r.rule for r in decision.reasons]) == (
        outcome,
        not_before,
        rules,
    )


@pytest.mark.parametrize(
    ("visit_outcome", "at", "outcome", "not_before"),
    [
        ("met_refused", local(NEW_YORK, 2026, 6, 20, 12), "defer", local(NEW_YORK, 2026, 7, 1, 10)),
        ("met_promise", local(NEW_YORK, 2026, 7, 1, 10), "allow", None),
        ("not_home", local(NEW_YORK, 2026, 6, 2, 12), "allow", None),
        ("wrong_address", local(NEW_YORK, 2026, 6, 2, 12), "allow", None),
    ],
)
def test_massachusetts_one_visit_per_thirty_days(
    packs: dict[str, Pack], visit_outcome: str, at: datetime, outcome: str, not_before: datetime | None
) -> None:
    history = [attempt(local(NEW_YORK, 2026, 6, 1, 10), visit_outcome, "visit", contact_point_id="home")]
    account = state("US-MA", tenant_allows_visits=True)
    decision = evaluate(
        request(at, "visit", contact_point_id="home"), account, ledger(*history), packs["US-MA"]
    )
    assert (decision.outcome, decision.not_before) == (outcome, not_before)
    if outcome == "defer":
        assert [reason.rule for reason in decision.reasons] == ["US-MA.visits_per_30_days"]


@pytest.mark.parametrize(
    ("hour", "minute", "outcome"), [(7, 59, "defer"), (8, 0, "allow"), (20, 59, "allow"), (21, 0, "defer")]
)
def test_massachusetts_visit_hours(packs: dict[str, Pack], hour: int, minute: int, outcome: str) -> None:
    account = state("US-MA", tenant_allows_visits=True)
    decision = evaluate(
        request(local(NEW_YORK, 2026, 6, 10, hour, minute), "visit"), account, ledger(), packs["US-MA"]
    )
    assert decision.outcome == outcome
    if outcome == "defer":
        assert {reason.rule for reason in decision.reasons} == {"US.quiet_hours", "US-MA.visit_hours"}


# --- counts for the state API ----------------------------------------------------------------------


def test_ledger_counts_per_rule(packs: dict[str, Pack]) -> None:
    history = [
        *daily_calls(range(3, 8)),
        attempt(local(NEW_YORK, 2026, 6, 6, 11), "conversation"),
        attempt(local(NEW_YORK, 2026, 6, 7, 11), "busy"),
        attempt(local(NEW_YORK, 2026, 6, 7, 12), "delivered", "sms"),
        attempt(local(NEW_YORK, 2026, 5, 20, 12), "met_refused", "visit"),
        attempt(local(NEW_YORK, 2026, 6, 7, 12), "no_answer", account_id="acc-2"),
    ]
    counts = ledger_counts(
        state("US-MA"), ledger(*history), local(NEW_YORK, 2026, 6, 7, 15), pack=packs["US-MA"]
    )
    assert counts == {
        "US.calls_7_in_7": 6,
        "US.conversation_cooldown": 1,
        "US.contact_spacing": 1,
        "US-MA.calls_2_in_7": 7,
        "US-MA.other_lines_2_in_30": 7,
        "US-MA.visits_per_30_days": 1,
    }


def test_ledger_counts_cn_busiest_contact_point(packs: dict[str, Pack]) -> None:
    history = [
        *cn_calls([8, 9, 10], "no_answer"),
        *cn_calls([8, 9], "no_answer", contact_point_id="phone-2"),
        *cn_calls([11], "connected"),
        *cn_calls([9], "connected", day=9),
    ]
    counts = ledger_counts(state("CN"), ledger(*history), local(SHANGHAI, 2026, 6, 10, 12), pack=packs["CN"])
    assert counts == {
        "CN.connected_calls_per_day": 1,
        "CN.unanswered_per_method_per_day": 3,
        "CN.contact_spacing": 0,
    }


def test_ledger_counts_when_the_ledger_is_empty(packs: dict[str, Pack]) -> None:
    counts = ledger_counts(
        state("US"), ledger(), datetime(2026, 6, 1, tzinfo=UTC) + timedelta(hours=1), pack=packs["US"]
    )
    assert counts == {"US.calls_7_in_7": 0, "US.conversation_cooldown": 0, "US.contact_spacing": 0}
