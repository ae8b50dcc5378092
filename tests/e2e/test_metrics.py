"""What Prometheus scrapes from each running service, before and after one lender placement: every
metric named by the conventions, the ones operations relies on present, and the counters the
placement should move moved (its request, its publication, its consumption in three services, the
permit reminders asked for and compliance decided)."""

from __future__ import annotations

import secrets

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from common.auth import Role
from common.devstack.layout import SERVICES
from common.testing.stack import Stack
from tests.e2e.intake import builders as b
from tests.support.waiting import eventually
from tests.unit.test_metrics import NOT_BASE_UNITS, REQUIRED, TIME_WORDS

pytestmark = pytest.mark.e2e

READERS = ("compliance", "reminders", "visits")
ONLY_IN = {
    "permit_decisions_total": "compliance",
    "permit_decision_rules_total": "compliance",
    "deliveries_total": "reminders",
    "delivery_receipts_total": "reminders",
}
# intake reads only visits.v1, the others more; every service runs a relay and serves HTTP.
EVERYWHERE = [name for name in REQUIRED if name not in ONLY_IN]

Labels = dict[str, str]
# (service, counter, labels its samples must include): what one placement moves, whatever time of day.
MOVED_BY_A_PLACEMENT: list[tuple[str, str, Labels]] = [
    (
        "intake",
        "http_request_duration_seconds_count",
        {"method": "POST", "route": "/v1/events", "status": "202"},
    ),
    ("intake", "outbox_published_total", {"topic": "intake.v1", "type": "account.placed"}),
    *(
        (s, "events_consumed_total", {"consumer": s, "type": "account.placed", "outcome": "applied"})
        for s in READERS
    ),
    ("reminders", "outbox_published_total", {"topic": "reminders.v1", "type": "permit.requested"}),
    # allow, deny or defer (CN quiet hours at night): a decision either way
    ("compliance", "permit_decisions_total", {}),
]


class Scrape:
    """One scrape of a service: metric types by exposed name and every sample."""

    def __init__(self, text: str) -> None:
        self.types: dict[str, str] = {}
        self.samples: list[tuple[str, Labels, float]] = []
        for family in text_string_to_metric_families(text):
            name = f"{family.name}_total" if family.type == "counter" else family.name
            self.types[name] = family.type
            self.samples += [(s.name, s.labels, s.value) for s in family.samples]

    def total(self, name: str, **labels: str) -> float:
        """The sum of `name`'s samples whose labels include `labels`."""
        return sum(
            value
            for sample, have, value in self.samples
            if sample == name and all(have.get(k) == v for k, v in labels.items())
        )

    def samples_of(self, name: str, **labels: str) -> list[Labels]:
        """The label sets of `name`'s samples that include `labels`."""
        return [
            have
            for sample, have, _ in self.samples
            if sample == name and all(have.get(k) == v for k, v in labels.items())
        ]


async def scrape(client: httpx.AsyncClient, url: str) -> Scrape:
    answer = await client.get(f"{url}/metrics")
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/plain")
    return Scrape(answer.text)


async def scrape_all(client: httpx.AsyncClient, stack: Stack) -> dict[str, Scrape]:
    return {service: await scrape(client, stack.service_urls[service]) for service in SERVICES}


async def test_each_service_exposes_the_metrics_by_the_conventions_and_one_placement_moves_them(
    stack: Stack,
) -> None:
    tenant = f"e2e-metrics-{secrets.token_hex(5)}"
    async with httpx.AsyncClient(timeout=30) as client:
        before = await scrape_all(client, stack)
        for service, found in before.items():
            # `_created` series are the client's creation times of the series beside them
            names = {n for n in found.types if not n.endswith("_created")}
            assert [n for n in names if NOT_BASE_UNITS.search(n)] == [], service
            assert [n for n in names if (found.types[n] == "counter") != n.endswith("_total")] == [], service
            timed = [n for n in names if TIME_WORDS.search(n.removesuffix("_total"))]
            assert [n for n in timed if not n.removesuffix("_total").endswith("_seconds")] == [], service
            wanted = [*EVERYWHERE, *(n for n, s in ONLY_IN.items() if s == service)]
            assert [n for n in wanted if found.types.get(n) != REQUIRED[n][0]] == [], service

        placed = await client.post(
            f"{stack.service_urls['intake']}/v1/events",
            json=b.account_placed(),
            headers=stack.headers(tenant=tenant, role=Role.LENDER),
        )
        assert placed.status_code == 202, placed.text
        after: dict[str, Scrape] = {}
        waiting: list[str] = []

        async def all_moved() -> bool:
            after.update(await scrape_all(client, stack))
            waiting[:] = [
                f"{service} {name} {labels}"
                for service, name, labels in MOVED_BY_A_PLACEMENT
                if after[service].total(name, **labels) <= before[service].total(name, **labels)
            ]
            return not waiting

        try:
            await eventually(all_moved, timeout_s=60, interval_s=1.0)
        except AssertionError:
            pytest.fail(f"not moved within 60 s of the placement: {waiting}")

    for service in SERVICES:
        found = after[service]
        outbox = {"outbox": f"{service}.outbox"}
        # Every relay measures its outbox when it starts and every few seconds after.
        assert found.samples_of("outbox_pending_events", **outbox), service
        assert found.samples_of("outbox_oldest_pending_age_seconds", **outbox), service
        # Each consumer group reports a lag for the partitions it owns once it has fetched from them.
        groups = {labels["group"] for labels in found.samples_of("consumer_lag_records")}
        assert groups and all(g.startswith(f"{service}.") for g in groups), (service, groups)
        # The scrape before was a request too: the histogram has the /metrics route.
        assert found.total("http_request_duration_seconds_count", route="/metrics") >= 1, service
