"""Alembic environment of the visits schema only."""

from common.migrations import run_env
from visits.tables import metadata

run_env(metadata)
