"""Benchmarks: `python benchmarks/ingest.py`, `python benchmarks/query.py` (see each module's docstring)."""
