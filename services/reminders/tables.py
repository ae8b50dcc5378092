"""Tables of the reminders schema; no other service reads them."""

from __future__ import annotations

from common.db import make_metadata
from common.messaging.tables import inbox_table, outbox_table

SCHEMA = "reminders"

metadata = make_metadata(SCHEMA)

outbox = outbox_table(metadata)
inbox = inbox_table(metadata)
