"""Rules no waiting helps: holds, opt-outs, consent, third parties, visits, the validation notice."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import pytest

from compliance.domain.engine import evaluate
from compliance.domain.ledger import validation_notice_due
from compliance.domain.model import Attempt, Consent, Dispute
from compliance.domain.packs import Pack, Unreachability
from compliance.domain.rules.third_party import debtor_unreachable
from tests.unit.compliance.builders import (
    LONDON,
    NEW_YORK,
    SHANGHAI,
    attempt,
    ledger,
    local,
    request,
    state,
    with_holds,
)

pytestmark = pytest.mark.unit

NOON = {
    "US": local(NEW_YORK, 2026, 6, 10, 12),
    "CN": local(SHANGHAI, 2026, 6, 10, 12),
    "GB": local(LONDON, 2026, 6, 10, 12),
}
VISIT_READY: dict[str, Any] = {
    "crew_size": 2,
    "recording": True,
    "id_shown": True,
    "contact_point_id": "home",
}


def decide(
    packs: dict[str, Pack], pack: str, channel: str = "voice_call", holds: tuple[str, ...] = (), **fields: Any
) -> Any:
    account = with_holds(state(pack, tenant_allows_visits=True), *holds)
    country = pack[:2]
    return evaluate(request(NOON[country], channel, **fields), account, ledger(), packs[pack])


# --- holds -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pack", "hold", "channel", "fields", "rule"),
    [
        ("US", "dispute", "voice_call", {}, "US.dispute_hold"),
        ("US", "dispute", "letter", {}, "US.dispute_hold"),
        ("US", "cease_communication", "email", {}, "US.cease_communication"),
        ("US", "cease_communication", "letter", {"purpose": "collection"}, "US.cease_communication"),
        ("US", "attorney", "voice_call", {}, "US.attorney"),
        ("US", "bankruptcy", "letter", {}, "US.bankruptcy"),
        ("US", "deceased", "voice_call", {}, "US.deceased"),
        ("US", "closed", "voice_call", {}, "US.closed"),
        ("US", "do_not_visit", "visit", {}, "US.do_not_visit"),
        ("US-MA", "dispute", "voice_call", {}, "US.dispute_hold"),
        ("CN", "dispute", "voice_call", {}, "CN.dispute_hold"),
        ("CN", "cease_communication", "letter", {"purpose": "validation_notice"}, "CN.cease_communication"),
        ("CN", "attorney", "voice_call", {}, "CN.attorney"),
        ("CN", "bankruptcy", "voice_call", {}, "CN.bankruptcy"),
        ("CN", "deceased", "visit", VISIT_READY, "CN.deceased"),
        ("CN", "closed", "visit", VISIT_READY, "CN.closed"),
        ("CN", "do_not_visit", "visit", VISIT_READY, "CN.do_not_visit"),
        ("GB", "dispute", "voice_call", {}, "GB.dispute_hold"),
        ("GB", "cease_communication", "voice_call", {}, "GB.cease_communication"),
        ("GB", "attorney", "voice_call", {}, "GB.attorney"),
        ("GB", "bankruptcy", "voice_call", {}, "GB.bankruptcy"),
        ("GB", "deceased", "voice_call", {}, "GB.deceased"),
        ("GB", "closed", "voice_call", {}, "GB.closed"),
        ("GB", "do_not_visit", "visit", {}, "GB.do_not_visit"),
        ("GB", "vulnerable", "visit", {}, "GB.vulnerability_review"),
        ("GB", "vulnerable", "sms", {}, "GB.vulnerability_review"),
        ("GB", "vulnerable", "letter", {}, "GB.vulnerability_review"),
        ("GB", "vulnerable", "voice_call", {"autodialed": True}, "GB.vulnerability_review"),
        ("GB", "vulnerable", "voice_call", {"prerecorded": True}, "GB.vulnerability_review"),
        # After a cease request the validation notice is not one of the notices 1692c(c) allows.
        ("US", "cease_communication", "letter", {"purpose": "validation_notice"}, "US.cease_communication"),
        (
            "US",
            "cease_communication",
            "voice_call",
            {"purpose": "notice_efforts_terminated"},
            "US.cease_communication",
        ),
        ("US", "bankrupt", "voice_call", {}, "US.unrecognised_hold"),
        ("CN", "frozen", "voice_call", {}, "CN.unrecognised_hold"),
        ("GB", "breathing_space", "voice_call", {}, "GB.unrecognised_hold"),
    ],
)
def test_each_hold_denies(
    packs: dict[str, Pack], pack: str, hold: str, channel: str, fields: dict[str, Any], rule: str
) -> None:
    decision = decide(packs, pack, channel, (hold,), **fields)
    assert decision.outcome == "deny"
    assert rule in [reason.rule for reason in decision.reasons]
    assert decision.not_before is None and decision.expires_at is None


@pytest.mark.parametrize(
    ("pack", "hold", "channel", "fields"),
    [
        ("US", "cease_communication", "letter", {"purpose": "notice_efforts_terminated"}),
        ("US", "cease_communication", "letter", {"purpose": "notice_may_invoke_remedy"}),
        ("US", "cease_communication", "email", {"purpose": "notice_will_invoke_remedy"}),
        ("US-MA", "cease_communication", "letter", {"purpose": "notice_efforts_terminated"}),
        ("US", "dispute", "letter", {"purpose": "validation_notice"}),
        ("US", "dispute", "email", {"purpose": "validation_notice"}),
        ("US", "do_not_visit", "voice_call", {}),
        ("GB", "vulnerable", "voice_call", {}),
        ("GB", "do_not_visit", "letter", {}),
        ("CN", "do_not_visit", "voice_call", {}),
    ],
)
def test_what_a_hold_leaves_open(
    packs: dict[str, Pack], pack: str, hold: str, channel: str, fields: dict[str, Any]
) -> None:
    account = with_holds(state(pack, consents={"phone-1": Consent(kind="email", email=True)}), hold)
    decision = evaluate(request(NOON[pack[:2]], channel, **fields), account, ledger(), packs[pack])
    assert decision.outcome == "allow", decision.reasons


def test_routes_are_named(packs: dict[str, Pack]) -> None:
    assert "attorney" in decide(packs, "US", holds=("attorney",)).reasons[0].message
    assert "review" in decide(packs, "GB", "visit", ("vulnerable",)).reasons[0].message


def test_denials_win_over_deferrals(packs: dict[str, Pack]) -> None:
    account = with_holds(state("US"), "dispute")
    decision = evaluate(request(local(NEW_YORK, 2026, 6, 10, 23)), account, ledger(), packs["US"])
    assert decision.outcome == "deny"
    assert [reason.rule for reason in decision.reasons] == ["US.dispute_hold"]


@pytest.mark.parametrize(
    ("pack", "rule"),
    [("US", "US.channel_opt_out"), ("CN", "CN.channel_opt_out"), ("GB", "GB.channel_opt_out")],
)
def test_channel_opt_out_denies_that_channel_only(packs: dict[str, Pack], pack: str, rule: str) -> None:
    account = state(pack, channel_opt_outs={"voice_call"})
    denied = evaluate(request(NOON[pack]), account, ledger(), packs[pack])
    assert (denied.outcome, denied.reasons[0].rule) == ("deny", rule)
    assert evaluate(request(NOON[pack], "letter"), account, ledger(), packs[pack]).outcome == "allow"


# --- consent ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pack", "channel", "autodialed", "consent", "outcome", "rule"),
    [
        (
            "US",
            "sms",
            False,
            Consent(sms=True, is_mobile=True, consent_checked_at=date(2026, 6, 1)),
            "allow",
            None,
        ),
        (
            "US",
            "sms",
            False,
            Consent(sms=True, is_mobile=True, consent_checked_at=date(2026, 4, 11)),
            "allow",
            None,
        ),
        (
            "US",
            "sms",
            False,
            Consent(sms=True, is_mobile=True, consent_checked_at=date(2026, 4, 10)),
            "deny",
            "US.sms_consent",
        ),
        ("US", "sms", False, Consent(sms=True, is_mobile=True), "deny", "US.sms_consent"),
        (
            "US",
            "sms",
            False,
            Consent(sms=False, consent_checked_at=date(2026, 6, 1)),
            "deny",
            "US.sms_consent",
        ),
        ("US", "sms", False, None, "deny", "US.sms_consent"),
        ("US", "voice_call", True, Consent(is_mobile=True), "deny", "US.tcpa_prior_express_consent"),
        ("US", "voice_call", True, Consent(is_mobile=True, autodialer=True), "allow", None),
        ("US", "voice_call", True, Consent(line_type="residential"), "allow", None),
        ("US", "voice_call", True, Consent(line_type="work"), "allow", None),
        # A phone of unknown line type is treated as a mobile: an autodialed call needs consent.
        ("US", "voice_call", True, Consent(is_mobile=False), "deny", "US.tcpa_prior_express_consent"),
        ("US", "voice_call", True, None, "deny", "US.tcpa_prior_express_consent"),
        ("US", "voice_call", False, Consent(is_mobile=True), "allow", None),
        ("US", "voice_call", False, None, "allow", None),
        ("US", "email", False, Consent(email=True), "allow", None),
        ("US", "email", False, Consent(email=True, employer_email=True), "deny", "US.no_employer_email"),
        ("US", "email", False, None, "deny", "US.no_employer_email"),
        ("CN", "sms", False, Consent(sms=True), "allow", None),
        ("CN", "sms", False, Consent(sms=False), "deny", "CN.sms_consent"),
        ("CN", "sms", False, None, "deny", "CN.sms_consent"),
        ("GB", "sms", False, None, "allow", None),
        ("GB", "email", False, None, "allow", None),
    ],
)
def test_consent(
    packs: dict[str, Pack],
    pack: str,
    channel: str,
    autodialed: bool,
    consent: Consent | None,
    outcome: str,
    rule: str | None,
) -> None:
    account = state(pack, consents={} if consent is None else {"phone-1": consent})
    decision = evaluate(request(NOON[pack], channel, autodialed=autodialed), account, ledger(), packs[pack])
    assert decision.outcome == outcome
    if rule is not None:
        assert [reason.rule for reason in decision.reasons] == [rule]


@pytest.mark.parametrize(
    ("consent", "outcome", "rules"),
    [
        # 47 CFR 64.1200(a)(3): a prerecorded voice to a residential line needs prior express consent.
        (Consent(line_type="residential"), "deny", ["US.prerecorded_residential"]),
        (Consent(line_type="residential", autodialer=True), "allow", []),
        # ... and to a mobile the TCPA rule asks the same.
        (Consent(line_type="mobile", is_mobile=True), "deny", ["US.tcpa_prior_express_consent"]),
        (Consent(line_type="mobile", is_mobile=True, autodialer=True), "allow", []),
        # A business line is outside both.
        (Consent(line_type="work"), "allow", []),
        (None, "deny", ["US.tcpa_prior_express_consent", "US.prerecorded_residential"]),
    ],
)
def test_prerecorded_calls(
    packs: dict[str, Pack], consent: Consent | None, outcome: str, rules: list[str]
) -> None:
    account = state("US", consents={} if consent is None else {"phone-1": consent})
    decision = evaluate(request(NOON["US"], "voice_call", prerecorded=True), account, ledger(), packs["US"])
    assert (decision.outcome, [reason.rule for reason in decision.reasons]) == (outcome, rules)


# --- third parties ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pack", "fields", "account_fields", "outcome", "fragment"),
    [
        ("US", {"purpose": "location"}, {}, "allow", None),
        ("US", {"purpose": "location", "channel": "letter"}, {}, "allow", None),
        ("US", {"purpose": "collection"}, {}, "deny", "only for: location"),
        (
            "US",
            {"purpose": "location"},
            {"contacted_third_parties": {"tp-1"}},
            "deny",
            "already contacted once",
        ),
        ("US", {"purpose": "location"}, {"refused_third_parties": {"tp-1"}}, "deny", "never contacted again"),
        ("US", {"purpose": "location", "third_party_id": None}, {}, "deny", "third_party_id"),
        ("US", {"purpose": "location", "channel": "push"}, {}, "deny", "no push to a third party"),
        ("CN", {"purpose": "location"}, {"unreachable": True}, "allow", None),
        (
            "CN",
            {"purpose": "location"},
            {"unreachable": True, "contacted_third_parties": {"tp-1"}},
            "allow",
            None,
        ),
        ("CN", {"purpose": "location"}, {}, "deny", "cannot be reached"),
        ("CN", {"purpose": "collection"}, {"unreachable": True}, "deny", "only for: location"),
        (
            "CN",
            {"purpose": "location"},
            {"unreachable": True, "refused_third_parties": {"tp-1"}},
            "deny",
            "never contacted again",
        ),
        ("GB", {"purpose": "location"}, {}, "deny", "no purpose at all"),
        ("GB", {"purpose": "collection"}, {}, "deny", "no purpose at all"),
    ],
)
def test_third_parties(
    packs: dict[str, Pack],
    pack: str,
    fields: dict[str, Any],
    account_fields: dict[str, Any],
    outcome: str,
    fragment: str | None,
) -> None:
    values: dict[str, Any] = {"recipient": "third_party", "third_party_id": "tp-1", "contact_point_id": None}
    values.update(fields)
    channel = values.pop("channel", "voice_call")
    fields_of_account = dict(account_fields)
    history = unreachable_history(NOON[pack]) if fields_of_account.pop("unreachable", False) else []
    account = state(pack, consents={"phone-1": Consent(kind="phone")}, **fields_of_account)
    decision = evaluate(request(NOON[pack], channel, **values), account, ledger(*history), packs[pack])
    assert decision.outcome == outcome
    if fragment is not None:
        assert any(fragment in reason.message for reason in decision.reasons), decision.reasons


def unreachable_history(at: datetime) -> list[Attempt]:
    """Three unanswered calls to the borrower's only phone in the last three days."""
    return [attempt(at - timedelta(hours=h), "no_answer") for h in (1, 24, 48)]


REACH = Unreachability(days=3, failed_attempts=3)
GB_NOTICES = {
    "forbearance_offer": NOON["GB"] - timedelta(days=5),
    "visit_notice": NOON["GB"] - timedelta(days=3),
}


@pytest.mark.parametrize(
    ("points", "history", "unreachable"),
    [
        (
            ["phone-1"],
            [("phone-1", 1, "no_answer"), ("phone-1", 30, "busy"), ("phone-1", 71, "failed")],
            True,
        ),
        # Only two failures, or the third one outside the 3 days: still reachable.
        (["phone-1"], [("phone-1", 1, "no_answer"), ("phone-1", 30, "busy")], False),
        (
            ["phone-1"],
            [("phone-1", 1, "no_answer"), ("phone-1", 30, "busy"), ("phone-1", 73, "failed")],
            False,
        ),
        # Anything that reached the debtor in the window, our call or theirs, makes them reachable.
        (
            ["phone-1"],
            [*(("phone-1", h, "no_answer") for h in (1, 2, 3)), ("phone-1", 50, "connected")],
            False,
        ),
        (
            ["phone-1"],
            [*(("phone-1", h, "no_answer") for h in (1, 2, 3)), ("email-1", 10, "delivered")],
            False,
        ),
        # A wrong number or a bounce is dead at once; every other point must fail three times.
        (["phone-1", "email-1"], [("phone-1", 5, "wrong_number"), ("email-1", 6, "bounced")], True),
        (["phone-1", "email-1"], [("phone-1", 5, "wrong_number")], False),
        (
            ["phone-1", "phone-2"],
            [("phone-1", 5, "wrong_number"), *(("phone-2", h, "voicemail") for h in (1, 2, 3))],
            True,
        ),
        # A number that answered wrong number once but was reached later is not dead.
        (["phone-1"], [("phone-1", 100, "wrong_number"), ("phone-1", 90, "connected")], False),
        # Nobody to try at all: unreachable.
        ([], [], True),
    ],
)
def test_when_the_debtor_counts_as_unreachable(
    points: list[str], history: list[tuple[str, int, str]], unreachable: bool
) -> None:
    at = NOON["CN"]
    kinds = {"phone-1": "phone", "phone-2": "phone", "email-1": "email"}
    account = state("CN", consents={p: Consent(kind=kinds[p]) for p in points})  # type: ignore[arg-type]
    attempts = sorted(
        (attempt(at - timedelta(hours=h), outcome, contact_point_id=p) for p, h, outcome in history),
        key=lambda a: a.at,
    )
    assert debtor_unreachable(account, attempts, at, REACH) is unreachable


# --- visits ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pack", "fields", "tenant_allows", "outcome", "fragment"),
    [
        ("CN", VISIT_READY, False, "allow", None),
        ("CN", {**VISIT_READY, "crew_size": 1}, False, "deny", "crew of at least 2"),
        ("CN", {**VISIT_READY, "crew_size": None}, False, "deny", "crew of at least 2"),
        ("CN", {**VISIT_READY, "recording": False}, False, "deny", "recording"),
        ("CN", {**VISIT_READY, "id_shown": None}, False, "deny", "identification"),
        (
            "CN",
            {**VISIT_READY, "recipient": "third_party", "third_party_id": "tp-1", "purpose": "location"},
            False,
            "deny",
            "borrower only",
        ),
        ("US", {}, False, "deny", "off for this tenant"),
        ("US", {}, True, "allow", None),
        ("US-MA", {}, False, "deny", "off for this tenant"),
        ("GB", {"notices": GB_NOTICES}, False, "allow", None),
    ],
)
def test_visits(
    packs: dict[str, Pack],
    pack: str,
    fields: dict[str, Any],
    tenant_allows: bool,
    outcome: str,
    fragment: str | None,
) -> None:
    values = dict(fields)
    account = state(pack[:2], tenant_allows_visits=tenant_allows, notices=values.pop("notices", {}))
    decision = evaluate(request(NOON[pack[:2]], "visit", **values), account, ledger(), packs[pack])
    assert decision.outcome == outcome
    if fragment is not None:
        assert any(fragment in reason.message for reason in decision.reasons), decision.reasons


@pytest.mark.parametrize(
    ("forbearance_days", "notice_hours", "outcome", "rules"),
    [
        (10, 72, "allow", []),
        (None, 72, "deny", ["GB.forbearance_before_escalation"]),
        (91, 72, "deny", ["GB.forbearance_before_escalation"]),
        (10, None, "deny", ["GB.visit_notice"]),
        (10, 31 * 24, "deny", ["GB.visit_notice"]),
        # A notice delivered 47 hours ago: the visit waits until 48 hours have passed.
        (10, 47, "defer", ["GB.visit_notice"]),
        (10, 48, "allow", []),
    ],
)
def test_gb_visits_need_forbearance_first_and_notice_before(
    packs: dict[str, Pack],
    forbearance_days: int | None,
    notice_hours: int | None,
    outcome: str,
    rules: list[str],
) -> None:
    at = NOON["GB"]
    notices = {}
    if forbearance_days is not None:
        notices["forbearance_offer"] = at - timedelta(days=forbearance_days)
    if notice_hours is not None:
        notices["visit_notice"] = at - timedelta(hours=notice_hours)
    decision = evaluate(request(at, "visit"), state("GB", notices=notices), ledger(), packs["GB"])
    assert (decision.outcome, [reason.rule for reason in decision.reasons]) == (outcome, rules)
    if outcome == "defer":
        assert decision.not_before == notices["visit_notice"] + timedelta(hours=48)


def test_cn_visit_at_night_is_deferred_not_allowed(packs: dict[str, Pack]) -> None:
    decision = evaluate(
        request(local(SHANGHAI, 2026, 6, 10, 22, 30), "visit", **VISIT_READY),
        state("CN"),
        ledger(),
        packs["CN"],
    )
    assert (decision.outcome, decision.not_before) == ("defer", local(SHANGHAI, 2026, 6, 11, 8))


# --- validation notice -----------------------------------------------------------------------------

FIRST_CONTACT = local(NEW_YORK, 2026, 6, 1, 10)


@pytest.mark.parametrize(
    ("at", "channel", "purpose", "sent", "outcome"),
    [
        (local(NEW_YORK, 2026, 6, 6, 10), "voice_call", "collection", None, "allow"),
        (local(NEW_YORK, 2026, 6, 6, 10, 1), "voice_call", "collection", None, "deny"),
        (local(NEW_YORK, 2026, 6, 10, 12), "email", "collection", None, "deny"),
        (local(NEW_YORK, 2026, 6, 10, 12), "letter", "validation_notice", None, "allow"),
        (
            local(NEW_YORK, 2026, 6, 10, 12),
            "voice_call",
            "collection",
            local(NEW_YORK, 2026, 6, 3, 9),
            "allow",
        ),
    ],
)
def test_us_validation_notice_within_five_days(
    packs: dict[str, Pack], at: datetime, channel: str, purpose: str, sent: datetime | None, outcome: str
) -> None:
    account = state(
        "US",
        first_contact_at=FIRST_CONTACT,
        validation_notice_sent_at=sent,
        consents={"phone-1": Consent(email=True)},
    )
    decision = evaluate(request(at, channel, purpose=purpose), account, ledger(), packs["US"])
    assert decision.outcome == outcome
    if outcome == "deny":
        assert [reason.rule for reason in decision.reasons] == ["US.validation_notice"]


def test_validation_notice_due_for_the_state_api(packs: dict[str, Pack]) -> None:
    assert validation_notice_due(state("US", first_contact_at=FIRST_CONTACT), packs["US-MA"]) == local(
        NEW_YORK, 2026, 6, 6, 10
    )
    sent = state("US", first_contact_at=FIRST_CONTACT, validation_notice_sent_at=FIRST_CONTACT)
    assert validation_notice_due(sent, packs["US"]) is None
    assert validation_notice_due(state("US"), packs["US"]) is None
    assert validation_notice_due(state("CN", first_contact_at=FIRST_CONTACT), packs["CN"]) is None


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        request(datetime(2026, 6, 10, 12))
    with pytest.raises(ValueError, match="channel"):
        request(NOON["US"], "fax")


@pytest.mark.parametrize(
    ("channel", "outcome"),
    [("letter", "allow"), ("email", "allow"), ("voice_call", "deny"), ("sms", "deny"), ("push", "deny")],
)
def test_a_validation_notice_is_a_letter_or_an_email(
    packs: dict[str, Pack], channel: str, outcome: str
) -> None:
    account = state(
        "US",
        consents={"phone-1": Consent(kind="email", email=True, sms=True, is_mobile=True)},
        first_contact_at=FIRST_CONTACT,
    )
    decision = evaluate(
        request(local(NEW_YORK, 2026, 6, 10, 12), channel, purpose="validation_notice"),
        account,
        ledger(),
        packs["US"],
    )
    assert decision.outcome == outcome
    if outcome == "deny":
        assert "US.validation_notice_media" in [reason.rule for reason in decision.reasons]


@pytest.mark.parametrize(
    ("dispute", "fragment"),
    [
        (
            Dispute(received_at=local(NEW_YORK, 2026, 6, 20, 9), written=True),
            "collection stops until verification",
        ),
        (Dispute(received_at=local(NEW_YORK, 2026, 7, 20, 9), written=True), "house policy"),
        (Dispute(received_at=local(NEW_YORK, 2026, 6, 20, 9), written=False), "house policy"),
    ],
)
def test_the_validation_period_says_why_a_dispute_pauses(
    packs: dict[str, Pack], dispute: Dispute, fragment: str
) -> None:
    account = with_holds(state("US", dispute=dispute, validation_period_ends=date(2026, 7, 10)), "dispute")
    decision = evaluate(request(NOON["US"]), account, ledger(), packs["US"])
    assert decision.outcome == "deny"
    assert fragment in decision.reasons[0].message


@pytest.mark.parametrize(
    ("no_work_contact", "point", "channel", "outcome"),
    [
        (True, Consent(kind="phone", line_type="work"), "voice_call", "deny"),
        (True, Consent(kind="phone", line_type="mobile", is_mobile=True), "voice_call", "allow"),
        (True, Consent(kind="address", place="work"), "visit", "deny"),
        (True, Consent(kind="address", place="home"), "visit", "allow"),
        (True, None, "voice_call", "deny"),
        (False, Consent(kind="phone", line_type="work"), "voice_call", "allow"),
    ],
)
def test_massachusetts_no_contact_at_work_once_asked(
    packs: dict[str, Pack], no_work_contact: bool, point: Consent | None, channel: str, outcome: str
) -> None:
    account = state(
        "US-MA",
        ["America/New_York"],
        consents={} if point is None else {"phone-1": point},
        no_work_contact=no_work_contact,
        tenant_allows_visits=True,
    )
    decision = evaluate(request(NOON["US"], channel), account, ledger(), packs["US-MA"])
    assert decision.outcome == outcome, decision.reasons
    if outcome == "deny":
        assert "US-MA.no_contact_at_work" in [reason.rule for reason in decision.reasons]
