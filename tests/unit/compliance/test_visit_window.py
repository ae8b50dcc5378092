"""A visit's permit covers the window it is asked for, up to the moment the permitted hours close;
a message's permit keeps its short life whatever it asks for."""

from __future__ import annotations

from datetime import timedelta

import pytest

from compliance.domain.engine import MAX_VISIT_WINDOW, evaluate
from compliance.domain.packs import Pack
from tests.unit.compliance.builders import SHANGHAI, ledger, local, request, state

pytestmark = pytest.mark.unit

DAY = (2026, 6, 10)
VISIT = {"crew_size": 2, "recording": True, "id_shown": True}


def test_a_visit_permit_lasts_until_the_quiet_hours_begin(packs: dict[str, Pack]) -> None:
    at, until = local(SHANGHAI, *DAY, 8), local(SHANGHAI, 2026, 6, 11, 0)
    decision = evaluate(request(at, "visit", until=until, **VISIT), state("CN"), ledger(), packs["CN"])
    assert decision.outcome == "allow"
    assert decision.expires_at == local(SHANGHAI, *DAY, 22)


def test_a_visit_permit_ends_with_the_window_it_asked_for(packs: dict[str, Pack]) -> None:
    at, until = local(SHANGHAI, *DAY, 9), local(SHANGHAI, *DAY, 12)
    decision = evaluate(request(at, "visit", until=until, **VISIT), state("CN"), ledger(), packs["CN"])
    assert decision.expires_at == until


def test_a_visit_asked_for_the_night_is_deferred_to_the_morning(packs: dict[str, Pack]) -> None:
    at, until = local(SHANGHAI, *DAY, 0), local(SHANGHAI, 2026, 6, 11, 0)
    decision = evaluate(request(at, "visit", until=until, **VISIT), state("CN"), ledger(), packs["CN"])
    assert decision.outcome == "defer"
    assert decision.not_before == local(SHANGHAI, *DAY, 8)


def test_no_visit_permit_outlives_a_day_and_no_message_takes_a_window(packs: dict[str, Pack]) -> None:
    at = local(SHANGHAI, *DAY, 9)
    week = at + timedelta(days=7)
    visit = evaluate(request(at, "visit", until=week, **VISIT), state("CN"), ledger(), packs["CN"])
    assert visit.expires_at is not None and visit.expires_at - at <= MAX_VISIT_WINDOW
    call = evaluate(
        request(at, "voice_call", until=week),
        state("CN"),
        ledger(),
        packs["CN"],
        permit_ttl=timedelta(minutes=15),
    )
    assert call.expires_at == at + timedelta(minutes=15)


def test_a_cn_visit_by_one_agent_is_denied_whatever_its_window(packs: dict[str, Pack]) -> None:
    at, until = local(SHANGHAI, *DAY, 9), local(SHANGHAI, *DAY, 12)
    decision = evaluate(
        request(at, "visit", until=until, crew_size=1, recording=True, id_shown=True),
        state("CN"),
        ledger(),
        packs["CN"],
    )
    assert decision.outcome == "deny"
