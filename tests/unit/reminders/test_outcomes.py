"""The case analysis' arithmetic: Wilson intervals and Newcombe's interval of a difference against the
published examples, the champion of a strategy, and the report's grouping of a cohort's counts."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reminders.domain.outcomes import (
    AccountCount,
    ChannelCount,
    Facts,
    PromiseCount,
    champion_of,
    difference,
    report,
    wilson,
)

pytestmark = pytest.mark.unit


# Newcombe (1998), "Interval estimation for the difference between independent proportions",
# Statistics in Medicine 17, Table II, method 10; and his Table I (single proportions, method 3).
@pytest.mark.parametrize(
    ("s", "n", "low", "high"),
    [(81, 263, 0.2553, 0.3662), (15, 148, 0.0624, 0.1605), (0, 20, 0.0, 0.1611), (1, 29, 0.0061, 0.1718)],
)
def test_wilson_matches_the_published_intervals(s: int, n: int, low: float, high: float) -> None:
    found = wilson(s, n)
    assert found is not None
    assert found == pytest.approx((low, high), abs=5e-5)


@pytest.mark.parametrize(
    ("a", "b", "low", "high", "significant"),
    [
        ((56, 70), (48, 80), 0.0524, 0.3339, True),
        ((9, 10), (3, 10), 0.1705, 0.8090, True),
        ((6, 7), (2, 7), 0.0582, 0.8062, True),
        ((5, 56), (0, 29), -0.0381, 0.1926, False),
    ],
)
def test_difference_matches_newcombes_method_10(
    a: tuple[int, int], b: tuple[int, int], low: float, high: float, significant: bool
) -> None:
    found = difference(a[0], a[1], b[0], b[1])
    assert found is not None
    assert (found.low, found.high) == pytest.approx((low, high), abs=5e-5)
    assert found.estimate == pytest.approx(a[0] / a[1] - b[0] / b[1])
    assert found.significant is significant


def test_no_trials_no_interval() -> None:
    assert wilson(0, 0) is None
    assert difference(1, 2, 0, 0) is None
    with pytest.raises(ValueError, match="successes"):
        wilson(3, 2)


@given(st.integers(min_value=1, max_value=10_000).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))))
def test_wilson_holds_the_rate_inside_zero_one(case: tuple[int, int]) -> None:
    s, n = case
    found = wilson(s, n)
    assert found is not None
    low, high = found
    assert 0.0 <= low <= s / n <= high <= 1.0


@pytest.mark.parametrize(
    ("seen", "documented", "champion"),
    [
        (["champion", "shorter"], None, "champion"),
        (["shorter", "champion"], ["champion", "shorter"], "champion"),
        (["a", "b"], ["b", "a"], "b"),  # no variant called champion: the document's first
        (["a", "b"], None, None),  # neither known: no comparison
    ],
)
def test_the_champion_of_a_strategy(
    seen: list[str], documented: list[str] | None, champion: str | None
) -> None:
    assert champion_of("s", seen, documented) == champion


def _cohort() -> Facts:
    """20 accounts on the built-in champion (8 cured), 20 on a saved strategy split 10/10 between its
    champion (2 cured) and a challenger (9 cured), promises on both, contacts on two channels."""
    return Facts(
        accounts=[
            AccountCount("builtin", "champion", True, False, 8),
            AccountCount("builtin", "champion", False, True, 12),
            AccountCount("own", "champion", True, False, 2),
            AccountCount("own", "champion", False, False, 8),
            AccountCount("own", "early_email", True, False, 9),
            AccountCount("own", "early_email", False, False, 1),
        ],
        promises=[
            PromiseCount("builtin", "champion", "call", "kept", 3),
            PromiseCount("builtin", "champion", "call", "broken", 1),
            PromiseCount("own", "early_email", "visit", "active", 2),
            PromiseCount("own", "early_email", "call", "kept", 1),
        ],
        channels=[ChannelCount("sms", 50, 30), ChannelCount("email", 12, 10)],
        contacted_accounts=34,
        credited={"sms": 12, "email": 5},
        variants={"own": ["champion", "early_email"]},
    )


def test_the_report_groups_a_cohort_by_strategy_and_variant() -> None:
    found = report(_cohort())
    totals = found["totals"]
    assert (totals["accounts"], totals["cured"], totals["escalated"]) == (40, 19, 12)
    assert totals["cure_rate"] == 0.475
    low, high = totals["cure_rate_ci95"]
    assert low < 0.475 < high
    assert totals["promises"] == {
        "made": 7,
        "kept": 4,
        "broken": 1,
        "active": 2,
        "kept_rate": 0.8,
        "kept_rate_ci95": [round(b, 4) for b in wilson(4, 5) or ()],
    }
    assert [(s["strategy"], s["accounts"], s["cured"]) for s in found["by_strategy"]] == [
        ("builtin", 20, 8),
        ("own", 20, 11),
    ]
    assert [(v["strategy"], v["variant"], v["champion"], v["cure_rate"]) for v in found["by_variant"]] == [
        ("builtin", "champion", True, 0.4),
        ("own", "champion", True, 0.2),
        ("own", "early_email", False, 0.9),
    ]
    assert [(p["channel"], p["made"], p["kept"], p["active"]) for p in found["promises_by_channel"]] == [
        ("call", 5, 4, 0),
        ("visit", 2, 0, 2),
    ]


def test_cures_go_to_the_last_channel_and_the_rest_to_none() -> None:
    rows = {r["channel"]: r for r in report(_cohort())["by_channel"]}
    assert list(rows) == ["email", "sms", "none"]
    assert (rows["sms"]["contacts_sent"], rows["sms"]["accounts"], rows["sms"]["cures"]) == (50, 30, 12)
    assert rows["sms"]["cure_rate"] == 0.4
    # 40 accounts, 34 sent something: 6 sent nothing, and 19 - 12 - 5 = 2 cures came without a contact
    assert (rows["none"]["accounts"], rows["none"]["cures"], rows["none"]["cure_rate"]) == (6, 2, 0.3333)


def test_each_challenger_against_its_champion() -> None:
    found = {(c["variant"], c["metric"]): c for c in report(_cohort())["challengers"]}
    assert set(found) == {("early_email", "cure_rate"), ("early_email", "promise_kept_rate")}
    cure = found[("early_email", "cure_rate")]
    expected = difference(9, 10, 2, 10)
    assert expected is not None
    assert (cure["champion"], cure["variant_rate"], cure["champion_rate"]) == ("champion", 0.9, 0.2)
    assert cure["difference"] == 0.7
    assert cure["difference_ci95"] == [round(expected.low, 4), round(expected.high, 4)]
    assert cure["significant"] is True
    # the champion of `own` has no settled promise: nothing to compare
    kept = found[("early_email", "promise_kept_rate")]
    assert (kept["difference"], kept["difference_ci95"], kept["significant"]) == (None, None, None)


def test_an_empty_cohort_has_counts_and_no_rates() -> None:
    found = report(Facts())
    assert found["totals"]["accounts"] == 0
    assert found["totals"]["cure_rate"] is None and found["totals"]["cure_rate_ci95"] is None
    assert found["by_channel"] == [
        {
            "channel": "none",
            "contacts_sent": 0,
            "accounts": 0,
            "cures": 0,
            "cure_rate": None,
            "cure_rate_ci95": None,
        }
    ]
    assert found["challengers"] == []
