"""Quiet hours at their edges, on DST days, across several zones, with preferences and agreed hours."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from compliance.domain.engine import evaluate
from compliance.domain.model import AgreedHours, InconvenientWindow
from compliance.domain.packs import Pack
from tests.unit.compliance.builders import (
    HONOLULU,
    LONDON,
    LOS_ANGELES,
    NEW_YORK,
    SHANGHAI,
    URUMQI,
    ledger,
    local,
    request,
    state,
)

pytestmark = pytest.mark.unit

SUMMER = (2026, 6, 10)  # a Wednesday, daylight time in New York and London


@pytest.mark.parametrize(
    ("pack", "zone", "hour", "minute", "outcome", "not_before"),
    [
        ("US", NEW_YORK, 7, 59, "defer", local(NEW_YORK, *SUMMER, 8)),
        ("US", NEW_YORK, 8, 0, "allow", None),
        ("US", NEW_YORK, 20, 59, "allow", None),
        ("US", NEW_YORK, 21, 0, "defer", local(NEW_YORK, 2026, 6, 11, 8)),
        ("US", NEW_YORK, 0, 0, "defer", local(NEW_YORK, *SUMMER, 8)),
        ("CN", SHANGHAI, 7, 59, "defer", local(SHANGHAI, *SUMMER, 8)),
        ("CN", SHANGHAI, 8, 0, "allow", None),
        ("CN", SHANGHAI, 21, 59, "allow", None),
        ("CN", SHANGHAI, 22, 0, "defer", local(SHANGHAI, 2026, 6, 11, 8)),
        ("GB", LONDON, 7, 59, "defer", local(LONDON, *SUMMER, 8)),
        ("GB", LONDON, 8, 0, "allow", None),
        ("GB", LONDON, 20, 59, "allow", None),
        ("GB", LONDON, 21, 0, "defer", local(LONDON, 2026, 6, 11, 8)),
    ],
)
def test_quiet_hours_edges(
    packs: dict[str, Pack],
    pack: str,
    zone: ZoneInfo,
    hour: int,
    minute: int,
    outcome: str,
    not_before: datetime | None,
) -> None:
    decision = evaluate(request(local(zone, *SUMMER, hour, minute)), state(pack), ledger(), packs[pack])
    assert decision.outcome == outcome
    assert decision.not_before == not_before
    if outcome == "defer":
        assert decision.reasons[0].rule in {"US.quiet_hours", "CN.quiet_hours", "GB.reasonable_hours"}
        assert decision.expires_at is None


@pytest.mark.parametrize(
    ("at", "outcome", "not_before"),
    [
        # 2026-03-08: New York springs forward, 02:00 EST -> 03:00 EDT.
        (local(NEW_YORK, 2026, 3, 8, 1, 30), "defer", datetime(2026, 3, 8, 12, 0, tzinfo=UTC)),
        (local(NEW_YORK, 2026, 3, 7, 21, 30), "defer", datetime(2026, 3, 8, 12, 0, tzinfo=UTC)),
        (local(NEW_YORK, 2026, 3, 8, 7, 59), "defer", datetime(2026, 3, 8, 12, 0, tzinfo=UTC)),
        (local(NEW_YORK, 2026, 3, 8, 8, 0), "allow", None),
        (local(NEW_YORK, 2026, 3, 8, 20, 59), "allow", None),
        (local(NEW_YORK, 2026, 3, 8, 21, 0), "defer", datetime(2026, 3, 9, 12, 0, tzinfo=UTC)),
        # 2026-11-01: New York falls back, 02:00 EDT -> 01:00 EST; 01:30 happens twice.
        (local(NEW_YORK, 2026, 11, 1, 1, 30, fold=0), "defer", datetime(2026, 11, 1, 13, 0, tzinfo=UTC)),
        (local(NEW_YORK, 2026, 11, 1, 1, 30, fold=1), "defer", datetime(2026, 11, 1, 13, 0, tzinfo=UTC)),
        (local(NEW_YORK, 2026, 10, 31, 21, 0), "defer", datetime(2026, 11, 1, 13, 0, tzinfo=UTC)),
        (local(NEW_YORK, 2026, 11, 1, 7, 59), "defer", datetime(2026, 11, 1, 13, 0, tzinfo=UTC)),
        (local(NEW_YORK, 2026, 11, 1, 8, 0), "allow", None),
        (local(NEW_YORK, 2026, 11, 1, 21, 0), "defer", datetime(2026, 11, 2, 13, 0, tzinfo=UTC)),
    ],
)
def test_new_york_dst_days(
    packs: dict[str, Pack], at: datetime, outcome: str, not_before: datetime | None
) -> None:
    decision = evaluate(request(at), state("US-NY"), ledger(), packs["US"])
    assert (decision.outcome, decision.not_before) == (outcome, not_before)
    if not_before is not None:
        assert decision.not_before.astimezone(NEW_YORK).time() == time(8, 0)


@pytest.mark.parametrize(
    ("zones", "at", "outcome", "not_before"),
    [
        # New York and Honolulu, six hours apart in summer: only 14:00-21:00 New York time is 08:00-21:00 in both.
        (
            ["America/New_York", "Pacific/Honolulu"],
            local(NEW_YORK, *SUMMER, 13, 59),
            "defer",
            local(NEW_YORK, *SUMMER, 14),
        ),
        (["America/New_York", "Pacific/Honolulu"], local(NEW_YORK, *SUMMER, 14), "allow", None),
        (["America/New_York", "Pacific/Honolulu"], local(NEW_YORK, *SUMMER, 20, 59), "allow", None),
        (
            ["America/New_York", "Pacific/Honolulu"],
            local(NEW_YORK, *SUMMER, 21),
            "defer",
            local(NEW_YORK, 2026, 6, 11, 14),
        ),
        (
            ["America/New_York", "Pacific/Honolulu"],
            local(HONOLULU, *SUMMER, 7, 59),
            "defer",
            local(HONOLULU, *SUMMER, 8),
        ),
        # Five hours apart in winter.
        (
            ["America/New_York", "Pacific/Honolulu"],
            local(NEW_YORK, 2026, 1, 14, 12, 59),
            "defer",
            local(NEW_YORK, 2026, 1, 14, 13),
        ),
        # New York and Los Angeles, three hours apart.
        (
            ["America/New_York", "America/Los_Angeles"],
            local(NEW_YORK, *SUMMER, 10, 59),
            "defer",
            local(LOS_ANGELES, *SUMMER, 8),
        ),
        (["America/New_York", "America/Los_Angeles"], local(LOS_ANGELES, *SUMMER, 17, 59), "allow", None),
        (
            ["America/New_York", "America/Los_Angeles"],
            local(LOS_ANGELES, *SUMMER, 18),
            "defer",
            local(LOS_ANGELES, 2026, 6, 11, 8),
        ),
        # No zone known: every US clock must agree (latest opening Honolulu 08:00, earliest close New York 21:00).
        ([], datetime(2026, 6, 10, 17, 59, tzinfo=UTC), "defer", datetime(2026, 6, 10, 18, 0, tzinfo=UTC)),
        ([], datetime(2026, 6, 10, 18, 0, tzinfo=UTC), "allow", None),
    ],
)
def test_several_zones_allow_only_the_intersection(
    packs: dict[str, Pack], zones: list[str], at: datetime, outcome: str, not_before: datetime | None
) -> None:
    decision = evaluate(request(at), state("US-NY", zones), ledger(), packs["US"])
    assert (decision.outcome, decision.not_before) == (outcome, not_before)


def test_a_deferral_names_only_the_zones_that_block(packs: dict[str, Pack]) -> None:
    at = local(NEW_YORK, *SUMMER, 12)
    decision = evaluate(
        request(at), state("US-NY", ["America/New_York", "Pacific/Honolulu"]), ledger(), packs["US"]
    )
    assert [reason.message for reason in decision.reasons] == [
        "outside the permitted hours 08:00-21:00 local time in Pacific/Honolulu"
    ]
    assert decision.reasons[0].citation.startswith("12 CFR 1006.6(b)(1)(i)")


def test_zones_with_no_common_hours_deny(packs: dict[str, Pack]) -> None:
    account = state("US-NY", ["Europe/London", "Asia/Shanghai", "Pacific/Honolulu"])
    decision = evaluate(request(local(NEW_YORK, *SUMMER, 12)), account, ledger(), packs["US"])
    assert decision.outcome == "deny"
    assert all(reason.rule == "US.quiet_hours" for reason in decision.reasons)
    assert "no instant in the next 62 days" in decision.reasons[0].message


def test_an_unknown_zone_denies(packs: dict[str, Pack]) -> None:
    decision = evaluate(
        request(local(NEW_YORK, *SUMMER, 12)), state("US-NY", ["Mars/Olympus"]), ledger(), packs["US"]
    )
    assert decision.outcome == "deny"
    assert decision.reasons[0].rule == "US.quiet_hours"
    assert "Mars/Olympus" in decision.reasons[0].message


WEEKEND = InconvenientWindow(weekdays=frozenset({"sat", "sun"}), start=time(0), end=time(0))
LUNCH = InconvenientWindow(
    weekdays=frozenset({"mon", "tue", "wed", "thu", "fri"}), start=time(12), end=time(13)
)
FRIDAY_NIGHT = InconvenientWindow(weekdays=frozenset({"fri"}), start=time(20), end=time(9))


@pytest.mark.parametrize(
    ("pack", "window", "at", "outcome", "not_before"),
    [
        ("US", WEEKEND, local(NEW_YORK, 2026, 6, 13, 10), "defer", local(NEW_YORK, 2026, 6, 15, 8)),
        ("US", WEEKEND, local(NEW_YORK, 2026, 6, 12, 20, 59), "allow", None),
        ("US", LUNCH, local(NEW_YORK, *SUMMER, 12, 30), "defer", local(NEW_YORK, *SUMMER, 13)),
        ("US", LUNCH, local(NEW_YORK, *SUMMER, 11, 59), "allow", None),
        ("US", LUNCH, local(NEW_YORK, 2026, 6, 13, 12, 30), "allow", None),
        ("US", FRIDAY_NIGHT, local(NEW_YORK, 2026, 6, 12, 20, 30), "defer", local(NEW_YORK, 2026, 6, 13, 9)),
        ("US", FRIDAY_NIGHT, local(NEW_YORK, 2026, 6, 13, 8, 30), "defer", local(NEW_YORK, 2026, 6, 13, 9)),
        ("GB", LUNCH, local(LONDON, *SUMMER, 12, 0), "defer", local(LONDON, *SUMMER, 13)),
        ("CN", LUNCH, local(SHANGHAI, *SUMMER, 12, 0), "defer", local(SHANGHAI, *SUMMER, 13)),
    ],
)
def test_consumer_named_inconvenient_times_block(
    packs: dict[str, Pack],
    pack: str,
    window: InconvenientWindow,
    at: datetime,
    outcome: str,
    not_before: datetime | None,
) -> None:
    account = state(pack, preferences=[window])
    decision = evaluate(request(at), account, ledger(), packs[pack])
    assert (decision.outcome, decision.not_before) == (outcome, not_before)
    if outcome == "defer":
        assert "inconvenient" in decision.reasons[0].message


def test_a_permit_expires_when_an_inconvenient_window_begins(packs: dict[str, Pack]) -> None:
    decision = evaluate(
        request(local(NEW_YORK, *SUMMER, 11, 50)), state("US", preferences=[LUNCH]), ledger(), packs["US"]
    )
    assert decision.expires_at == local(NEW_YORK, *SUMMER, 12)


@pytest.mark.parametrize(
    ("at", "outcome", "not_before"),
    [
        (local(SHANGHAI, *SUMMER, 7, 30), "allow", None),
        (local(SHANGHAI, *SUMMER, 22, 30), "allow", None),
        (local(SHANGHAI, *SUMMER, 23, 0), "defer", local(SHANGHAI, 2026, 6, 11, 7)),
        (local(SHANGHAI, *SUMMER, 6, 59), "defer", local(SHANGHAI, *SUMMER, 7)),
    ],
)
def test_cn_hours_the_borrower_agreed_to_replace_quiet_hours(
    packs: dict[str, Pack], at: datetime, outcome: str, not_before: datetime | None
) -> None:
    account = state("CN", agreed_hours=AgreedHours(start=time(7), end=time(23)))
    decision = evaluate(request(at), account, ledger(), packs["CN"])
    assert (decision.outcome, decision.not_before) == (outcome, not_before)


def test_us_ignores_agreed_hours(packs: dict[str, Pack]) -> None:
    account = state("US", agreed_hours=AgreedHours(start=time(7), end=time(23)))
    decision = evaluate(request(local(NEW_YORK, *SUMMER, 7, 30)), account, ledger(), packs["US"])
    assert decision.outcome == "defer"


@pytest.mark.parametrize("channel", ["visit", "letter", "sms", "email", "push"])
def test_cn_quiet_hours_cover_every_channel(packs: dict[str, Pack], channel: str) -> None:
    account = state("CN", consents={})
    at = local(SHANGHAI, *SUMMER, 22, 30)
    decision = evaluate(
        request(at, channel, crew_size=2, recording=True, id_shown=True), account, ledger(), packs["CN"]
    )
    assert decision.outcome in {"defer", "deny"}
    if channel != "sms":  # SMS without consent is denied outright
        assert decision.outcome == "defer"
        assert decision.reasons[0].rule == "CN.quiet_hours"


def test_cn_borrower_in_two_zones(packs: dict[str, Pack]) -> None:
    account = state("CN", ["Asia/Shanghai", "Asia/Urumqi"])
    decision = evaluate(request(local(SHANGHAI, *SUMMER, 9)), account, ledger(), packs["CN"])
    assert (decision.outcome, decision.not_before) == ("defer", local(URUMQI, *SUMMER, 8))


@pytest.mark.parametrize(
    ("at", "expires_at"),
    [
        (local(NEW_YORK, *SUMMER, 12), local(NEW_YORK, *SUMMER, 12, 15)),
        (local(NEW_YORK, *SUMMER, 20, 50), local(NEW_YORK, *SUMMER, 21)),
        (local(NEW_YORK, *SUMMER, 20, 59), local(NEW_YORK, *SUMMER, 21)),
    ],
)
def test_a_permit_expires_after_its_ttl_or_when_quiet_hours_begin(
    packs: dict[str, Pack], at: datetime, expires_at: datetime
) -> None:
    decision = evaluate(request(at), state("US"), ledger(), packs["US"])
    assert decision.outcome == "allow"
    assert decision.expires_at == expires_at
    assert decision.reasons == []


def test_permit_ttl_is_configurable(packs: dict[str, Pack]) -> None:
    at = local(NEW_YORK, *SUMMER, 12)
    decision = evaluate(request(at), state("US"), ledger(), packs["US"], permit_ttl=timedelta(minutes=5))
    assert decision.expires_at == at + timedelta(minutes=5)
    with pytest.raises(ValueError, match="permit_ttl"):
        evaluate(request(at), state("US"), ledger(), packs["US"], permit_ttl=timedelta(0))


def test_decisions_are_in_utc_and_name_the_pack_version(packs: dict[str, Pack]) -> None:
    decision = evaluate(request(local(NEW_YORK, *SUMMER, 7)), state("US-MA"), ledger(), packs["US-MA"])
    assert decision.policy == "US-MA@2026.12.0+US@2026.12.0"
    assert decision.not_before is not None and decision.not_before.tzinfo is UTC
    assert "US.quiet_hours" in decision.evaluated_rules
    assert "US.sms_consent" not in decision.evaluated_rules


def test_a_request_about_another_account_is_refused(packs: dict[str, Pack]) -> None:
    with pytest.raises(ValueError, match="different accounts"):
        evaluate(
            request(local(NEW_YORK, *SUMMER, 12), account_id="other"), state("US"), ledger(), packs["US"]
        )


def test_replaying_the_same_inputs_gives_the_same_decision(packs: dict[str, Pack]) -> None:
    account = replace(state("US", ["America/New_York", "Pacific/Honolulu"]), preferences=[LUNCH])
    at = local(NEW_YORK, *SUMMER, 9)
    assert evaluate(request(at), account, ledger(), packs["US"]) == evaluate(
        request(at), account, ledger(), packs["US"]
    )
