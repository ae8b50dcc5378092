"""The lint against its labelled corpus: precision and recall per category over the files the rules were
tuned on (development, held-out rounds 1-3), a floor on the fresh round they were not tuned on, and the
corpus's own shape. The bench ("lint" in `make bench`) prints the same figures and the time per template.

The bar (0.95 overall, 0.9 per category) holds only on text the rules have seen. Held-out round 4, written
after the last rule change and scored once, reached 0.92 precision and 0.66 recall at first contact: it is
held to a floor slightly below that, so a change that makes the lint generalise worse fails here, and a
round that beats the bar can move into FILES and under the bar. See docs/lint.md, "Honest figures"."""

from __future__ import annotations

from collections import Counter
from typing import Any, get_args

import pytest

from compliance.api.schemas import LintRequest
from compliance.domain.lint import ALL_CATEGORIES
from tests.bench.lint import FILES, FRESH, ROUNDS, Score, load, score, timing

pytestmark = pytest.mark.unit

OVERALL_BAR = 0.95
CATEGORY_BAR = 0.9
# Held-out round 4 at first contact: tp 23, fp 2, fn 12 (precision 0.920, recall 0.657).
FRESH_FLOOR = {"held-out round 4": (0.90, 0.62)}
TIME_BAR_US = 1000.0


@pytest.fixture(scope="module")
def corpus() -> list[dict[str, Any]]:
    return [template for path in FILES.values() for template in load(path)]


@pytest.fixture(scope="module")
def fresh() -> dict[str, list[dict[str, Any]]]:
    return {name: load(path) for name, path in FRESH.items()}


@pytest.fixture(scope="module")
def result(corpus: list[dict[str, Any]]) -> Score:
    return score(corpus)


class TestCorpusShape:
    def test_it_is_large_mixed_and_about_half_bad(self, corpus: list[dict[str, Any]]) -> None:
        languages = Counter(t["language"] for t in corpus)
        bad = sum(1 for t in corpus if t["expected"])

        assert len(corpus) >= 300
        assert set(languages) == {"en", "zh-CN"} and min(languages.values()) >= 100
        assert {t["channel"] for t in corpus} == {"sms", "email", "letter", "voice_call"}
        assert {t["jurisdiction"] for t in corpus} == {"US", "US-MA", "GB", "CN"}
        assert 0.4 <= bad / len(corpus) <= 0.6

    def test_a_quarter_or_more_is_held_out(self, corpus: list[dict[str, Any]]) -> None:
        held_out = [t for name, path in FILES.items() if name != "development" for t in load(path)]

        assert len(held_out) >= 0.25 * len(corpus)

    def test_every_line_is_well_formed(
        self, corpus: list[dict[str, Any]], fresh: dict[str, list[dict[str, Any]]]
    ) -> None:
        channels = set(get_args(LintRequest.model_fields["channel"].annotation))
        everything = corpus + [t for templates in fresh.values() for t in templates]
        ids = [t["id"] for t in everything]

        assert len(ids) == len(set(ids))
        for template in everything:
            assert set(template) == {"id", "language", "jurisdiction", "channel", "body", "expected"}, (
                template
            )
            assert template["channel"] in channels, template["id"]
            assert template["body"].strip(), template["id"]
            assert set(template["expected"]) <= set(ALL_CATEGORIES), template["id"]
            assert template["expected"] == sorted(set(template["expected"])), template["id"]

    def test_every_line_belongs_to_a_round_or_the_development_set(self) -> None:
        prefixes = {path: set() for path in [*FILES.values(), *FRESH.values()]}
        for path, prefix in ROUNDS.values():
            prefixes[path].add(prefix)
        prefixes[FILES["development"]].add("dev-")
        for path, allowed in prefixes.items():
            for template in load(path):
                assert template["id"].startswith(tuple(allowed)), (path.name, template["id"])

    @pytest.mark.parametrize("category", ALL_CATEGORIES)
    def test_every_category_has_examples_in_every_file(self, category: str) -> None:
        for path in [*FILES.values(), *FRESH.values()]:
            assert any(category in t["expected"] for t in load(path)), (category, path.name)


class TestFigures:
    def test_overall_precision_and_recall(self, result: Score) -> None:
        overall = result.overall

        assert overall.precision >= OVERALL_BAR, result.misses
        assert overall.recall >= OVERALL_BAR, result.misses

    @pytest.mark.parametrize("category", ALL_CATEGORIES)
    def test_each_category(self, result: Score, category: str) -> None:
        tally = result.by_category[category]
        misses = [m for m in result.misses if category in set(m[1]) ^ set(m[2])]

        assert tally.precision >= CATEGORY_BAR, misses
        assert tally.recall >= CATEGORY_BAR, misses

    @pytest.mark.parametrize("name", sorted(FRESH))
    def test_the_fresh_round_does_not_fall_below_its_first_contact(
        self, fresh: dict[str, list[dict[str, Any]]], name: str
    ) -> None:
        """Not the bar: the round the rules were not tuned on must not get worse than it was."""
        got = score(fresh[name])
        precision, recall = FRESH_FLOOR[name]

        assert got.overall.precision >= precision, got.misses
        assert got.overall.recall >= recall, got.misses

    def test_a_template_takes_under_a_millisecond(self, corpus: list[dict[str, Any]]) -> None:
        mean, _p99 = timing(corpus, rounds=1)

        assert mean < TIME_BAR_US
