"""Reading project files: Jinja, then sqlglot with the featuresql dialect."""

from __future__ import annotations

from featuresql.parse.reader import ParsedFile, parse_source, position

__all__ = ["ParsedFile", "parse_source", "position"]
