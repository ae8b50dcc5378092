"""Publishing from visits: always through the outbox, in the caller's transaction."""

from __future__ import annotations

from common.contracts.visits import TOPIC
from common.messaging.outbox import Publisher
from visits.tables import outbox

SOURCE = "visits"

publish = Publisher(outbox=outbox, topic=TOPIC, source=SOURCE).publish
