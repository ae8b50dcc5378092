"""The day-plan picture: valid SVG, stops numbered in route order, local times, inert user input."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime, timedelta

import pytest

from visits.routing.model import PlannedStop, Point, Route, Window
from visits.routing.svg import SVG_NS, render_plan_svg

pytestmark = pytest.mark.unit

NS = {"svg": SVG_NS}
DAY = date(2026, 12, 1)
HOME = Point(22.5431, 114.0579)


def at(hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 12, 1, hour, minute, tzinfo=UTC)


def stop(visit_id: str, lat: float, lon: float, arrive: datetime, service_min: int = 30) -> PlannedStop:
    return PlannedStop(
        visit_id, f"acc-{visit_id}", Point(lat, lon), arrive, arrive + timedelta(minutes=service_min)
    )


def route_of(*stops: PlannedStop, crew_id: str = "crew-7") -> Route:
    leave = stops[0].arrive_at - timedelta(minutes=20) if stops else None
    back = stops[-1].depart_at + timedelta(minutes=20) if stops else None
    return Route(crew_id, stops, distance_m=12_345, travel_s=3_900, leave_at=leave, back_at=back)


THREE = route_of(
    stop("v-1", 22.55, 114.06, at(1, 30)),
    stop("v-2", 22.60, 114.10, at(3)),
    stop("v-3", 22.50, 114.00, at(5)),
)


def render(route: Route, tz: str = "Asia/Shanghai", title: str = "") -> ET.Element:
    windows = {
        s.visit_id: [Window(s.arrive_at - timedelta(hours=1), s.depart_at + timedelta(hours=1))]
        for s in route.stops
    }
    svg = render_plan_svg(route, home=HOME, windows=windows, tz=tz, day=DAY, title=title)
    return ET.fromstring(svg)


def texts(root: ET.Element) -> list[str]:
    return ["".join(t.itertext()) for t in root.iter(f"{{{SVG_NS}}}text")]


def points(root: ET.Element) -> list[tuple[float, float]]:
    line = root.find(".//svg:polyline[@class='route']", NS)
    assert line is not None
    return [(float(x), float(y)) for x, y in (p.split(",") for p in line.attrib["points"].split())]


def home_centre(root: ET.Element) -> tuple[float, float]:
    marker = root.find(".//svg:rect[@class='home']", NS)
    assert marker is not None
    a = marker.attrib
    return float(a["x"]) + float(a["width"]) / 2, float(a["y"]) + float(a["height"]) / 2


def test_output_is_an_svg_document() -> None:
    root = render(THREE, title="Shenzhen north")
    assert root.tag == f"{{{SVG_NS}}}svg"
    header = " ".join(texts(root))
    for fact in ("Shenzhen north", "crew-7", "2026-12-01", "3 stops", "12.3 km", "1 h 05 min"):
        assert fact in header


def test_one_numbered_marker_per_stop_in_route_order() -> None:
    root = render(THREE)
    stops = root.findall(".//svg:g[@class='stop']", NS)
    assert [g.findtext("svg:text", namespaces=NS) for g in stops] == ["1", "2", "3"]
    assert [(g.findtext("svg:title", namespaces=NS) or "").split(",")[0] for g in stops] == [
        "1. visit v-1",
        "2. visit v-2",
        "3. visit v-3",
    ]


def test_polyline_runs_from_home_through_the_stops_in_order_and_back() -> None:
    root = render(THREE)
    path = points(root)
    assert len(path) == len(THREE.stops) + 2
    assert path[0] == path[-1] == pytest.approx(home_centre(root), abs=0.1)
    circles = [
        c for g in root.findall(".//svg:g[@class='stop']", NS) if (c := g.find("svg:circle", NS)) is not None
    ]
    assert path[1:-1] == [
        pytest.approx((float(c.attrib["cx"]), float(c.attrib["cy"])), abs=0.1) for c in circles
    ]


def test_north_is_up_and_east_is_right() -> None:
    _, north_east, _, south_west, _ = points(render(THREE))  # v-2 is north-east of v-3
    assert north_east[0] > south_west[0] and north_east[1] < south_west[1]


@pytest.mark.parametrize(
    ("tz", "shown"),
    [("Asia/Shanghai", "09:30–10:00"), ("UTC", "01:30–02:00"), ("America/New_York", "20:30–21:00")],
)
def test_times_are_shown_in_the_given_zone(tz: str, shown: str) -> None:
    assert shown in texts(render(THREE, tz=tz))


def test_hour_axis_ticks_every_local_hour() -> None:
    hours = [t.text for t in render(THREE).iterfind(".//svg:text[@class='hour']", NS)]
    assert hours == [f"{h:02d}" for h in range(8, 16)]  # windows 08:30-14:30 local


def test_a_visit_outside_its_windows_is_marked() -> None:
    late = route_of(stop("v-1", 22.55, 114.06, at(1, 30)))
    windows = {"v-1": [Window(at(0), at(1))]}
    root = ET.fromstring(render_plan_svg(late, home=HOME, windows=windows, tz="UTC", day=DAY))
    assert root.find(".//svg:rect[@class='visit outside']", NS) is not None


def test_markup_in_user_input_comes_out_as_inert_text() -> None:
    evil = '<script>alert(1)</script>"'
    route = route_of(stop(evil, 22.55, 114.06, at(1, 30)), crew_id=evil)
    svg = render_plan_svg(route, home=HOME, windows={}, tz="UTC", day=DAY, title=evil)
    assert "<script" not in svg
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in svg
    root = ET.fromstring(svg)
    assert not [e for e in root.iter() if e.tag.rsplit("}", 1)[-1] == "script"]
    assert evil in texts(root)  # the title, shown verbatim
    assert evil in root.attrib["aria-label"]  # the quote survived attribute escaping


def test_characters_xml_cannot_carry_are_dropped() -> None:
    route = route_of(stop("v\x00\x1b-1", 22.55, 114.06, at(1, 30)), crew_id="crew\x07")
    root = ET.fromstring(render_plan_svg(route, home=HOME, windows={}, tz="UTC", day=DAY))
    assert "v-1" in texts(root)


def test_empty_route_says_no_stops_planned() -> None:
    root = render(route_of())
    assert "no stops planned" in texts(root)
    assert "0 stops" in " ".join(texts(root))
    assert root.find(".//svg:polyline", NS) is None
    assert root.find(".//svg:rect[@class='home']", NS) is not None


@pytest.mark.parametrize(
    "route",
    [
        route_of(stop("v-1", 22.55, 114.06, at(1, 30))),
        route_of(stop("v-1", HOME.lat, HOME.lon, at(1, 30))),  # at home: every point in one place
        route_of(stop("v-1", HOME.lat, 114.2, at(1)), stop("v-2", HOME.lat, 114.3, at(2))),  # one latitude
    ],
    ids=["single", "one-place", "one-latitude"],
)
def test_degenerate_routes_render(route: Route) -> None:
    root = render(route)
    path = points(root)
    assert len(path) == len(route.stops) + 2
    assert all(0 <= x <= 900 and 0 <= y <= 800 for x, y in path)


def test_a_visit_on_another_day_still_renders_on_the_whole_day_axis() -> None:
    route = route_of(stop("v-1", 22.55, 114.06, at(1) + timedelta(days=3)))
    root = render(route, tz="UTC")
    hours = [t.text for t in root.iterfind(".//svg:text[@class='hour']", NS)]
    assert hours == [f"{h:02d}" for h in range(24)] + ["00"]
    assert root.find(".//svg:g[@class='row']/svg:rect", NS) is None  # no bar pinned to the axis end
