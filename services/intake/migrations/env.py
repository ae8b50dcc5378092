"""Alembic environment of the intake schema only."""

from common.migrations import run_env
from intake.tables import metadata

run_env(metadata)
