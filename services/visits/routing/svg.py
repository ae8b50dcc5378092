"""A picture of one crew's day plan: the route on a map and the visits on a timeline, as SVG.

So that an ops lead can look at a day instead of reading JSON. Pure: values in, a standalone SVG
document out. Every id and title goes in through ElementTree, which escapes it: a crew id holding
markup comes out as text, never as an element.
"""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from visits.routing.model import PlannedStop, Point, Route, Window

SVG_NS = "http://www.w3.org/2000/svg"
WIDTH = 900
HEADER_H = 64
MAP_H = 600
MAP_PAD = 40
AXIS_H = 28
ROW_H = 24
LABEL_W = 300  # number, visit id and times, left of the bars
MARGIN = 16
ID_CHARS = 16
HOUR = timedelta(hours=1)

STYLE = """
text { font-family: sans-serif; font-size: 12px; fill: #222; }
.title { font-size: 18px; font-weight: bold; }
.panel { fill: #f7f7f5; stroke: #ccc; }
.route { fill: none; stroke: #1f5fa8; stroke-width: 2; stroke-linejoin: round; }
.home { fill: #e67e22; stroke: #222; }
.stop circle { fill: #fff; stroke: #1f5fa8; stroke-width: 2; }
.stop text, .hour { text-anchor: middle; font-size: 10px; }
.number { text-anchor: end; font-weight: bold; }
.stop text { font-size: 11px; font-weight: bold; }
.tick { stroke: #ddd; }
.window { fill: #cfe8cf; }
.visit { fill: #1f5fa8; }
.visit.outside { fill: #c0392b; }
.legend { font-size: 10px; }
.empty { font-size: 16px; fill: #888; text-anchor: middle; }
"""

# Characters XML 1.0 cannot carry at all, even escaped: dropped rather than breaking the document.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def render_plan_svg(
    route: Route,
    *,
    home: Point,
    windows: Mapping[str, Sequence[Window]],
    tz: str,
    day: date,
    title: str = "",
) -> str:
    """A standalone SVG document picturing `route`: a header (title, crew, date, stops, km, travel
    time), a map of home and the numbered stops joined in order, and a timeline with one row per
    stop showing its visit on the bars of its permitted `windows` (by visit id), in local time `tz`.
    """
    zone = ZoneInfo(tz)
    timeline_h = AXIS_H + ROW_H * len(route.stops) + MARGIN if route.stops else 0
    height = HEADER_H + MAP_H + timeline_h
    svg = ET.Element(
        "svg",
        {
            "xmlns": SVG_NS,
            "width": str(WIDTH),
            "height": str(height),
            "viewBox": f"0 0 {WIDTH} {height}",
            "role": "img",
            "aria-label": _clean(f"day plan of crew {route.crew_id} on {day.isoformat()}"),
        },
    )
    _el(svg, "style", text=STYLE)
    _header(svg, route, zone, day, title)
    _map(svg, route, home)
    if route.stops:
        _timeline(svg, route, windows, zone, day, top=HEADER_H + MAP_H)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(svg, encoding="unicode")


def _header(svg: ET.Element, route: Route, zone: ZoneInfo, day: date, title: str) -> None:
    facts = [
        f"crew {route.crew_id}",
        day.isoformat(),
        f"{len(route.stops)} stop{'' if len(route.stops) == 1 else 's'}",
        f"{route.distance_m / 1000:.1f} km",
        f"{_duration(route.travel_s)} driving",
    ]
    if route.leave_at is not None and route.back_at is not None:
        facts.append(f"out {_clock(route.leave_at, zone)}, back {_clock(route.back_at, zone)}")
    _el(svg, "text", {"class": "title", "x": MARGIN, "y": 26}, title or "Day plan")
    _el(svg, "text", {"x": MARGIN, "y": 48}, " · ".join(facts))


def _map(svg: ET.Element, route: Route, home: Point) -> None:
    _el(svg, "rect", {"class": "panel", "x": 0, "y": HEADER_H, "width": WIDTH, "height": MAP_H})
    box = (MAP_PAD, HEADER_H + MAP_PAD, WIDTH - 2 * MAP_PAD, MAP_H - 2 * MAP_PAD)
    (hx, hy), *stops = _project([home, *(stop.location for stop in route.stops)], box)
    if not stops:
        _el(
            svg,
            "text",
            {"class": "empty", "x": WIDTH / 2, "y": HEADER_H + MAP_H / 2 + 40},
            "no stops planned",
        )
    else:
        path = [(hx, hy), *stops, (hx, hy)]
        _el(svg, "polyline", {"class": "route", "points": " ".join(f"{x:.1f},{y:.1f}" for x, y in path)})
    marker = _el(svg, "rect", {"class": "home", "x": hx - 8, "y": hy - 8, "width": 16, "height": 16})
    _el(marker, "title", text="home")
    for number, (stop, (x, y)) in enumerate(zip(route.stops, stops, strict=True), start=1):
        group = _el(svg, "g", {"class": "stop"})
        _el(group, "title", text=f"{number}. visit {stop.visit_id}, account {stop.account_id}")
        _el(group, "circle", {"cx": x, "cy": y, "r": 11})
        _el(group, "text", {"x": x, "y": y + 4}, str(number))


def _project(points: Sequence[Point], box: tuple[float, float, float, float]) -> list[tuple[float, float]]:
    """Equirectangular: x ∝ lon·cos(mean lat), y ∝ −lat, scaled to fit the box and centred in it."""
    left, top, width, height = box
    shrink = math.cos(math.radians(sum(p.lat for p in points) / len(points)))
    xs = [p.lon * shrink for p in points]
    ys = [-p.lat for p in points]
    spans = ((width, max(xs) - min(xs)), (height, max(ys) - min(ys)))
    scale = min((size / span for size, span in spans if span > 0), default=0.0)  # one place: the centre
    x0 = left + width / 2 - scale * (min(xs) + max(xs)) / 2
    y0 = top + height / 2 - scale * (min(ys) + max(ys)) / 2
    return [(x0 + scale * x, y0 + scale * y) for x, y in zip(xs, ys, strict=True)]


@dataclass(frozen=True, slots=True)
class _Axis:
    """The timeline's hour axis: moments from `lo` to `hi` (UTC) laid out from x `left` to `right`."""

    lo: datetime
    hi: datetime
    left: float
    right: float

    def x(self, moment: datetime) -> float:
        share = (min(max(moment, self.lo), self.hi) - self.lo) / (self.hi - self.lo)
        return self.left + share * (self.right - self.left)

    def bar(
        self, parent: ET.Element, css: str, start: datetime, end: datetime, y: float, height: float
    ) -> None:
        """A bar from `start` to `end`, cut at the axis ends; nothing when it lies outside them."""
        if end > self.lo and start < self.hi:
            x1, x2 = self.x(start), self.x(end)
            _el(parent, "rect", {"class": css, "x": x1, "y": y, "width": max(x2 - x1, 2.0), "height": height})


def _timeline(
    svg: ET.Element,
    route: Route,
    windows: Mapping[str, Sequence[Window]],
    zone: ZoneInfo,
    day: date,
    *,
    top: float,
) -> None:
    axis = _Axis(*_axis_span(route, windows, zone, day), left=LABEL_W, right=WIDTH - 2 * MARGIN)
    bottom = top + AXIS_H + ROW_H * len(route.stops)
    _el(svg, "rect", {"class": "panel", "x": 0, "y": top, "width": WIDTH, "height": bottom - top + MARGIN})
    for place, (css, name) in enumerate(
        (("window", "permitted"), ("visit", "visit"), ("visit outside", "outside"))
    ):
        left = MARGIN + 80 * place
        _el(svg, "rect", {"class": css, "x": left, "y": top + 8, "width": 14, "height": 10})
        _el(svg, "text", {"class": "legend", "x": left + 18, "y": top + 17}, name)
    tick = axis.lo
    while tick <= axis.hi:
        x = axis.x(tick)
        _el(svg, "line", {"class": "tick", "x1": x, "y1": top + 18, "x2": x, "y2": bottom})
        _el(svg, "text", {"class": "hour", "x": x, "y": top + 14}, tick.astimezone(zone).strftime("%H"))
        tick += HOUR
    for number, stop in enumerate(route.stops, start=1):
        _row(
            svg,
            axis,
            number,
            stop,
            windows.get(stop.visit_id, ()),
            zone,
            y=top + AXIS_H + ROW_H * (number - 1),
        )


def _row(
    svg: ET.Element,
    axis: _Axis,
    number: int,
    stop: PlannedStop,
    permitted: Sequence[Window],
    zone: ZoneInfo,
    *,
    y: float,
) -> None:
    row = _el(svg, "g", {"class": "row"})
    _el(row, "title", text=f"visit {stop.visit_id}")
    _el(row, "text", {"class": "number", "x": MARGIN + 20, "y": y + 16}, str(number))
    _el(row, "text", {"x": MARGIN + 32, "y": y + 16}, _short(stop.visit_id))
    _el(
        row,
        "text",
        {"x": MARGIN + 180, "y": y + 16},
        f"{_clock(stop.arrive_at, zone)}–{_clock(stop.depart_at, zone)}",
    )
    for window in permitted:
        axis.bar(row, "window", window.start, window.end, y + 4, ROW_H - 8)
    inside = not permitted or any(w.contains(stop.arrive_at, stop.depart_at) for w in permitted)
    axis.bar(row, "visit" if inside else "visit outside", stop.arrive_at, stop.depart_at, y + 8, 8)


def _axis_span(
    route: Route, windows: Mapping[str, Sequence[Window]], zone: ZoneInfo, day: date
) -> tuple[datetime, datetime]:
    """Whole local hours of `day` covering the visits, their windows and the crew's time out (UTC);
    the whole day when none of that falls inside it."""
    day_start = datetime.combine(day, time(), zone).astimezone(UTC)
    day_end = datetime.combine(day + timedelta(days=1), time(), zone).astimezone(UTC)
    moments = [t for t in (route.leave_at, route.back_at) if t is not None]
    for stop in route.stops:
        moments += [stop.arrive_at, stop.depart_at]
        moments += [t for w in windows.get(stop.visit_id, ()) for t in (w.start, w.end)]
    lo, hi = max(day_start, min(moments)), min(day_end, max(moments))
    if lo >= hi:
        return day_start, day_end
    # Local midnight sits on a local whole hour, so whole hours from it are local whole hours.
    start = day_start + (lo - day_start) // HOUR * HOUR
    end = day_start - (day_start - hi) // HOUR * HOUR
    return start, max(end, start + HOUR)


def _el(
    parent: ET.Element, tag: str, attrs: Mapping[str, object] | None = None, text: str | None = None
) -> ET.Element:
    values = {
        name: f"{v:.1f}" if isinstance(v, float) else _clean(str(v)) for name, v in (attrs or {}).items()
    }
    element = ET.SubElement(parent, tag, values)
    if text is not None:
        element.text = _clean(text)
    return element


def _clean(text: str) -> str:
    return _NOT_XML.sub("", text)


def _short(visit_id: str) -> str:
    return visit_id if len(visit_id) <= ID_CHARS else visit_id[: ID_CHARS - 1] + "…"


def _clock(moment: datetime, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).strftime("%H:%M")


def _duration(seconds: int) -> str:
    hours, minutes = divmod(round(seconds / 60), 60)
    return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min"
