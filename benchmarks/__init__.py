"""Benchmark runners (run from the repository root)."""
