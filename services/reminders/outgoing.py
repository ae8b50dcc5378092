"""Publishing from reminders: always through the outbox, in the caller's transaction."""

from __future__ import annotations

from common.messaging.outbox import Publisher
from reminders.tables import outbox

TOPIC = "reminders.v1"
SOURCE = "reminders"

publish = Publisher(outbox=outbox, topic=TOPIC, source=SOURCE).publish
