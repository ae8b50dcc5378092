"""Intake's HTTP API: lender events in, masked accounts out."""
