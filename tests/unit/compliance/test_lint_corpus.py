"""The lint against its labelled corpus: precision and recall per category over the development and
held-out files together, and the corpus's own shape. The time per template (target under 1 ms) is
measured by `make bench` (benchmark "lint"), not here."""

from __future__ import annotations

from collections import Counter
from typing import Any, get_args

import pytest

from compliance.api.schemas import LintRequest
from compliance.domain.lint import ALL_CATEGORIES
from tests.bench.lint import FILES, Score, load, score

pytestmark = pytest.mark.unit

OVERALL_BAR = 0.95
CATEGORY_BAR = 0.9


@pytest.fixture(scope="module")
def corpus() -> list[dict[str, Any]]:
    return [template for path in FILES.values() for template in load(path)]


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
        assert len(load(FILES["held-out"])) >= 0.25 * len(corpus)

    def test_every_line_is_well_formed(self, corpus: list[dict[str, Any]]) -> None:
        channels = set(get_args(LintRequest.model_fields["channel"].annotation))
        ids = [t["id"] for t in corpus]

        assert len(ids) == len(set(ids))
        for template in corpus:
            assert set(template) == {"id", "language", "jurisdiction", "channel", "body", "expected"}, (
                template
            )
            assert template["channel"] in channels, template["id"]
            assert template["body"].strip(), template["id"]
            assert set(template["expected"]) <= set(ALL_CATEGORIES), template["id"]
            assert template["expected"] == sorted(set(template["expected"])), template["id"]

    @pytest.mark.parametrize("category", ALL_CATEGORIES)
    def test_every_category_has_examples_in_both_files(self, category: str) -> None:
        for path in FILES.values():
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
