"""Benchmarks of vde's schema (run with ``python -m bench``; not part of the tests)."""
