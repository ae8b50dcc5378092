"""One small function per rule kind; a pack rule's `kind` picks its function here."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any, Final

from compliance.domain.rules.base import Context, RuleOutcome
from compliance.domain.rules.consent import check_consent, check_employer_email
from compliance.domain.rules.frequency import check_cooldown, check_frequency_cap
from compliance.domain.rules.holds import check_channel_opt_out, check_hold, check_unrecognised_hold
from compliance.domain.rules.notices import check_purpose_channels, check_requires_notice
from compliance.domain.rules.quiet_hours import check_quiet_hours
from compliance.domain.rules.third_party import check_third_party
from compliance.domain.rules.validation import check_validation_notice
from compliance.domain.rules.visits import check_visit
from compliance.domain.rules.workplace import check_workplace

RuleCheck = Callable[[Any, Context], RuleOutcome]

RULES: Final[Mapping[str, RuleCheck]] = MappingProxyType(
    {
        "quiet_hours": check_quiet_hours,
        "frequency_cap": check_frequency_cap,
        "cooldown_after_outcome": check_cooldown,
        "hold": check_hold,
        "unrecognised_hold": check_unrecognised_hold,
        "channel_opt_out": check_channel_opt_out,
        "consent": check_consent,
        "employer_email": check_employer_email,
        "third_party": check_third_party,
        "visit": check_visit,
        "validation_notice": check_validation_notice,
        "purpose_channels": check_purpose_channels,
        "requires_notice": check_requires_notice,
        "workplace": check_workplace,
    }
)

__all__ = ["RULES", "Context", "RuleCheck", "RuleOutcome"]
