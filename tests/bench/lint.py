"""Template lint against its labelled corpus, in process (no stack): precision and recall per category,
overall, for the development and held-out files apart, and the time per template.

A template counts once per category: a true positive when a finding of that category is expected
and raised, a false positive when raised but not expected, a false negative when expected but not
raised. Overall figures add the counts of every category (micro average). The corpus is
tests/corpus/lint/ (corpus.jsonl, heldout.jsonl); docs/lint.md says how it was written.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from compliance.domain.lint import ALL_CATEGORIES, lint_template

CORPUS = Path(__file__).resolve().parents[1] / "corpus" / "lint"
FILES = {"development": CORPUS / "corpus.jsonl", "held-out": CORPUS / "heldout.jsonl"}
# Each held-out round was written after the rules of its day and first scored with them unchanged;
# its misses then drove the next round of rule changes, so today's figures on it are no longer
# out-of-sample. The first-contact counts (overall tp, fp, fn) are the honest generalisation figures.
ROUNDS = {"held-out round 1": "heldout1-", "held-out round 2": "heldout2-"}
FIRST_CONTACT = {"held-out round 1": (23, 4, 46), "held-out round 2": (31, 5, 39)}


def load(path: Path) -> list[dict[str, Any]]:
    """One template per non-empty line of a JSONL file."""
    with path.open(encoding="utf-8") as lines:
        return [json.loads(line) for line in lines if line.strip()]


def raised(template: dict[str, Any]) -> set[str]:
    """The categories the lint finds in one corpus template."""
    result = lint_template(
        jurisdiction=template["jurisdiction"],
        channel=template["channel"],
        language=template["language"],
        body=template["body"],
    )
    return {f.category for f in result.findings}


@dataclass
class Tally:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0


@dataclass
class Score:
    templates: int = 0
    by_category: dict[str, Tally] = field(default_factory=lambda: {c: Tally() for c in ALL_CATEGORIES})
    misses: list[tuple[str, list[str], list[str]]] = field(default_factory=list)

    @property
    def overall(self) -> Tally:
        return Tally(
            tp=sum(t.tp for t in self.by_category.values()),
            fp=sum(t.fp for t in self.by_category.values()),
            fn=sum(t.fn for t in self.by_category.values()),
        )


def score(templates: Iterable[dict[str, Any]]) -> Score:
    """Count, per category, what the lint raised against what each template expects."""
    result = Score()
    for template in templates:
        result.templates += 1
        expected, got = set(template["expected"]), raised(template)
        for category, tally in result.by_category.items():
            tally.tp += category in expected and category in got
            tally.fp += category in got and category not in expected
            tally.fn += category in expected and category not in got
        if expected != got:
            result.misses.append((template["id"], sorted(expected), sorted(got)))
    return result


def timing(templates: list[dict[str, Any]], *, rounds: int = 5) -> tuple[float, float]:
    """Mean and p99 microseconds per template over ``rounds`` passes of the corpus."""
    samples = []
    for _ in range(rounds):
        for template in templates:
            started = time.perf_counter()
            raised(template)
            samples.append((time.perf_counter() - started) * 1e6)
    samples.sort()
    return sum(samples) / len(samples), samples[min(len(samples) - 1, int(len(samples) * 0.99))]


def _row(name: str, category: str, tally: Tally, templates: int) -> dict[str, Any]:
    return {
        "set": name,
        "category": category,
        "templates": templates,
        "tp": tally.tp,
        "fp": tally.fp,
        "fn": tally.fn,
        "precision": round(tally.precision, 3),
        "recall": round(tally.recall, 3),
        "mean_us": "",
        "p99_us": "",
    }


def run() -> list[dict[str, Any]]:
    """Rows: every category over the whole corpus, overall per file and per held-out round (today and
    at first contact), per category on the held-out file, then the time per template."""
    sets = {name: load(path) for name, path in FILES.items()}
    every = [t for templates in sets.values() for t in templates]
    whole = score(every)
    rows = [_row("all", c, t, whole.templates) for c, t in whole.by_category.items()]
    rows.append(_row("all", "overall", whole.overall, whole.templates))
    held_out = score(sets["held-out"])
    rows += [_row("held-out", c, t, held_out.templates) for c, t in held_out.by_category.items()]
    rows.append(_row("held-out", "overall", held_out.overall, held_out.templates))
    rows.append(_row("development", "overall", score(sets["development"]).overall, len(sets["development"])))
    for name, prefix in ROUNDS.items():
        templates = [t for t in sets["held-out"] if t["id"].startswith(prefix)]
        rows.append(_row(name, "overall today", score(templates).overall, len(templates)))
        tp, fp, fn = FIRST_CONTACT[name]
        rows.append(_row(name, "overall at first contact (recorded)", Tally(tp, fp, fn), len(templates)))
    mean, p99 = timing(every)
    blank = {"precision": "", "recall": "", "tp": "", "fp": "", "fn": ""}
    timed = _row("all", "time per template", Tally(), len(every))
    rows.append({**timed, **blank, "mean_us": round(mean, 1), "p99_us": round(p99, 1)})
    for template_id, expected, got in whole.misses:
        print(f"  miss {template_id}: expected {expected}, raised {got}", flush=True)
    return rows
