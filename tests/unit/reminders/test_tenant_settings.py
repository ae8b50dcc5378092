"""A tenant's settings over the service's defaults: spacing, and where a visit escalation goes."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

from reminders.domain.settings import TenantSettings

DAY = timedelta(days=1)


def test_nothing_saved_is_every_default() -> None:
    settings = TenantSettings.of(None)
    assert settings == TenantSettings()
    assert settings.spacing(DAY) == DAY
    assert settings.escalation("visit") == "visit"


def test_a_saved_row_overrides_only_what_it_names() -> None:
    row = SimpleNamespace(default_strategy="gentle", contact_spacing_s=7_200, visits_enabled=None)
    settings = TenantSettings.of(row)
    assert settings.spacing(DAY) == timedelta(hours=2)
    assert settings.default_strategy == "gentle"
    assert settings.escalation("visit") == "visit"


def test_without_visits_a_visit_escalation_goes_to_review_and_the_rest_stay() -> None:
    settings = TenantSettings(visits_enabled=False)
    assert settings.escalation("visit") == "review"
    assert settings.escalation("review") == "review"
    assert settings.escalation(None) is None
    assert TenantSettings(visits_enabled=True).escalation("visit") == "visit"
