"""Pure compliance rules: policy evaluation, template lint and the audit chain; no I/O, no framework."""
