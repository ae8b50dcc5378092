"""Alembic environment of the reminders schema only."""

from common.migrations import run_env
from reminders.tables import metadata

run_env(metadata)
