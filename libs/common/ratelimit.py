"""Per-tenant token buckets: a lender that floods us gets 429 with Retry-After, the others do not notice.

Limits are per process; with N replicas a tenant's ceiling is N times the configured rate.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from common.problems import ProblemError


@dataclass
class _Bucket:
    tokens: float
    updated: float


class TenantRateLimiter:
    def __init__(self, *, rate_per_s: float, burst: float, unit: str = "events") -> None:
        self._rate = rate_per_s
        self._burst = burst
        self._unit = unit
        self._buckets: dict[str, _Bucket] = {}

    def take(self, tenant: str, cost: float = 1.0) -> None:
        """Spend `cost` tokens of `tenant`'s bucket or raise a 429 problem saying when to retry."""
        now = time.monotonic()
        bucket = self._buckets.setdefault(tenant, _Bucket(tokens=self._burst, updated=now))
        bucket.tokens = min(self._burst, bucket.tokens + (now - bucket.updated) * self._rate)
        bucket.updated = now
        if cost > self._burst:
            raise ProblemError(
                413, f"this request costs {cost:.0f} {self._unit}; at most {self._burst:.0f} at once"
            )
        if bucket.tokens < cost:
            wait = math.ceil((cost - bucket.tokens) / self._rate)
            raise ProblemError(
                429,
                f"tenant {tenant!r} is over its rate of {self._rate:.0f} {self._unit}/s",
                headers={"Retry-After": str(max(wait, 1))},
            )
        bucket.tokens -= cost
