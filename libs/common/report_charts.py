"""The case analysis reports as PNG charts (`collectctl report --png`, matplotlib's Agg canvas): each
rate a bar with its 95% interval as an error bar, each count a bar."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, Final

PNG_NAME: Final = {
    "reminders": "reminders-outcomes.png",
    "compliance": "compliance-decisions.png",
    "visits": "visits.png",
}


def _bars(ax: Any, labels: list[str], rates: list[float | None], cis: list[Any], title: str) -> None:
    """Horizontal bars of rates with their 95% intervals as error bars; a note when there are none."""
    ax.set_title(title, fontsize=10)
    if not labels:
        ax.text(0.5, 0.5, "no data in this period", ha="center", va="center", transform=ax.transAxes)
        ax.set_axis_off()
        return
    values = [(r or 0.0) * 100 for r in rates]
    low = [max(v - (ci[0] * 100 if ci else v), 0) for v, ci in zip(values, cis, strict=True)]
    high = [max((ci[1] * 100 if ci else v) - v, 0) for v, ci in zip(values, cis, strict=True)]
    positions = list(range(len(labels)))
    ax.barh(positions, values, xerr=[low, high], color="#4C72B0", ecolor="#333333", capsize=3)
    ax.set_yticks(positions, labels=labels, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlim(0, 100)
    ax.set_xlabel("% (bars: 95% interval)", fontsize=8)


def _counts(ax: Any, labels: list[str], counts: list[int], title: str) -> None:
    ax.set_title(title, fontsize=10)
    if not labels:
        ax.text(0.5, 0.5, "none in this period", ha="center", va="center", transform=ax.transAxes)
        ax.set_axis_off()
        return
    positions = list(range(len(labels)))
    ax.barh(positions, counts, color="#C44E52")
    ax.set_yticks(positions, labels=labels, fontsize=8)
    ax.invert_yaxis()


def _draw_reminders(fig: Any, r: dict[str, Any]) -> None:
    left, right = fig.subplots(1, 2)
    variants = r["by_variant"]
    _bars(
        left,
        [f"{v['strategy']}/{v['variant']} (n={v['accounts']})" for v in variants],
        [v["cure_rate"] for v in variants],
        [v["cure_rate_ci95"] for v in variants],
        "cure rate by strategy/variant",
    )
    channels = [c for c in r["by_channel"] if c["accounts"]]
    _bars(
        right,
        [f"{c['channel']} (n={c['accounts']})" for c in channels],
        [c["cure_rate"] for c in channels],
        [c["cure_rate_ci95"] for c in channels],
        "cure rate by last channel before the cure",
    )
    fig.suptitle(f"reminders: accounts placed {r['from'][:10]} to {r['to'][:10]}")


def _draw_compliance(fig: Any, r: dict[str, Any]) -> None:
    left, right = fig.subplots(1, 2)
    rules = r.get("rules", [])[:15]
    _counts(
        left,
        [f"{x['outcome']}: {x['rule']}" for x in rules],
        [x["count"] for x in rules],
        "denials and deferrals by rule",
    )
    violations = sorted(r.get("violations", {}).items())
    _counts(right, [k for k, _ in violations], [n for _, n in violations], "violations by kind")
    fig.suptitle(f"compliance: decisions {str(r['start'])[:10]} to {str(r['end'])[:10]}")


def _draw_visits(fig: Any, r: dict[str, Any]) -> None:
    left, right = fig.subplots(1, 2)
    for ax, key, name in ((left, "by_crew", "crew_id"), (right, "by_region", "region")):
        groups = r.get(key, [])
        _bars(
            ax,
            [f"{g[name]} (n={g['visits']})" for g in groups],
            [g["success_rate"] for g in groups],
            [g["success_rate_ci95"] for g in groups],
            f"success at the door {key.replace('_', ' ')}",
        )
    fig.suptitle(f"visits: {r['from']} to {r['to']}")


DRAW: Final[dict[str, Callable[[Any, dict[str, Any]], None]]] = {
    "reminders": _draw_reminders,
    "compliance": _draw_compliance,
    "visits": _draw_visits,
}


def write_png(kind: str, report: dict[str, Any], directory: Path) -> Path:
    """Draw one report as a PNG in `directory` (made if missing) with matplotlib's Agg canvas: no
    display and no global pyplot state."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    directory.mkdir(parents=True, exist_ok=True)
    fig = Figure(figsize=(12, 5), layout="constrained")
    FigureCanvasAgg(fig)
    DRAW[kind](fig, report)
    path = directory / PNG_NAME[kind]
    fig.savefig(path, format="png", dpi=100)
    return path
