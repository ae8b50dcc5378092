"""Pure rules of remote collection: strategies, job states, promises and plans (no I/O)."""
