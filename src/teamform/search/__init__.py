"""Heuristic search engines used alongside the CP-SAT model."""
