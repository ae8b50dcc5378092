"""Alembic environment of the compliance schema only."""

from common.migrations import run_env
from compliance.tables import metadata

run_env(metadata)
