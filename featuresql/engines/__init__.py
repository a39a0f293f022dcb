"""Engines that execute compiled plans. DuckDB is the embedded default."""
