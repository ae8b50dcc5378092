"""compliance: Permits before every contact, policy packs, template lint and the tamper-evident audit
trail; publishes compliance.v1.
"""
