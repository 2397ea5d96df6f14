"""Document ingestion: capture cleaning and related helpers."""
