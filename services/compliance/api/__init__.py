"""Compliance's HTTP API: dry runs, state, decisions, policies, lint, audit, violations, reports."""
