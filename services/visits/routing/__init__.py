"""Day planning for field crews: a vehicle-routing problem with time windows (see model.py)."""
