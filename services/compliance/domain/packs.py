"""Policy packs: versioned YAML files of rules, validated on load, one per jurisdiction.

Every version ever released is kept, as `policies/<pack>/<version>.yaml`, and never edited (the
`SHA256SUMS` beside them lists each file's hash; a test fails when a kept file changes): the newest
version of each pack decides today, the older ones stay loadable so a stored decision replays
against exactly the rules that made it.

A pack may extend another (US-MA extends US): the resolved pack holds the base's rules followed by
its own, and its `version_tag` names every file version it was built from (the base's newest
version for today's packs, the tagged one on replay); `hashes` gives each file's content hash.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Collection, Mapping
from datetime import time, timedelta
from pathlib import Path
from typing import Annotated, Any, Final, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PositiveInt,
    PrivateAttr,
    StrictBool,
    StringConstraints,
    TypeAdapter,
    ValidationError,
    field_validator,
    model_validator,
)

from compliance.domain.model import (
    Channel,
    Direction,
    HoldName,
    LineType,
    Outcome,
    PermitRequest,
    Purpose,
    Recipient,
)

POLICY_DIR: Final = Path(__file__).parent.parent / "policies"
KNOWN_PACKS: Final = ("CN", "GB", "US", "US-MA")

_PACK_NAME = r"[A-Z]{2}(?:-[A-Z]{2})?"
_VERSION = re.compile(r"\d{4}\.\d{1,2}\.\d+")
_HH_MM = re.compile(r"(?:[01][0-9]|2[0-3]):[0-5][0-9]|24:00")

NonBlank = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
PackName = Annotated[str, StringConstraints(pattern=rf"^{_PACK_NAME}$")]


class PackError(ValueError):
    """A pack file that cannot be used; the message names the file and, where it can, the rule."""


def _parse_wall_time(value: object) -> time:
    # Unquoted YAML such as 21:00 arrives as the base-60 integer 1260: insist on a quoted "HH:MM".
    if not isinstance(value, str) or not _HH_MM.fullmatch(value):
        raise ValueError(f"must be a quoted 'HH:MM' wall-clock time, not {value!r}")
    return time.max if value == "24:00" else time(int(value[:2]), int(value[3:]))


WallTime = Annotated[time, BeforeValidator(_parse_wall_time)]


class _Spec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class RequestMatch(_Spec):
    """Which permit requests a rule (or a hold's exemption) covers; an omitted field matches anything."""

    channels: tuple[Channel, ...] | None = None
    recipients: tuple[Recipient, ...] | None = None
    purposes: tuple[Purpose, ...] | None = None
    autodialed: StrictBool | None = None
    prerecorded: StrictBool | None = None

    def matches(self, request: PermitRequest) -> bool:
        return (
            (self.channels is None or request.channel in self.channels)
            and (self.recipients is None or request.recipient in self.recipients)
            and (self.purposes is None or request.purpose in self.purposes)
            and (self.autodialed is None or request.autodialed == self.autodialed)
            and (self.prerecorded is None or request.prerecorded == self.prerecorded)
        )


class RuleSpec(_Spec):
    """What every rule has: an id (`<pack>.<name>`), a one-line summary, its legal source, its scope."""

    id: Annotated[str, StringConstraints(pattern=rf"^{_PACK_NAME}\.[a-z0-9_]+$")]
    summary: NonBlank
    citation: NonBlank
    applies_to: Annotated[tuple[RequestMatch, ...], Field(min_length=1)] = (RequestMatch(),)

    def applies(self, request: PermitRequest) -> bool:
        return any(match.matches(request) for match in self.applies_to)


class QuietHoursRule(RuleSpec):
    kind: Literal["quiet_hours"]
    allowed_from: WallTime
    allowed_until: WallTime
    honour_preferences: StrictBool = True
    borrower_may_agree_other_hours: StrictBool = False


class _Counted(RuleSpec):
    """What a ledger rule counts: attempts on these channels with these outcomes, in these directions,
    for these purposes (a contact of unknown purpose counts as collection), within its scope."""

    scope: Literal["account", "borrower", "contact_point"]
    counted_channels: Annotated[tuple[Channel, ...], Field(min_length=1)]
    counted_outcomes: Annotated[tuple[Outcome, ...], Field(min_length=1)]
    counted_directions: Annotated[tuple[Direction, ...], Field(min_length=1)] = ("outbound",)
    counted_purposes: tuple[Purpose, ...] | None = None


class FrequencyCapRule(_Counted):
    """At most `limit` counted attempts in any window: `days` or `hours` long (rolling, reserved
    permits for later instants included), or the borrower's local calendar day. With `line_types`,
    the cap governs only contacts to phones of those line types, and counts only those."""

    kind: Literal["frequency_cap"]
    limit: PositiveInt
    window: Literal["rolling_days", "rolling_hours", "local_day"]
    days: PositiveInt = 1
    hours: PositiveInt | None = None
    line_types: tuple[LineType, ...] | None = None

    @model_validator(mode="after")
    def _hours_for_hourly_windows(self) -> FrequencyCapRule:
        if (self.window == "rolling_hours") != (self.hours is not None):
            raise ValueError("hours is required with window rolling_hours, and only there")
        return self

    @property
    def span(self) -> timedelta:
        """The length of a rolling window."""
        return timedelta(hours=self.hours) if self.hours is not None else timedelta(days=self.days)


class CooldownRule(_Counted):
    kind: Literal["cooldown_after_outcome"]
    days: PositiveInt  # the day of the triggering outcome is day 1


class HoldRule(RuleSpec):
    kind: Literal["hold"]
    hold: HoldName
    exempt: tuple[RequestMatch, ...] = ()
    route_to: Literal["attorney", "review"] | None = None


class UnrecognisedHoldRule(RuleSpec):
    kind: Literal["unrecognised_hold"]


class ChannelOptOutRule(RuleSpec):
    kind: Literal["channel_opt_out"]


class ConsentRule(RuleSpec):
    """The contact point needs this consent; with `line_types`, only phones of those line types do."""

    kind: Literal["consent"]
    requires: Literal["sms", "autodialer", "email"]
    line_types: tuple[LineType, ...] | None = None
    recheck_days: PositiveInt | None = None


class EmployerEmailRule(RuleSpec):
    kind: Literal["employer_email"]


class Unreachability(_Spec):
    """When the debtor counts as unreachable: nothing reached them in the last `days` days, and every
    known phone and e-mail of theirs either failed `failed_attempts` times in those days or last
    answered wrong number / bounced. A borrower with no phone or e-mail at all is unreachable too."""

    days: PositiveInt
    failed_attempts: PositiveInt


class ThirdPartyRule(RuleSpec):
    kind: Literal["third_party"]
    purposes: tuple[Purpose, ...]  # empty: no third-party contact at all
    channels: tuple[Channel, ...] = ()
    once_per_person: StrictBool = False
    only_when_debtor_unreachable: Unreachability | None = None


class VisitRule(RuleSpec):
    kind: Literal["visit"]
    requires_tenant_opt_in: StrictBool = False
    min_crew: PositiveInt | None = None
    require_recording: StrictBool = False
    require_id_shown: StrictBool = False


class ValidationNoticeRule(RuleSpec):
    kind: Literal["validation_notice"]
    days: PositiveInt


class PurposeChannelsRule(RuleSpec):
    """Contacts for these purposes go only on these channels (a validation notice by letter or e-mail)."""

    kind: Literal["purpose_channels"]
    purposes: Annotated[tuple[Purpose, ...], Field(min_length=1)]
    channels: Annotated[tuple[Channel, ...], Field(min_length=1)]


class RequiresNoticeRule(RuleSpec):
    """Contact needs a delivered notice of purpose `notice` first: at least `min_hours` before it
    (sooner defers) and, with `max_days`, no more than that many days before it (older: send anew)."""

    kind: Literal["requires_notice"]
    notice: Purpose
    min_hours: Annotated[int, Field(ge=0, le=24 * 90)] = 0
    max_days: PositiveInt | None = None


class WorkplaceRule(RuleSpec):
    """Once the borrower asked, no calls or texts to a work line and no visits at a work address."""

    kind: Literal["workplace"]


Rule = Annotated[
    QuietHoursRule
    | FrequencyCapRule
    | CooldownRule
    | HoldRule
    | UnrecognisedHoldRule
    | ChannelOptOutRule
    | ConsentRule
    | EmployerEmailRule
    | ThirdPartyRule
    | VisitRule
    | ValidationNoticeRule
    | PurposeChannelsRule
    | RequiresNoticeRule
    | WorkplaceRule,
    Field(discriminator="kind"),
]
_RULE: Final[TypeAdapter[Rule]] = TypeAdapter(Rule)


class _PackFile(_Spec):
    pack: PackName
    version: Annotated[str, StringConstraints(pattern=rf"^{_VERSION.pattern}$")]
    title: NonBlank
    extends: PackName | None = None
    sources: tuple[NonBlank, ...] = ()
    retention_years: PositiveInt | None = None
    retention_citation: NonBlank | None = None
    default_timezones: tuple[str, ...] | None = None
    rules: list[Any]

    @field_validator("default_timezones")
    @classmethod
    def _known_zones(cls, zones: tuple[str, ...] | None) -> tuple[str, ...] | None:
        for zone in zones or ():
            try:
                ZoneInfo(zone)
            except (ZoneInfoNotFoundError, ValueError) as error:
                raise ValueError(f"unknown time zone {zone!r}") from error
        return zones


class Pack(BaseModel):
    """A resolved pack: its base's rules first, then its own."""

    model_config = ConfigDict(frozen=True)

    name: str
    version: str
    title: str
    sources: tuple[str, ...]
    retention_years: int
    retention_citation: str | None
    default_timezones: tuple[str, ...]
    rules: tuple[Rule, ...]
    content_sha256: str  # of this version's own file, as kept
    base: Pack | None = None
    _applicable: dict[tuple[object, ...], tuple[Rule, ...]] = PrivateAttr(default_factory=dict)

    @property
    def version_tag(self) -> str:
        """E.g. "US-MA@2026.11.1+US@2026.11.1": every pack file this decision depends on."""
        own = f"{self.name}@{self.version}"
        return own if self.base is None else f"{own}+{self.base.version_tag}"

    @property
    def hashes(self) -> dict[str, str]:
        """The content hash of every pack file the version tag names, by "NAME@VERSION"."""
        own = {f"{self.name}@{self.version}": self.content_sha256}
        return own if self.base is None else {**own, **self.base.hashes}

    def rule(self, rule_id: str) -> Rule:
        for rule in self.rules:
            if rule.id == rule_id:
                return rule
        raise KeyError(rule_id)

    def rules_for(self, request: PermitRequest) -> tuple[Rule, ...]:
        """The rules that apply to a request, in pack order (matched once per kind of request)."""
        key = (request.channel, request.recipient, request.purpose, request.autodialed, request.prerecorded)
        found = self._applicable.get(key)
        if found is None:
            found = self._applicable[key] = tuple(rule for rule in self.rules if rule.applies(request))
        return found


def pack_for(jurisdiction: str, available: Collection[str] = KNOWN_PACKS) -> str:
    """The pack governing a jurisdiction: its own overlay if one exists (US-MA), else its country's."""
    code = jurisdiction.strip().upper()
    if re.fullmatch(r"[A-Z]{2}(?:-[A-Z0-9]{1,3})?", code):
        if code in available:
            return code
        country = code.split("-", 1)[0]
        if country in available:
            return country
    raise ValueError(f"no policy pack for jurisdiction {jurisdiction!r}")


def version_key(version: str) -> tuple[int, ...]:
    """Pack versions order as numbers: 2026.12.10 comes after 2026.12.9."""
    return tuple(int(part) for part in version.split("."))


def pack_file(directory: Path, name: str, version: str) -> Path:
    return Path(directory) / name / f"{version}.yaml"


def versions(directory: Path, name: str) -> list[str]:
    """Every version of a pack kept in `directory`, oldest first."""
    found = [path.stem for path in (Path(directory) / name).glob("*.yaml")]
    return sorted((v for v in found if _VERSION.fullmatch(v)), key=version_key)


def parse_tag(tag: str) -> tuple[tuple[str, str], ...]:
    """("US-MA", "2026.12.0"), ("US", "2026.12.0") from "US-MA@2026.12.0+US@2026.12.0"."""
    parts = []
    for part in tag.split("+"):
        name, _, version = part.partition("@")
        if not re.fullmatch(_PACK_NAME, name) or not _VERSION.fullmatch(version):
            raise PackError(f"{tag!r} is not a pack version tag (NAME@YYYY.M.N[+BASE@YYYY.M.N])")
        parts.append((name, version))
    return tuple(parts)


def load_pack(path: Path) -> Pack:
    """Load and validate one pack file (`<directory>/<pack>/<version>.yaml`), resolving `extends`
    to the newest version of the base kept beside it."""
    path = Path(path)
    return _load(path.parent.parent, path.parent.name, path.stem, (), pins={})


def load_all(directory: Path = POLICY_DIR) -> dict[str, Pack]:
    """The current pack of every jurisdiction in `directory`: the newest version of each, resolved
    and validated, by pack name. Older versions stay in the directory for replay."""
    packs = {}
    for folder in sorted(path for path in Path(directory).iterdir() if path.is_dir()):
        kept = versions(directory, folder.name)
        if kept:
            packs[folder.name] = _load(Path(directory), folder.name, kept[-1], (), pins={})
    return packs


def load_tag(directory: Path, tag: str) -> Pack:
    """Exactly the pack versions a decision's `policy` tag names, base versions included."""
    parts = parse_tag(tag)
    pins = dict(parts)
    pack = _load(Path(directory), parts[0][0], parts[0][1], (), pins=pins)
    if pack.version_tag != tag:
        raise PackError(f"{tag}: the kept files resolve to {pack.version_tag}")
    return pack


class PackArchive:
    """Every pack version ever released, loaded on demand and kept: what replay decides against."""

    def __init__(self, directory: Path = POLICY_DIR) -> None:
        self.directory = Path(directory)
        self._packs: dict[str, Pack] = {}

    def by_tag(self, tag: str) -> Pack:
        pack = self._packs.get(tag)
        if pack is None:
            pack = self._packs[tag] = load_tag(self.directory, tag)
        return pack


def _load(
    directory: Path, name: str, version: str, chain: tuple[str, ...], *, pins: Mapping[str, str]
) -> Pack:
    path = pack_file(directory, name, version)
    label = f"{name}/{path.name}"
    if not path.is_file():
        raise PackError(f"{label}: no such pack version is kept")
    spec, own_rules, digest = _read(path, label)
    if spec.pack in chain:
        raise PackError(f"{label}: extends cycle {' -> '.join((*chain, spec.pack))}")
    base = None
    if spec.extends is not None:
        kept = versions(directory, spec.extends)
        base_version = pins.get(spec.extends) or (kept[-1] if kept else None)
        if base_version is None:
            raise PackError(f"{label}: extends {spec.extends}, but no version of {spec.extends} is kept")
        base = _load(directory, spec.extends, base_version, (*chain, spec.pack), pins=pins)
    rules = (*(base.rules if base else ()), *own_rules)
    seen: set[str] = set()
    for rule in rules:
        if rule.id in seen:
            raise PackError(f"{label}: rule {rule.id}: defined twice")
        seen.add(rule.id)
    retention = spec.retention_years or (base.retention_years if base else None)
    zones = spec.default_timezones or (base.default_timezones if base else None)
    if retention is None or not zones:
        raise PackError(f"{label}: retention_years and default_timezones are required without extends")
    return Pack(
        name=spec.pack,
        version=spec.version,
        title=spec.title,
        sources=(*(base.sources if base else ()), *spec.sources),
        retention_years=retention,
        retention_citation=spec.retention_citation or (base.retention_citation if base else None),
        default_timezones=zones,
        rules=rules,
        content_sha256=digest,
        base=base,
    )


def _read(path: Path, label: str) -> tuple[_PackFile, tuple[Rule, ...], str]:
    try:
        data = path.read_bytes()
        raw = yaml.load(data.decode("utf-8"), Loader=_UniqueKeyLoader)  # noqa: S506
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        raise PackError(f"{label}: cannot read pack: {error}") from error
    if not isinstance(raw, Mapping):
        raise PackError(f"{label}: a pack must be a mapping of pack, version, rules ...")
    try:
        spec = _PackFile.model_validate(raw)
    except ValidationError as error:
        raise PackError(f"{label}: {_explain(error)}") from error
    if (path.parent.name, path.name) != (spec.pack, f"{spec.version}.yaml"):
        raise PackError(
            f"{label}: declares pack {spec.pack} version {spec.version}, "
            f"so the file must be {spec.pack}/{spec.version}.yaml"
        )
    rules = []
    for index, item in enumerate(spec.rules):
        rule_label = item.get("id", f"#{index + 1}") if isinstance(item, Mapping) else f"#{index + 1}"
        try:
            rule = _RULE.validate_python(item)
        except ValidationError as error:
            kind = item.get("kind") if isinstance(item, Mapping) else None
            raise PackError(f"{label}: rule {rule_label}: {_explain(error, tag=kind)}") from error
        if not rule.id.startswith(f"{spec.pack}."):
            raise PackError(f"{label}: rule {rule.id}: ids in this pack start with {spec.pack}.")
        rules.append(rule)
    return spec, tuple(rules), hashlib.sha256(data).hexdigest()


def _explain(error: ValidationError, tag: object = None) -> str:
    """Field path and message of each problem; a rule's kind tag is left out of the path."""
    problems = []
    for issue in error.errors():
        loc = issue["loc"][1:] if tag is not None and issue["loc"][:1] == (tag,) else issue["loc"]
        path = ".".join(str(part) for part in loc) or "kind"
        problems.append(f"{path}: {issue['msg']}")
    return "; ".join(problems)


class _UniqueKeyLoader(yaml.SafeLoader):
    """A safe loader that refuses a key given twice (plain YAML keeps the last one silently)."""


def _mapping_without_duplicates(loader: yaml.SafeLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node)
        if key in seen:
            raise yaml.constructor.ConstructorError(None, None, f"duplicate key {key!r}", key_node.start_mark)
        seen.add(key)
    return loader.construct_mapping(node)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping_without_duplicates)
