"""Who may do what: the role table of SPEC section 7, as one table every route and the tests read.

A route names what it needs (`allow(Can.WORK_CALLS, Can.READ_TENANT)`: any of them); a role has the
capabilities the table gives it. The tests walk every route of every service and try every role
against this table, so a route and the SPEC cannot drift apart unnoticed.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from enum import StrEnum
from typing import Final

from common.auth import CurrentPrincipal, Principal, Role
from common.problems import ProblemError


class Can(StrEnum):
    """The capabilities the SPEC's role table names."""

    POST_EVENTS = "post events to intake"
    READ_OWN_ACCOUNTS = "read its own accounts"
    WORK_CALLS = "call tasks, contact logging, promises and plans"
    WORK_VISITS = "check-in and outcomes"
    DRY_RUN = "permit dry runs"
    STRATEGIES = "strategies"
    FIELD_FORCE = "agents, crews, visit requests and plans"
    WEBHOOKS = "inbound and receipt webhooks"
    READ_TENANT = "reads everywhere in the tenant"
    COMPLIANCE = "compliance state, decisions, policies, lint, audit, violations, reports"
    OPERATE = "the platform's own operations (outbox state, the test clock)"


_AGENT: Final = frozenset({Can.WORK_CALLS, Can.WORK_VISITS, Can.DRY_RUN})

ROLE_CAPABILITIES: Final[dict[Role, frozenset[Can]]] = {
    Role.LENDER: frozenset({Can.POST_EVENTS, Can.READ_OWN_ACCOUNTS}),
    Role.AGENT: _AGENT,
    Role.OPS: _AGENT | {Can.STRATEGIES, Can.FIELD_FORCE, Can.WEBHOOKS, Can.READ_TENANT},
    Role.COMPLIANCE: frozenset({Can.COMPLIANCE, Can.DRY_RUN, Can.READ_TENANT}),
    Role.ADMIN: frozenset(Can),
}


def may(role: Role, needs: frozenset[Can]) -> bool:
    """True when `role` has any of the capabilities a route needs."""
    return bool(ROLE_CAPABILITIES[role] & needs)


Dependency = Callable[[Principal], Awaitable[Principal]]


def allow(*needs: Can) -> Dependency:
    """A FastAPI dependency giving the caller when its role has any of `needs`, else a 403 problem.
    The dependency carries `needs`, so a test can read what every route asks for."""
    if not needs:
        raise ValueError("allow needs at least one capability")
    wanted = frozenset(needs)

    async def _allow(principal: CurrentPrincipal) -> Principal:
        if not may(principal.role, wanted):
            raise ProblemError(403, f"role {principal.role.value!r} may not do this")
        return principal

    _allow.needs = wanted  # type: ignore[attr-defined]
    return _allow


def needs_of(dependency: object) -> frozenset[Can] | None:
    """What an `allow` dependency asks for (None for any other callable)."""
    found = getattr(dependency, "needs", None)
    return found if isinstance(found, frozenset) else None
