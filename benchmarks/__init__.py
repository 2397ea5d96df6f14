"""Benchmarks: `python benchmarks/ingestion.py`, `python benchmarks/query.py` (see each module's docstring)."""
