"""Dunning strategies as data: steps by DPD, an escalation rule and champion/challenger variants.

A step is identified by its DPD (steps of one list have distinct DPDs), so "done" is a set of DPDs.
Nothing here performs I/O except `load_default`, which reads the YAML files shipped with the product.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Final, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

from common.fields import Text

DEFAULTS_DIR: Final = Path(__file__).resolve().parent.parent / "templates" / "defaults"
DEFAULT_JURISDICTIONS: Final = ("CN", "GB", "US")
FALLBACK_LANGUAGES: Final = ("en", "zh-CN")
MESSAGE_CHANNELS: Final = frozenset({"sms", "email", "push"})

StepChannel = Literal["sms", "email", "push", "call_task"]
# A forbearance offer (a plan, reduced or deferred payments) is what GB asks for before escalation.
StepPurpose = Literal["collection", "forbearance_offer"]
MessageChannel = Literal["sms", "email", "push"]
Condition = Literal["active_promise", "active_plan"]
CONDITIONS: Final[tuple[Condition, ...]] = ("active_promise", "active_plan")
Language = Annotated[str, StringConstraints(pattern=r"^[a-z]{2,3}(?:-[A-Za-z0-9]{2,8})*$")]
Jurisdiction = Annotated[str, StringConstraints(pattern=r"^(?:CN|GB|US(?:-[A-Z]{2})?)$")]
VariantName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_-]{0,39}$")]
Dpd = Annotated[int, Field(strict=True, ge=0, le=3650)]
MAX_TEMPLATE_CHARS: Final = 10_000
# What a saved strategy's templates and subjects may add up to (`text_chars`): 25 times a default's.
MAX_STRATEGY_TEXT_CHARS: Final = 100_000
# Language tag -> text; a template is Jinja2 source, a subject is an e-mail subject or push title.
Texts = dict[Language, Annotated[Text, StringConstraints(min_length=1, max_length=MAX_TEMPLATE_CHARS)]]

_BLANK: Final = re.compile(r"^\s*$")


class StrategyError(ValueError):
    """A strategy that cannot be used, or a jurisdiction without a default strategy."""


class _Document(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


def _check_message(channel: str, subject: Texts | None, templates: Texts | None) -> None:
    """Raise ValueError unless `templates` (and `subject`) suit a message on `channel`."""
    if not templates:
        raise ValueError(f"a {channel} step needs templates")
    if not set(templates) & set(FALLBACK_LANGUAGES):
        raise ValueError(f"templates need at least one of {', '.join(FALLBACK_LANGUAGES)}")
    blank = sorted(lang for lang, text in {**templates, **(subject or {})}.items() if _BLANK.match(text))
    if blank:
        raise ValueError(f"blank template or subject for {', '.join(blank)}")
    if channel == "sms" and subject:
        raise ValueError("an sms step has no subject")
    if channel == "email" and not subject:
        raise ValueError("an email step needs a subject per language")
    if subject is not None and set(subject) != set(templates):
        raise ValueError(
            f"subject languages {sorted(subject)} must match template languages {sorted(templates)}"
        )


class Fallback(_Document):
    """The message sent instead when the step's channel cannot reach the borrower (no consent, no
    contact point, opted out): e.g. the first reminder by e-mail when SMS is not consented."""

    channel: MessageChannel
    subject: Texts | None = None
    templates: Texts

    @model_validator(mode="after")
    def _message(self) -> Fallback:
        _check_message(self.channel, self.subject, self.templates)
        return self


class Step(_Document):
    """One rung of the ladder: on `dpd`, a message on `channel` (or a call task for an agent)."""

    dpd: Dpd
    channel: StepChannel
    purpose: StepPurpose = "collection"
    subject: Texts | None = None
    templates: Texts | None = None
    fallback: Fallback | None = None

    @property
    def is_message(self) -> bool:
        return self.channel in MESSAGE_CHANNELS

    @model_validator(mode="after")
    def _content(self) -> Step:
        if not self.is_message:
            if self.subject or self.templates or self.fallback:
                raise ValueError("a call_task step has no subject, templates or fallback")
            return self
        _check_message(self.channel, self.subject, self.templates)
        if self.fallback is not None and self.fallback.channel == self.channel:
            raise ValueError("a fallback must use another channel than its step")
        return self

    def language_for(self, preferred: str | None) -> str:
        """The template language to use for a borrower who prefers `preferred` (exact tag, then the
        same primary language, then en, then zh-CN)."""
        available = list(self.templates or {})
        return choose_language(available, preferred)


def choose_language(available: Iterable[str], preferred: str | None) -> str:
    """Pick among `available` tags: `preferred`, else one sharing its primary subtag, else en, zh-CN."""
    tags = list(available)
    if not tags:
        raise ValueError("no languages to choose from")
    if preferred:
        if preferred in tags:
            return preferred
        primary = preferred.split("-", 1)[0].lower()
        for tag in tags:
            if tag.split("-", 1)[0].lower() == primary:
                return tag
    for tag in FALLBACK_LANGUAGES:
        if tag in tags:
            return tag
    return tags[0]


def _check_ladder(steps: list[Step]) -> list[Step]:
    dpds = [s.dpd for s in steps]
    if dpds != sorted(dpds):
        raise ValueError(f"steps must be sorted by dpd, got {dpds}")
    if len(set(dpds)) != len(dpds):
        raise ValueError(f"steps must have distinct dpds, got {dpds}")
    return steps


class Escalation(_Document):
    """From `dpd` on, an account owing at least `min_amount_minor` goes `to` a visit or human review,
    unless one of the `unless` conditions holds."""

    dpd: Dpd
    min_amount_minor: int = Field(default=0, strict=True, ge=0)
    unless: list[Condition] = Field(default_factory=lambda: list(CONDITIONS))
    to: Literal["visit", "review"]


class Variant(_Document):
    """An arm of a champion/challenger test; `steps`, when given, replace the strategy's steps."""

    name: VariantName
    weight: int = Field(strict=True, ge=1, le=100)
    steps: list[Step] | None = Field(default=None, min_length=1, max_length=50)

    @field_validator("steps")
    @classmethod
    def _ladder(cls, steps: list[Step] | None) -> list[Step] | None:
        return None if steps is None else _check_ladder(steps)


def _champion() -> list[Variant]:
    return [Variant(name="champion", weight=100)]


class Strategy(_Document):
    """A dunning strategy document (SPEC section 4, `PUT /v1/strategies/{name}`)."""

    jurisdiction: Jurisdiction
    steps: list[Step] = Field(min_length=1, max_length=50)
    escalation: Escalation | None = None
    variants: list[Variant] = Field(default_factory=_champion, min_length=1, max_length=10)

    @field_validator("steps")
    @classmethod
    def _ladder(cls, steps: list[Step]) -> list[Step]:
        return _check_ladder(steps)

    @model_validator(mode="after")
    def _forbearance_before_visits(self) -> Strategy:
        # FCA CONC 7.3.4R: a GB account is offered forbearance before it escalates to a visit.
        rule = self.escalation
        if self.jurisdiction != "GB" or rule is None or rule.to != "visit":
            return self
        for variant in self.variants:
            steps = steps_for(self, variant)
            if not any(s.purpose == "forbearance_offer" and s.is_message and s.dpd < rule.dpd for s in steps):
                raise ValueError(
                    f"a GB strategy that escalates to a visit needs a forbearance_offer message before "
                    f"DPD {rule.dpd} (FCA CONC 7.3.4R); variant {variant.name!r} has none"
                )
        return self

    @field_validator("variants")
    @classmethod
    def _arms(cls, variants: list[Variant]) -> list[Variant]:
        names = [v.name for v in variants]
        if len(set(names)) != len(names):
            raise ValueError(f"variant names must be distinct, got {names}")
        total = sum(v.weight for v in variants)
        if total != 100:
            raise ValueError(f"variant weights must sum to 100, got {total}")
        return variants

    def variant(self, name: str) -> Variant:
        """The variant called `name`; raises StrategyError when there is none."""
        for variant in self.variants:
            if variant.name == name:
                return variant
        raise StrategyError(f"no variant {name!r}")


def parse_strategy(document: Mapping[str, Any]) -> Strategy:
    """Validate a strategy document; raises pydantic's ValidationError with field-level errors."""
    return Strategy.model_validate(document)


def load_default(jurisdiction: str) -> Strategy:
    """The default strategy shipped for `jurisdiction` (`US-<state>` uses `US`)."""
    country = jurisdiction.strip().upper().split("-", 1)[0]
    if country not in DEFAULT_JURISDICTIONS:
        raise StrategyError(f"no default strategy for jurisdiction {jurisdiction!r}")
    return _load_default(country)


@lru_cache(maxsize=len(DEFAULT_JURISDICTIONS))
def _load_default(country: str) -> Strategy:
    # Shipped, immutable files: read once per process; the model is frozen, so sharing it is safe.
    path = DEFAULTS_DIR / f"{country}.yaml"
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    strategy = parse_strategy(document)
    if strategy.jurisdiction != country:
        raise StrategyError(f"{path.name} declares jurisdiction {strategy.jurisdiction!r}")
    return strategy


def text_chars(strategy: Strategy) -> int:
    """How many characters of templates and subjects `strategy` holds, variants and fallbacks too."""
    steps = [*strategy.steps, *(step for variant in strategy.variants for step in variant.steps or [])]
    carriers = [carrier for step in steps for carrier in (step, step.fallback) if carrier is not None]
    texts = [text for c in carriers for text in [*(c.templates or {}).values(), *(c.subject or {}).values()]]
    return sum(len(text) for text in texts)


def assign_variant(strategy: Strategy, account_id: str) -> Variant:
    """The variant of `account_id`: the same in every process and run, spread by the weights."""
    digest = hashlib.sha256(f"reminders.variant:{account_id}".encode()).digest()
    bucket = int.from_bytes(digest[:8], "big") % 100
    upper = 0
    for variant in strategy.variants:
        upper += variant.weight
        if bucket < upper:
            return variant
    raise AssertionError("variant weights sum to 100")  # pragma: no cover - guarded by validation


def steps_for(strategy: Strategy, variant: Variant) -> list[Step]:
    """The ladder an account on `variant` follows: the variant's own steps, else the strategy's."""
    return list(variant.steps) if variant.steps is not None else list(strategy.steps)


def due_steps(steps: list[Step], *, dpd: int, done: set[int]) -> list[Step]:
    """The steps to run now for an account at `dpd` that has run the steps whose DPDs are in `done`.

    The ladder does not replay: an account placed (or caught up) late gets the first reminder, the
    first step, if it is due and not done, plus the latest step reached (highest DPD <= `dpd`) if
    that one is not done either. Steps between them are superseded and never fire, so a placement
    at DPD 45 sends two messages, not every rung from 0 to 45. Result in DPD order; the planner
    spaces them over days (`spaced`), never one burst.
    """
    reached = sorted((s for s in steps if s.dpd <= dpd), key=lambda s: s.dpd)
    if not reached:
        return []
    picked = {reached[0].dpd: reached[0], reached[-1].dpd: reached[-1]}
    return [step for key, step in sorted(picked.items()) if key not in done]


def spaced(steps: list[Step], *, start: datetime, spacing: timedelta) -> list[tuple[Step, datetime]]:
    """When each due step goes: messages one spacing apart, the first at `start`; a call task needs
    no spacing of its own (compliance's call caps govern calls)."""
    planned: list[tuple[Step, datetime]] = []
    at = start
    for step in steps:
        planned.append((step, at if step.is_message else start))
        if step.is_message:
            at += spacing
    return planned


def escalation_due(
    strategy: Strategy, *, dpd: int, amount_minor: int, active_promise: bool, active_plan: bool
) -> str | None:
    """Where the account escalates to now ("visit" or "review"), or None when it does not."""
    rule = strategy.escalation
    if rule is None or dpd < rule.dpd or amount_minor < rule.min_amount_minor:
        return None
    if active_promise and "active_promise" in rule.unless:
        return None
    if active_plan and "active_plan" in rule.unless:
        return None
    return rule.to
