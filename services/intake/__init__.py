"""intake: Lenders' front door: validates, de-duplicates and protects overdue-account events, publishes
intake.v1.
"""
