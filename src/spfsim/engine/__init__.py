"""Engines that run the scheme rules: the cohort engine (expected values)."""
