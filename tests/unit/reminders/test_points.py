"""A job's contact point gone by the time it is sent (the lender replaced the borrower's numbers, or
they were erased) fails the job once, for good; it does not fail the sender's pass over and over."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from reminders.channels import PermanentDeliveryError
from reminders.workers import _point_on_file

pytestmark = pytest.mark.unit

ACCOUNT = SimpleNamespace(
    contacts={
        "phones": [{"id": "p1", "number": "enc:v1:x", "consent_sms": True, "is_mobile": True}],
        "emails": [{"id": "e1", "address": "enc:v1:y", "consent": True, "employer": False}],
    }
)


def test_the_point_a_job_was_permitted_for_is_found_by_channel() -> None:
    assert _point_on_file(ACCOUNT, "sms", "p1")["number"] == "enc:v1:x"
    assert _point_on_file(ACCOUNT, "email", "e1")["address"] == "enc:v1:y"


@pytest.mark.parametrize(("channel", "point_id"), [("sms", "p2"), ("email", "p1"), ("sms", None)])
def test_a_point_no_longer_on_file_is_a_permanent_failure(channel: str, point_id: str | None) -> None:
    with pytest.raises(PermanentDeliveryError, match="no longer on file"):
        _point_on_file(ACCOUNT, channel, point_id)
