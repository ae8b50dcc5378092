"""Pure intake rules: field validation and normalisation, candidate time zones, days past due.

Nothing here performs I/O beyond reading the time-zone database through `zoneinfo`, and nothing
imports a framework.
"""
