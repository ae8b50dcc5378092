"""Case analysis (成功/失败案例) as arithmetic over counts: cure and promise-kept rates by strategy,
variant and channel, each with its 95% Wilson score interval, and every challenger variant against
its strategy's champion with Newcombe's interval of the difference.

The counts are of one cohort, the accounts placed in a period, followed up to the moment of the
report:

- an account is **cured** when it closed paid or settled (a recall or a write-off is no cure);
- a **promise** counts when one of the cohort's accounts made it; the kept rate is kept / (kept +
  broken), promises still running are shown but not rated;
- a cure is **credited to the channel** of the account's last contact sent before the cure (last
  touch), or to `none` when nothing was sent before it; a channel's cure rate is the cures credited
  to it over the cohort's accounts that were sent anything on it (for `none`: over those sent
  nothing). Contacts are reminder jobs that went out (`call_task`: handed to the agents).
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

Z95: Final = 1.959963984540054
CURED_REASONS: Final = frozenset({"paid", "settled"})
CHAMPION: Final = "champion"
NO_CONTACT: Final = "none"
_DIGITS: Final = 4


def wilson(successes: int, n: int, z: float = Z95) -> tuple[float, float] | None:
    """The Wilson score interval of successes / n (None with no trials): honest for small counts
    and for rates near 0 or 1, where the normal approximation claims more than it knows."""
    if n <= 0:
        return None
    if not 0 <= successes <= n:
        raise ValueError(f"{successes} successes out of {n} trials")
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    # at 0 and at n the bound is exactly 0 or 1; floating point would land a hair inside
    low = 0.0 if successes == 0 else max(0.0, centre - half)
    high = 1.0 if successes == n else min(1.0, centre + half)
    return low, high


@dataclass(frozen=True)
class Difference:
    """p1 - p2 with its 95% interval; significant when the interval leaves out 0."""

    estimate: float
    low: float
    high: float

    @property
    def significant(self) -> bool:
        return self.low > 0 or self.high < 0


def difference(s1: int, n1: int, s2: int, n2: int, z: float = Z95) -> Difference | None:
    """The difference of two independent proportions s1/n1 - s2/n2 with Newcombe's hybrid score
    interval (his method 10, built from the two Wilson intervals); None when either has no trials."""
    first, second = wilson(s1, n1, z), wilson(s2, n2, z)
    if first is None or second is None:
        return None
    p1, p2 = s1 / n1, s2 / n2
    (l1, u1), (l2, u2) = first, second
    d = p1 - p2
    low = d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    high = d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    return Difference(d, max(-1.0, low), min(1.0, high))


# --- the counts the report is made of ------------------------------------------------------------


@dataclass(frozen=True)
class AccountCount:
    """How many of the cohort's accounts on a strategy's variant were cured, escalated, or neither."""

    strategy: str
    variant: str
    cured: bool
    escalated: bool
    accounts: int


@dataclass(frozen=True)
class PromiseCount:
    """How many promises of the cohort's accounts on a variant, made through `source`, are in `state`."""

    strategy: str
    variant: str
    source: str
    state: str
    promises: int


@dataclass(frozen=True)
class ChannelCount:
    """The contacts sent on a channel to the cohort, and to how many of its accounts."""

    channel: str
    contacts: int
    accounts: int


@dataclass(frozen=True)
class Facts:
    """Everything the report counts, as the database gave it."""

    accounts: Sequence[AccountCount] = ()
    promises: Sequence[PromiseCount] = ()
    channels: Sequence[ChannelCount] = ()
    contacted_accounts: int = 0  # accounts sent anything at all
    credited: Mapping[str, int] = field(default_factory=dict)  # channel -> cures credited to it
    variants: Mapping[str, Sequence[str]] = field(default_factory=dict)  # strategy -> its variants, in order


def champion_of(strategy: str, seen: Iterable[str], documented: Sequence[str] | None) -> str | None:
    """The variant a strategy's challengers are measured against: the one called `champion`, else the
    first the strategy document lists; None when neither is known."""
    names = list(documented or ())
    if CHAMPION in names or (not names and CHAMPION in set(seen)):
        return CHAMPION
    return names[0] if names else None


# --- the report -----------------------------------------------------------------------------------


@dataclass
class _Tally:
    accounts: int = 0
    cured: int = 0
    escalated: int = 0
    promises: Counter[str] = field(default_factory=Counter)

    def add_accounts(self, row: AccountCount) -> None:
        self.accounts += row.accounts
        self.cured += row.accounts if row.cured else 0
        self.escalated += row.accounts if row.escalated else 0


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, _DIGITS)


def _interval(bounds: tuple[float, float] | None) -> list[float] | None:
    return None if bounds is None else [round(bounds[0], _DIGITS), round(bounds[1], _DIGITS)]


def rate(successes: int, n: int) -> dict[str, Any]:
    """A rate with its interval, both rounded for reading (None with no trials)."""
    return {"rate": _round(successes / n if n else None), "ci95": _interval(wilson(successes, n))}


def _promises(counts: Counter[str]) -> dict[str, Any]:
    kept, broken = counts["kept"], counts["broken"]
    kept_rate = rate(kept, kept + broken)
    return {
        "made": sum(counts.values()),
        "kept": kept,
        "broken": broken,
        "active": counts["active"],
        "kept_rate": kept_rate["rate"],
        "kept_rate_ci95": kept_rate["ci95"],
    }


def _figures(tally: _Tally) -> dict[str, Any]:
    cure = rate(tally.cured, tally.accounts)
    return {
        "accounts": tally.accounts,
        "cured": tally.cured,
        "escalated": tally.escalated,
        "cure_rate": cure["rate"],
        "cure_rate_ci95": cure["ci95"],
        "promises": _promises(tally.promises),
    }


def _comparison(
    strategy: str, variant: str, champion: str, metric: str, ours: tuple[int, int], theirs: tuple[int, int]
) -> dict[str, Any]:
    found = difference(ours[0], ours[1], theirs[0], theirs[1])
    return {
        "strategy": strategy,
        "variant": variant,
        "champion": champion,
        "metric": metric,
        "variant_rate": _round(ours[0] / ours[1] if ours[1] else None),
        "champion_rate": _round(theirs[0] / theirs[1] if theirs[1] else None),
        "variant_n": ours[1],
        "champion_n": theirs[1],
        "difference": _round(found.estimate if found else None),
        "difference_ci95": _interval((found.low, found.high) if found else None),
        "significant": found.significant if found else None,
    }


def _challengers(
    variants: dict[tuple[str, str], _Tally], documented: Mapping[str, Sequence[str]]
) -> tuple[list[dict[str, Any]], dict[str, str | None]]:
    by_strategy: dict[str, list[str]] = defaultdict(list)
    for strategy, variant in variants:
        by_strategy[strategy].append(variant)
    out: list[dict[str, Any]] = []
    champions: dict[str, str | None] = {}
    for strategy, seen in sorted(by_strategy.items()):
        champion = champion_of(strategy, seen, documented.get(strategy))
        champions[strategy] = champion
        if champion is None or (strategy, champion) not in variants:
            continue
        base = variants[(strategy, champion)]
        for variant in sorted(v for v in seen if v != champion):
            tally = variants[(strategy, variant)]
            out.append(
                _comparison(
                    strategy,
                    variant,
                    champion,
                    "cure_rate",
                    (tally.cured, tally.accounts),
                    (base.cured, base.accounts),
                )
            )
            kept = (tally.promises["kept"], tally.promises["kept"] + tally.promises["broken"])
            base_kept = (base.promises["kept"], base.promises["kept"] + base.promises["broken"])
            out.append(_comparison(strategy, variant, champion, "promise_kept_rate", kept, base_kept))
    return out, champions


def _by_channel(facts: Facts, total: _Tally) -> list[dict[str, Any]]:
    credited = dict(facts.credited)
    counts = [
        (c.channel, c.contacts, c.accounts, credited.pop(c.channel, 0))
        for c in sorted(facts.channels, key=lambda c: c.channel)
    ]
    # what is left in `credited` names channels without contacts: only inconsistent data does that
    counts += [(channel, 0, 0, n) for channel, n in sorted(credited.items())]
    never = max(total.accounts - facts.contacted_accounts, 0)
    counts.append((NO_CONTACT, 0, never, max(total.cured - sum(c[3] for c in counts), 0)))
    rows = []
    for channel, contacts, accounts, cures in counts:
        # inconsistent counts (more cures than accounts) get no rate rather than a wrong one
        cure = rate(cures, accounts if cures <= accounts else 0)
        rows.append(
            {
                "channel": channel,
                "contacts_sent": contacts,
                "accounts": accounts,
                "cures": cures,
                "cure_rate": cure["rate"],
                "cure_rate_ci95": cure["ci95"],
            }
        )
    return rows


def report(facts: Facts) -> dict[str, Any]:
    """The outcomes report of one cohort (see the module's docstring for what each figure counts)."""
    total = _Tally()
    strategies: dict[str, _Tally] = defaultdict(_Tally)
    variants: dict[tuple[str, str], _Tally] = defaultdict(_Tally)
    sources: dict[str, Counter[str]] = defaultdict(Counter)
    for a in facts.accounts:
        for tally in (total, strategies[a.strategy], variants[(a.strategy, a.variant)]):
            tally.add_accounts(a)
    for p in facts.promises:
        for tally in (total, strategies[p.strategy], variants[(p.strategy, p.variant)]):
            tally.promises[p.state] += p.promises
        sources[p.source][p.state] += p.promises
    challengers, champions = _challengers(variants, facts.variants)
    return {
        "totals": _figures(total),
        "by_strategy": [{"strategy": name, **_figures(t)} for name, t in sorted(strategies.items())],
        "by_variant": [
            {"strategy": s, "variant": v, "champion": champions.get(s) == v, **_figures(t)}
            for (s, v), t in sorted(variants.items())
        ],
        "by_channel": _by_channel(facts, total),
        "promises_by_channel": [
            {"channel": source, **_promises(counts)} for source, counts in sorted(sources.items())
        ],
        "challengers": challengers,
    }
