"""Visits HTTP API."""
