"""`make demo` against the running stack, small: its output has every section (reminders sent,
denials with their reasons, the crew's day plan, the case-analysis tables), every demo tenant's audit
chain verifies, and no phone, e-mail, name, national id or street address the demo posted appears in
what the four services logged meanwhile (in clear, or escaped as JSON writes non-ASCII text)."""

from __future__ import annotations

import json

import pytest

from common.devstack import demo
from common.devstack.demo_portfolio import TENANTS
from common.testing.stack import Stack
from tests.support.logs import Tail

pytestmark = pytest.mark.e2e

SERVICES = ("intake", "reminders", "visits", "compliance")


def _section(output: str, heading: str) -> str:
    """The text from `heading` to the next `== ... ==` heading."""
    assert heading in output, f"no {heading!r} in the demo's output:\n{output}"
    rest = output.split(heading, 1)[1]
    return rest.split("\n== ", 1)[0]


@pytest.mark.timeout(240)
async def test_the_demo_shows_every_section_verifies_the_audit_and_logs_no_personal_data(
    stack: Stack,
) -> None:
    logs = {s: stack.layout.logs / f"{s}.log" for s in SERVICES}
    missing = [s for s, path in logs.items() if not path.exists()]
    if missing:
        pytest.fail(f"this test reads the services' logs in {stack.layout.logs}; none for {missing}")
    tails = {s: Tail(path) for s, path in logs.items()}
    printed: list[str] = []

    steps: list[str] = []
    run = await demo.run(6, layout=stack.layout, out=printed.append, step=steps.append)
    assert len(steps) == demo.STEPS and steps[-1] == "done", steps  # collectctl demo's bar fills
    output = "\n".join(printed)

    sent = _section(output, "== reminders sent ==")
    assert all(tenant in sent for tenant in TENANTS)
    assert "the sandbox's gateways took" in sent
    denials = _section(output, "== permit denials and their reasons ==")
    # ops asked for two visits compliance had to refuse: each with its rule and message
    assert "CN.do_not_visit: " in denials
    assert "GB.forbearance_before_escalation: " in denials
    plans = _section(output, "== visit plans")
    assert "crew demo-c1:" in plans and "ARRIVE" in plans
    analysis = _section(output, "== case analysis")
    for table in ("by variant", "by channel", "promises by where they were made", "challengers against"):
        assert analysis.count(table) == len(TENANTS), table
    assert "email_first" in analysis  # the CN lender's challenger
    assert "denials and deferrals by rule" in analysis and "violations detected, by kind" in analysis
    assert "visits: days" in analysis
    audit = _section(output, "== audit trail")
    assert run.audit_ok, audit
    assert audit.count("verified") == len(TENANTS)
    assert all(len(ids) == 6 for ids in run.accounts.values())

    assert len(run.personal) >= 6 * 3 * 3  # names, phones, e-mails at least, for each account
    assert all(tail.read() for tail in tails.values()), "a service logged nothing during the demo"
    forms = {v: {v, json.dumps(v)[1:-1]} for v in run.personal}
    leaks = [
        f"{service}: {value!r}"
        for service, tail in tails.items()
        for text in [tail.text()]
        for value, written in forms.items()
        if any(w in text for w in written)
    ]
    assert leaks == [], "personal data in the services' logs"
