"""Visits settings: every variable reads `VISITS_<NAME>`."""

from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from common.settings import BaseServiceSettings


class VisitsSettings(BaseServiceSettings):
    model_config = SettingsConfigDict(env_prefix="VISITS_", extra="ignore", frozen=True)

    service_name: str = "visits"
    # A check-in farther than this from the address on file is accepted but flagged for review.
    check_in_flag_distance_m: float = 300.0
    # A check-in timestamp may run ahead of the server's clock by this much (phones drift).
    check_in_clock_skew_s: float = 300.0
    # Travel times: great-circle distance at this speed (a routing engine can replace it).
    speed_kmh: float = 25.0
    detour_factor: float = 1.3
    service_minutes: int = 20
    solver_time_limit_s: float = 5.0
    # Jurisdictions (pack prefixes) where a visit is recorded from start to end: the permit request
    # says so and a check-in without a recording reference is refused (GB/T 45251-2025 for CN).
    recording_jurisdictions: str = "CN"
    # A visit's permit is asked for a crew of at least this many when the region has no crew yet.
    default_crew_size: int = 2
