"""Strategy documents: validation, defaults, variant assignment, due steps and escalation."""

from __future__ import annotations

import copy
from collections import Counter
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from reminders.domain.strategy import (
    MAX_STRATEGY_TEXT_CHARS,
    MAX_TEMPLATE_CHARS,
    Step,
    Strategy,
    StrategyError,
    assign_variant,
    choose_language,
    due_steps,
    escalation_due,
    load_default,
    parse_strategy,
    spaced,
    steps_for,
    text_chars,
)

pytestmark = pytest.mark.unit

SMS = {"dpd": 1, "channel": "sms", "templates": {"en": "Hi {{ amount }}", "zh-CN": "您好 {{ amount }}"}}
EMAIL = {"dpd": 7, "channel": "email", "subject": {"en": "Reminder"}, "templates": {"en": "Please pay."}}
CALL = {"dpd": 10, "channel": "call_task"}


def document(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "jurisdiction": "US",
        "steps": [SMS, EMAIL, CALL],
        "escalation": {
            "dpd": 30,
            "min_amount_minor": 50000,
            "unless": ["active_promise", "active_plan"],
            "to": "visit",
        },
        "variants": [{"name": "champion", "weight": 80}, {"name": "challenger", "weight": 20}],
    }
    return copy.deepcopy({**base, **changes})


def ladder(*dpds: int) -> list[Step]:
    return [Step(dpd=d, channel="call_task") for d in dpds]


class TestValidation:
    def test_the_spec_example_is_valid(self) -> None:
        strategy = parse_strategy(document())
        assert [s.dpd for s in strategy.steps] == [1, 7, 10]
        assert strategy.steps[2].is_message is False

    def test_variants_default_to_a_single_champion(self) -> None:
        strategy = parse_strategy({"jurisdiction": "GB", "steps": [SMS]})
        assert [(v.name, v.weight) for v in strategy.variants] == [("champion", 100)]
        assert strategy.escalation is None

    @pytest.mark.parametrize(
        ("changes", "error"),
        [
            ({"steps": [EMAIL, SMS]}, "sorted by dpd"),
            ({"steps": [SMS, {**CALL, "dpd": 1}]}, "distinct dpds"),
            ({"steps": []}, "at least 1 item"),
            ({"steps": [{**SMS, "channel": "fax"}]}, "Input should be 'sms', 'email', 'push' or 'call_task'"),
            ({"steps": [{**SMS, "dpd": -1}]}, "greater than or equal to 0"),
            ({"steps": [{**SMS, "dpd": "3"}]}, "valid integer"),
            ({"steps": [{"dpd": 1, "channel": "sms"}]}, "a sms step needs templates"),
            ({"steps": [{**SMS, "templates": {}}]}, "a sms step needs templates"),
            ({"steps": [{**SMS, "templates": {"fr": "Bonjour"}}]}, "at least one of en, zh-CN"),
            ({"steps": [{**SMS, "templates": {"en": "  "}}]}, "blank template or subject for en"),
            ({"steps": [{**SMS, "templates": {"English": "x"}}]}, "should match pattern"),
            ({"steps": [{**SMS, "subject": {"en": "s", "zh-CN": "s"}}]}, "an sms step has no subject"),
            ({"steps": [{**EMAIL, "subject": None}]}, "an email step needs a subject"),
            (
                {"steps": [{**EMAIL, "templates": {"en": "x", "zh-CN": "y"}}]},
                "subject languages ['en'] must match template languages ['en', 'zh-CN']",
            ),
            ({"steps": [{**CALL, "templates": {"en": "x"}}]}, "a call_task step has no subject, templates"),
            (
                {"steps": [{**SMS, "fallback": {"channel": "sms", "templates": {"en": "x"}}}]},
                "a fallback must use another channel",
            ),
            (
                {"steps": [{**SMS, "fallback": {"channel": "email", "templates": {"en": "x"}}}]},
                "an email step needs a subject",
            ),
            ({"steps": [{**SMS, "wait": 3}]}, "Extra inputs are not permitted"),
            ({"jurisdiction": "FR"}, "should match pattern"),
            ({"jurisdiction": "us"}, "should match pattern"),
            ({"variants": [{"name": "champion", "weight": 90}]}, "must sum to 100, got 90"),
            (
                {"variants": [{"name": "a", "weight": 100}, {"name": "b", "weight": 0}]},
                "greater than or equal to 1",
            ),
            (
                {"variants": [{"name": "a", "weight": 50}, {"name": "a", "weight": 50}]},
                "names must be distinct",
            ),
            ({"variants": []}, "at least 1 item"),
            ({"variants": [{"name": "Champion!", "weight": 100}]}, "should match pattern"),
            (
                {
                    "variants": [
                        {"name": "a", "weight": 50},
                        {"name": "b", "weight": 50, "steps": [EMAIL, SMS]},
                    ]
                },
                "sorted by dpd",
            ),
            (
                {
                    "variants": [
                        {"name": "a", "weight": 50},
                        {"name": "b", "weight": 50, "steps": [{"dpd": 3, "channel": "push"}]},
                    ]
                },
                "a push step needs templates",
            ),
            (
                {"variants": [{"name": "a", "weight": 50}, {"name": "b", "weight": 50, "steps": []}]},
                "at least 1 item",
            ),
            ({"escalation": {"dpd": 30, "to": "court"}}, "Input should be 'visit' or 'review'"),
            (
                {"escalation": {"dpd": 30, "to": "visit", "unless": ["paid"]}},
                "'active_promise' or 'active_plan'",
            ),
            (
                {"escalation": {"dpd": 30, "to": "visit", "min_amount_minor": -1}},
                "greater than or equal to 0",
            ),
        ],
    )
    def test_invalid_documents_are_refused(self, changes: dict[str, Any], error: str) -> None:
        with pytest.raises(ValidationError) as refused:
            parse_strategy(document(**changes))
        assert error in str(refused.value)

    def test_errors_point_at_the_field(self) -> None:
        with pytest.raises(ValidationError) as refused:
            parse_strategy(document(steps=[SMS, {**EMAIL, "subject": None}]))
        [error] = refused.value.errors()
        assert error["loc"][:2] == ("steps", 1)

    def test_a_template_holds_at_most_ten_thousand_characters(self) -> None:
        longest = {**SMS, "templates": {"en": "x" * MAX_TEMPLATE_CHARS}}
        too_long = {**SMS, "templates": {"en": "x" * (MAX_TEMPLATE_CHARS + 1)}}

        parse_strategy(document(steps=[longest]))
        with pytest.raises(
            ValidationError, match=r"steps.0.templates.en\n  Value should have at most 10000 "
        ):
            parse_strategy(document(steps=[too_long]))

    def test_text_chars_counts_every_template_and_subject_of_steps_fallbacks_and_variants(self) -> None:
        with_fallback = {
            **SMS,
            "fallback": {"channel": "email", "subject": {"en": "S"}, "templates": {"en": "F"}},
        }
        challenger = {
            "name": "challenger",
            "weight": 20,
            "steps": [{**SMS, "templates": {"en": "0123456789"}}],
        }
        strategy = parse_strategy(
            document(steps=[with_fallback, EMAIL], variants=[{"name": "champion", "weight": 80}, challenger])
        )

        sms = len("Hi {{ amount }}") + len("您好 {{ amount }}")
        assert text_chars(strategy) == sms + 1 + 1 + len("Reminder") + len("Please pay.") + 10
        assert text_chars(load_default("CN")) < MAX_STRATEGY_TEXT_CHARS / 20

    def test_a_valid_challenger_override(self) -> None:
        challenger_steps = [
            {**SMS, "dpd": 0},
            {"dpd": 3, "channel": "push", "templates": {"zh-CN": "新消息"}},
        ]
        strategy = parse_strategy(
            document(
                variants=[
                    {"name": "champion", "weight": 50},
                    {"name": "challenger", "weight": 50, "steps": challenger_steps},
                ]
            )
        )
        assert steps_for(strategy, strategy.variant("champion")) == strategy.steps
        assert [s.dpd for s in steps_for(strategy, strategy.variant("challenger"))] == [0, 3]
        with pytest.raises(StrategyError):
            strategy.variant("nobody")


class TestDefaults:
    @pytest.mark.parametrize(
        ("jurisdiction", "expected"),
        [("CN", "CN"), ("GB", "GB"), ("US", "US"), ("US-CA", "US"), ("us-ma", "US")],
    )
    def test_load_default(self, jurisdiction: str, expected: str) -> None:
        assert load_default(jurisdiction).jurisdiction == expected

    @pytest.mark.parametrize("jurisdiction", ["FR", "", "CA-ON"])
    def test_no_default_for_other_jurisdictions(self, jurisdiction: str) -> None:
        with pytest.raises(StrategyError, match="no default strategy"):
            load_default(jurisdiction)

    def test_defaults_are_frozen(self) -> None:
        with pytest.raises(ValidationError):
            load_default("CN").jurisdiction = "GB"  # type: ignore[misc]


class TestVariants:
    def test_assignment_is_deterministic_and_pinned(self) -> None:
        # Pinned so a change of hash silently reshuffling live experiments fails here.
        strategy = parse_strategy(document())
        assigned = {
            account: assign_variant(strategy, account).name
            for account in ("acc-1", "acc-2", "acc-3", "acc-4", "acc-5")
        }
        assert assigned == {account: assign_variant(strategy, account).name for account in assigned}
        assert assigned == PINNED

    @pytest.mark.parametrize(
        "weights",
        [(80, 20), (50, 30, 20), (1, 99), (34, 33, 33)],
    )
    def test_shares_follow_the_weights_over_10000_accounts(self, weights: tuple[int, ...]) -> None:
        variants = [{"name": f"v{i}", "weight": w} for i, w in enumerate(weights)]
        strategy = parse_strategy(document(variants=variants))
        counts = Counter(
            assign_variant(strategy, f"00000000-0000-4000-8000-{n:012d}").name for n in range(10_000)
        )
        for i, weight in enumerate(weights):
            assert abs(counts[f"v{i}"] / 10_000 - weight / 100) < 0.02

    def test_a_single_variant_takes_everyone(self) -> None:
        strategy = load_default("GB")
        assert {assign_variant(strategy, str(n)).name for n in range(200)} == {"champion"}


# Buckets (sha256 of "reminders.variant:<id>", first 8 bytes, mod 100): 61, 77, 18, 94, 76; champion is 0-79.
PINNED = {
    "acc-1": "champion",
    "acc-2": "champion",
    "acc-3": "champion",
    "acc-4": "challenger",
    "acc-5": "champion",
}


class TestDueSteps:
    CN = (0, 3, 7, 10, 15, 21, 30, 45, 60)

    @pytest.mark.parametrize(
        ("dpd", "done", "expected"),
        [
            (0, set(), [0]),
            (0, {0}, []),
            (2, {0}, []),
            (3, {0}, [3]),
            (4, {0}, [3]),
            (4, {0, 3}, []),
            (12, {0, 3}, [10]),  # 7 was missed: superseded by 10
            (12, {0, 3, 10}, []),
            (45, set(), [0, 45]),  # placed at DPD 45: first reminder plus the latest rung only
            (50, set(), [0, 45]),
            (50, {0}, [45]),
            (50, {45}, [0]),
            (50, {0, 45}, []),
            (1000, set(), [0, 60]),
        ],
    )
    def test_cn_ladder(self, dpd: int, done: set[int], expected: list[int]) -> None:
        assert [s.dpd for s in due_steps(ladder(*self.CN), dpd=dpd, done=done)] == expected

    def test_nothing_before_the_first_step(self) -> None:
        assert due_steps(ladder(1, 7), dpd=0, done=set()) == []

    def test_a_single_step_is_not_returned_twice(self) -> None:
        assert [s.dpd for s in due_steps(ladder(0), dpd=30, done=set())] == [0]

    def test_no_steps(self) -> None:
        assert due_steps([], dpd=30, done=set()) == []

    def test_unsorted_input_is_read_in_dpd_order(self) -> None:
        assert [s.dpd for s in due_steps(ladder(30, 0, 7), dpd=10, done=set())] == [0, 7]

    @given(
        dpds=st.sets(st.integers(min_value=0, max_value=120), max_size=12),
        dpd=st.integers(min_value=0, max_value=200),
        done_share=st.sets(st.integers(min_value=0, max_value=120)),
    )
    def test_properties(self, dpds: set[int], dpd: int, done_share: set[int]) -> None:
        steps = ladder(*sorted(dpds))
        due = due_steps(steps, dpd=dpd, done=done_share)
        assert len(due) <= 2
        assert [s.dpd for s in due] == sorted({s.dpd for s in due})
        assert all(s.dpd <= dpd and s.dpd not in done_share for s in due)
        reached = [s.dpd for s in steps if s.dpd <= dpd]
        assert {s.dpd for s in due} <= {reached[0], reached[-1]} if reached else due == []
        # Running what is due leaves nothing due at the same DPD.
        assert due_steps(steps, dpd=dpd, done=done_share | {s.dpd for s in due}) == []


class TestEscalation:
    @pytest.mark.parametrize(
        ("dpd", "amount", "promise", "plan", "expected"),
        [
            (29, 50000, False, False, None),
            (30, 50000, False, False, "visit"),
            (90, 10**9, False, False, "visit"),
            (30, 49999, False, False, None),
            (30, 50000, True, False, None),
            (30, 50000, False, True, None),
            (30, 50000, True, True, None),
        ],
    )
    def test_cn_default(self, dpd: int, amount: int, promise: bool, plan: bool, expected: str | None) -> None:
        strategy = load_default("CN")
        assert (
            escalation_due(strategy, dpd=dpd, amount_minor=amount, active_promise=promise, active_plan=plan)
            == expected
        )

    def test_conditions_not_listed_do_not_block(self) -> None:
        strategy = parse_strategy(document(escalation={"dpd": 30, "unless": ["active_plan"], "to": "review"}))
        assert (
            escalation_due(strategy, dpd=30, amount_minor=0, active_promise=True, active_plan=False)
            == "review"
        )
        assert (
            escalation_due(strategy, dpd=30, amount_minor=0, active_promise=False, active_plan=True) is None
        )

    def test_unless_defaults_to_both_conditions(self) -> None:
        strategy = parse_strategy(document(escalation={"dpd": 30, "to": "visit"}))
        assert (
            escalation_due(strategy, dpd=30, amount_minor=0, active_promise=True, active_plan=False) is None
        )

    def test_no_rule_never_escalates(self) -> None:
        strategy = parse_strategy(document(escalation=None))
        assert (
            escalation_due(strategy, dpd=3650, amount_minor=10**9, active_promise=False, active_plan=False)
            is None
        )

    @pytest.mark.parametrize("jurisdiction", ["US", "US-MA", "GB"])
    def test_us_and_gb_defaults_go_to_review_not_visit(self, jurisdiction: str) -> None:
        strategy = load_default(jurisdiction)
        assert (
            escalation_due(strategy, dpd=365, amount_minor=10**7, active_promise=False, active_plan=False)
            == "review"
        )


class TestLanguage:
    @pytest.mark.parametrize(
        ("available", "preferred", "expected"),
        [
            (["en", "zh-CN"], "zh-CN", "zh-CN"),
            (["en", "zh-CN"], "zh", "zh-CN"),
            (["en", "zh-CN"], "zh-TW", "zh-CN"),
            (["en", "zh-CN"], "en-GB", "en"),
            (["en", "zh-CN"], "fr", "en"),
            (["en", "zh-CN"], None, "en"),
            (["zh-CN", "es"], "fr", "zh-CN"),
        ],
    )
    def test_choose_language(self, available: list[str], preferred: str | None, expected: str) -> None:
        assert choose_language(available, preferred) == expected

    def test_step_language(self) -> None:
        step = Strategy.model_validate(document()).steps[0]
        assert step.language_for("zh-Hans") == "zh-CN"


class TestSpacing:
    START = datetime(2026, 6, 10, 9, tzinfo=UTC)

    def test_due_messages_go_a_day_apart(self) -> None:
        steps = [Step(**SMS), Step(**EMAIL)]
        planned = spaced(steps, start=self.START, spacing=timedelta(days=1))
        assert [(s.dpd, at) for s, at in planned] == [(1, self.START), (7, self.START + timedelta(days=1))]

    def test_a_call_task_is_not_spaced_and_does_not_push_the_next_message(self) -> None:
        steps = [Step(**CALL), Step(**SMS), Step(**{**EMAIL, "dpd": 12})]
        planned = spaced(steps, start=self.START, spacing=timedelta(hours=24))
        assert [at for _, at in planned] == [self.START, self.START, self.START + timedelta(hours=24)]

    @given(count=st.integers(min_value=0, max_value=6), hours=st.integers(min_value=1, max_value=72))
    def test_no_two_messages_closer_than_the_spacing(self, count: int, hours: int) -> None:
        steps = [Step(**{**SMS, "dpd": d}) for d in range(count)]
        times = [at for _, at in spaced(steps, start=self.START, spacing=timedelta(hours=hours))]
        assert all(b - a == timedelta(hours=hours) for a, b in pairwise(times))


OFFER = {**SMS, "dpd": 20, "purpose": "forbearance_offer"}


class TestForbearance:
    def gb(self, steps: list[dict[str, Any]], to: str = "visit") -> dict[str, Any]:
        return document(
            jurisdiction="GB",
            steps=steps,
            escalation={"dpd": 30, "to": to},
            variants=[{"name": "champion", "weight": 100}],
        )

    def test_a_gb_visit_needs_a_forbearance_offer_before_it(self) -> None:
        with pytest.raises(ValidationError, match=r"CONC 7\.3\.4R"):
            parse_strategy(self.gb([SMS, EMAIL]))
        with pytest.raises(ValidationError, match="forbearance_offer message before DPD 30"):
            parse_strategy(self.gb([SMS, {**OFFER, "dpd": 31}]))
        assert parse_strategy(self.gb([SMS, OFFER])).steps[1].purpose == "forbearance_offer"

    def test_a_call_task_is_no_offer_and_review_needs_none(self) -> None:
        with pytest.raises(ValidationError, match="forbearance"):
            parse_strategy(self.gb([SMS, {**CALL, "dpd": 20}]))
        parse_strategy(self.gb([SMS, EMAIL], to="review"))
        parse_strategy(document())  # a US strategy escalating to a visit

    def test_every_variant_must_offer_it(self) -> None:
        doc = self.gb([SMS, OFFER])
        doc["variants"] = [{"name": "champion", "weight": 50}, {"name": "lean", "weight": 50, "steps": [SMS]}]
        with pytest.raises(ValidationError, match="variant 'lean'"):
            parse_strategy(doc)

    def test_the_gb_default_offers_a_plan(self) -> None:
        assert any(step.purpose == "forbearance_offer" for step in load_default("GB").steps)
