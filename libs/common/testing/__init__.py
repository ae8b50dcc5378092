"""Pytest fixtures that bring the real stack up once per test session (`pytest_plugins`)."""
