"""Properties over random zones, instants and ledgers: allowed means inside every zone's hours,
a deferral's not_before really is open, and a decision replays identically."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compliance.domain.engine import evaluate
from compliance.domain.localtime import wall_clock, within
from compliance.domain.model import Attempt, Ledger
from compliance.domain.packs import Pack, QuietHoursRule, load_all
from compliance.domain.rules.base import resolve_zones
from tests.unit.compliance.builders import ACCOUNT, BORROWER, attempt, request, state

pytestmark = pytest.mark.unit

PACKS = load_all()
ZONES = [
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Phoenix",
    "America/Los_Angeles",
    "America/Anchorage",
    "Pacific/Honolulu",
    "Europe/London",
    "Asia/Shanghai",
    "Asia/Urumqi",
    "Australia/Lord_Howe",
    "America/Havana",
    "Africa/Cairo",
    "America/St_Johns",
]
QUIET_RULES = {"US.quiet_hours", "CN.quiet_hours", "GB.reasonable_hours", "US-MA.visit_hours"}
RULES_ONLY_TIME_CAN_FIX = QUIET_RULES | {
    "US.calls_7_in_7",
    "US.conversation_cooldown",
    "US-MA.calls_2_in_7",
    "US-MA.other_lines_2_in_30",
    "CN.connected_calls_per_day",
    "CN.unanswered_per_method_per_day",
    "US.contact_spacing",
    "CN.contact_spacing",
    "GB.contact_spacing",
}

zone_sets = st.lists(st.sampled_from(ZONES), min_size=1, max_size=3, unique=True)
instants = st.datetimes(
    min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(UTC)
)
pack_names = st.sampled_from(["US", "US-MA", "CN", "GB"])
FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def quiet_rule(pack: Pack) -> QuietHoursRule:
    return next(rule for rule in pack.rules if isinstance(rule, QuietHoursRule))


def inside_hours_everywhere(pack: Pack, zones: list[str], at: datetime) -> bool:
    rule = quiet_rule(pack)
    resolved, _ = resolve_zones(zones)
    return all(
        within(wall_clock(at, zone).time(), rule.allowed_from, rule.allowed_until) for zone in resolved
    )


@FAST
@given(pack_name=pack_names, zones=zone_sets, at=instants)
def test_quiet_hours_allow_and_defer_are_sound(pack_name: str, zones: list[str], at: datetime) -> None:
    pack = PACKS[pack_name]
    account = state(pack_name[:2], zones)
    decision = evaluate(request(at), account, Ledger(), pack)
    if decision.outcome == "allow":
        assert inside_hours_everywhere(pack, zones, at)
        assert decision.expires_at is not None and at < decision.expires_at <= at + timedelta(minutes=15)
        assert inside_hours_everywhere(pack, zones, decision.expires_at - timedelta(microseconds=1))
    elif decision.outcome == "defer":
        assert decision.not_before is not None and decision.not_before > at
        assert not inside_hours_everywhere(pack, zones, at)
        assert inside_hours_everywhere(pack, zones, decision.not_before)
        again = evaluate(request(decision.not_before), account, Ledger(), pack)
        assert again.outcome == "allow"
        assert not any(reason.rule in QUIET_RULES for reason in again.reasons)
    else:
        # Only zones whose hours never overlap can deny a plain call to the borrower.
        assert all("no instant in the next" in reason.message for reason in decision.reasons)


outcomes = st.sampled_from(
    ["no_answer", "voicemail", "connected", "conversation", "busy", "failed", "delivered"]
)


@st.composite
def histories(draw: st.DrawFn, at: datetime) -> list[Attempt]:
    """What happened in the 9 days before `at`, in either direction, and permits reserved for any
    instant of the 9 days around it."""
    count = draw(st.integers(min_value=0, max_value=12))
    happened = [
        attempt(
            at - draw(st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=9))),
            draw(outcomes),
            draw(st.sampled_from(["voice_call", "voice_call", "sms"])),
            contact_point_id=draw(st.sampled_from(["phone-1", "phone-2"])),
            account_id=draw(st.sampled_from([ACCOUNT, ACCOUNT, "acc-2"])),
            borrower_id=BORROWER,
            direction=draw(st.sampled_from(["outbound", "outbound", "inbound"])),
        )
        for _ in range(count)
    ]
    reserved = [
        attempt(
            at + draw(st.timedeltas(min_value=timedelta(days=-9), max_value=timedelta(days=9))),
            "reserved",
            draw(st.sampled_from(["voice_call", "sms", "email"])),
            contact_point_id=draw(st.sampled_from(["phone-1", "phone-2"])),
            borrower_id=BORROWER,
        )
        for _ in range(draw(st.integers(min_value=0, max_value=8)))
    ]
    return happened + reserved


@FAST
@given(pack_name=pack_names, zones=zone_sets, at=instants, data=st.data())
def test_a_deferral_reopens_exactly_and_decisions_replay(
    pack_name: str, zones: list[str], at: datetime, data: st.DataObject
) -> None:
    pack = PACKS[pack_name]
    account = state(pack_name[:2], zones)
    ledger = Ledger(attempts=tuple(data.draw(histories(at))))
    decision = evaluate(request(at), account, ledger, pack)
    assert decision == evaluate(request(at), account, ledger, pack)
    assert decision.policy == pack.version_tag
    if decision.outcome == "defer":
        assert decision.not_before is not None and decision.not_before > at
        assert all(reason.rule in RULES_ONLY_TIME_CAN_FIX for reason in decision.reasons)
        again = evaluate(request(decision.not_before), account, ledger, pack)
        assert again.outcome == "allow", again.reasons
        # Nothing earlier would have done: one second before, something still blocked.
        before = evaluate(request(decision.not_before - timedelta(seconds=1)), account, ledger, pack)
        assert before.outcome != "allow" or decision.not_before - timedelta(seconds=1) < at
