"""Compile plans to engine SQL. One module per engine; templates hold the SQL shape."""
