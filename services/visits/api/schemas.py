"""Request and response bodies of the visits API."""

from __future__ import annotations

import datetime as dt
import uuid
from datetime import datetime
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, field_validator, model_validator

from common.fields import Day, Instant, Text

Ident = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]
HHMM = Annotated[str, Field(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")]
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
# A day off is a weekday every week or one date: an error names the kind it was read as.
DayOff = Annotated[
    Annotated[Weekday, Tag("weekday")] | Annotated[Day, Tag("date")],
    Discriminator(lambda v: "weekday" if isinstance(v, str) and v.isalpha() else "date"),
]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Position(_In):
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)


class Shift(_In):
    start: HHMM
    end: HHMM
    timezone: str = Field(max_length=64)

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown IANA time zone {value!r}") from None
        return value

    @model_validator(mode="after")
    def _span(self) -> Shift:
        if self.start == self.end:
            raise ValueError("a shift needs an end different from its start")
        return self


class AgentIn(_In):
    name: Text = Field(min_length=1, max_length=200)
    region: Text = Field(min_length=1, max_length=100)
    home: Position
    shift: Shift
    languages: list[Annotated[Text, Field(max_length=16)]] = Field(default_factory=list, max_length=20)
    max_visits_per_day: int = Field(ge=1, le=100)
    days_off: list[DayOff] = Field(default_factory=list, max_length=400)


class AgentOut(BaseModel):
    agent_id: str
    name: str
    region: str
    home: Position
    shift: Shift
    languages: list[str]
    max_visits_per_day: int
    days_off: list[str]


class CrewIn(_In):
    agent_ids: list[Ident] = Field(min_length=1, max_length=10)

    @field_validator("agent_ids")
    @classmethod
    def _distinct(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError("an agent appears twice in the crew")
        return value


class CrewOut(BaseModel):
    crew_id: str
    agent_ids: list[str]
    region: str
    size: int


class VisitIn(_In):
    account_id: uuid.UUID
    reason: Text = Field(min_length=1, max_length=500)
    date: Day | None = None


class VisitOut(BaseModel):
    visit_id: str
    account_id: str
    source: str
    reason: str
    state: str
    date: dt.date
    priority: int
    permit_id: str | None
    window: dict[str, datetime] | None
    crew_id: str | None
    arrive_at: datetime | None
    depart_at: datetime | None
    check_in: dict[str, Any] | None
    outcome: str | None
    entry_consent: bool | None
    promise: dict[str, Any] | None
    evidence: list[dict[str, str]]
    reasons: list[dict[str, Any]]
    created_at: datetime


class VisitPage(BaseModel):
    items: list[VisitOut]
    next_cursor: str | None


class BuildIn(_In):
    date: Day
    region: Text | None = Field(default=None, max_length=100)


class BuildOut(BaseModel):
    date: dt.date
    region: str | None
    solver: str
    solve_s: float
    routes: list[dict[str, Any]]
    dropped: list[dict[str, str]]


class PlanStop(BaseModel):
    visit_id: str
    account_id: str
    lat: float | None
    lon: float | None
    arrive_at: datetime
    depart_at: datetime


class PlanOut(BaseModel):
    crew_id: str
    date: dt.date
    solver: str
    home: Position
    stops: list[PlanStop]
    distance_m: int
    travel_s: int


class CheckInIn(_In):
    crew_id: Ident
    at: Instant
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    recording_id: Text | None = Field(default=None, min_length=1, max_length=200)
    id_shown: bool = False


class PromiseIn(_In):
    amount_minor: int = Field(gt=0, le=10**15)
    due_date: Day


class ReceiptIn(_In):
    client_id: Ident  # the app's own id: a retry with it records the receipt once
    amount_minor: int = Field(gt=0, le=10**15)
    method: Literal["cash", "card"]
    number: Text = Field(min_length=1, max_length=64)


class EvidenceIn(_In):
    kind: Literal["photo", "recording", "receipt", "document"]
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")


class OutcomeIn(_In):
    outcome: Literal["met_promise", "met_paid", "met_refused", "not_home", "moved", "wrong_address", "unsafe"]
    entry_consent: bool = False
    promise: PromiseIn | None = None
    receipt: ReceiptIn | None = None
    notes: Text | None = Field(default=None, max_length=4000)
    evidence: list[EvidenceIn] = Field(default_factory=list, max_length=50)

    @model_validator(mode="after")
    def _consistent(self) -> OutcomeIn:
        if self.outcome == "met_promise" and self.promise is None:
            raise ValueError("met_promise needs the promise (amount_minor, due_date)")
        if self.outcome == "met_paid" and self.receipt is None:
            raise ValueError("met_paid needs the receipt (client_id, amount_minor, method, number)")
        if self.promise is not None and self.outcome != "met_promise":
            raise ValueError("a promise goes with the met_promise outcome")
        if self.receipt is not None and self.outcome != "met_paid":
            raise ValueError("a receipt goes with the met_paid outcome")
        return self
