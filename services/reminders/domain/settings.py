"""A lender's own settings, and what applies when it saved none: optional data with sensible defaults.

- `default_strategy`: the saved strategy new accounts follow (when it is written for their country);
  unset, the tenant's strategy named `default`, else the jurisdiction's built-in one.
- `contact_spacing_s`: how far apart rungs due at once are sent; unset, the service's setting.
- `visits_enabled`: whether the ladder may escalate an account to a field visit; when it may not, a
  visit escalation goes to human review instead (the account still needs a person). Unset: enabled.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

# Rungs due at once are never closer than an hour, and never held back more than a month.
MIN_SPACING_S = 3_600
MAX_SPACING_S = 30 * 86_400


@dataclass(frozen=True, slots=True)
class TenantSettings:
    default_strategy: str | None = None
    contact_spacing_s: int | None = None
    visits_enabled: bool | None = None

    @classmethod
    def of(cls, row: Any) -> TenantSettings:
        """From a saved row; a tenant without one gets every default."""
        if row is None:
            return cls()
        return cls(
            default_strategy=row.default_strategy,
            contact_spacing_s=row.contact_spacing_s,
            visits_enabled=row.visits_enabled,
        )

    def spacing(self, default: timedelta) -> timedelta:
        return default if self.contact_spacing_s is None else timedelta(seconds=self.contact_spacing_s)

    def escalation(self, target: str | None) -> str | None:
        """Where an escalation goes under these settings."""
        if target == "visit" and self.visits_enabled is False:
            return "review"
        return target
