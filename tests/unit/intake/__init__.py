"""Unit tests of the intake domain rules."""
