"""Template lint against its labelled corpus, in process (no stack): precision and recall per category,
overall, for each file and each held-out round, and the time per template.

A template counts once per category: a true positive when a finding of that category is expected
and raised, a false positive when raised but not expected, a false negative when expected but not
raised. Overall figures add the counts of every category (micro average). The corpus is
tests/corpus/lint/; docs/lint.md says how each file was written.
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
# The files the rules have been tuned on: the corpus test holds them to the bar (0.95 / 0.9).
FILES = {
    "development": CORPUS / "corpus.jsonl",
    "held-out": CORPUS / "heldout.jsonl",  # rounds 1 and 2
    "held-out round 3": CORPUS / "heldout2.jsonl",
}
# Rounds scored once and not tuned on: the honest generalisation figure. The corpus test only keeps them
# from falling below the floor recorded there; they are not held to the bar.
FRESH = {"held-out round 4": CORPUS / "heldout3.jsonl"}
# Each held-out round was written after the rules of its day and first scored with them unchanged; the
# misses of rounds 1-3 then drove rule changes, so today's figures on them are no longer out-of-sample.
# The first-contact counts (overall tp, fp, fn) are the honest generalisation figures. Round 3 is counted
# against its audited labels (the ones in the file; docs/lint.md and bench/REPORT.md say what changed).
ROUNDS = {
    "held-out round 1": (FILES["held-out"], "heldout1-"),
    "held-out round 2": (FILES["held-out"], "heldout2-"),
    "held-out round 3": (FILES["held-out round 3"], "round3-"),
    "held-out round 4": (FRESH["held-out round 4"], "round4-"),
}
FIRST_CONTACT = {
    "held-out round 1": (23, 4, 46),
    "held-out round 2": (31, 5, 39),
    "held-out round 3": (61, 8, 46),
    "held-out round 4": (23, 2, 12),
}


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
    """Rows: every category over the tuned files, overall per file; per category on the held-out files
    (tuned) and on the fresh round; each held-out round today and at first contact, by language too for
    the fresh round; then the time per template over everything."""
    sets = {name: load(path) for name, path in FILES.items()}
    fresh = {name: load(path) for name, path in FRESH.items()}
    tuned = [t for templates in sets.values() for t in templates]
    whole = score(tuned)
    rows = [_row("tuned", c, t, whole.templates) for c, t in whole.by_category.items()]
    rows.append(_row("tuned", "overall", whole.overall, whole.templates))
    for name, templates in sets.items():
        rows.append(_row(name, "overall", score(templates).overall, len(templates)))
    held = [t for name, templates in sets.items() if name != "development" for t in templates]
    held_out = score(held)
    rows += [_row("held-out rounds 1-3", c, t, held_out.templates) for c, t in held_out.by_category.items()]
    for name, templates in fresh.items():
        result = score(templates)
        rows += [_row(name, c, t, result.templates) for c, t in result.by_category.items()]
        for language in ("en", "zh-CN"):
            part = [t for t in templates if t["language"] == language]
            rows.append(_row(f"{name}, {language}", "overall", score(part).overall, len(part)))
    by_path = {path: load(path) for path in {path for path, _ in ROUNDS.values()}}
    for name, (path, prefix) in ROUNDS.items():
        templates = [t for t in by_path[path] if t["id"].startswith(prefix)]
        rows.append(_row(name, "overall today", score(templates).overall, len(templates)))
        tp, fp, fn = FIRST_CONTACT[name]
        rows.append(_row(name, "overall at first contact (recorded)", Tally(tp, fp, fn), len(templates)))
    everything = tuned + [t for templates in fresh.values() for t in templates]
    mean, p99 = timing(everything)
    blank = {"precision": "", "recall": "", "tp": "", "fp": "", "fn": ""}
    timed = _row("all files", "time per template", Tally(), len(everything))
    rows.append({**timed, **blank, "mean_us": round(mean, 1), "p99_us": round(p99, 1)})
    for template_id, expected, got in whole.misses:
        print(f"  miss {template_id}: expected {expected}, raised {got}", flush=True)
    return rows
