"""Parse a rendered project file into statements, turning every failure into diagnostics."""

from __future__ import annotations

from dataclasses import dataclass

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError

from featuresql.diagnostics import Diagnostic
from featuresql.parse.dialect import FeatureSQL
from featuresql.templating import RenderedSource


@dataclass(frozen=True)
class ParsedFile:
    """A project file's statements, with the rendered source for position lookups."""

    source: RenderedSource
    statements: tuple[exp.Expr, ...]

    def diagnostic(self, node: exp.Expr | None, code: str, message: str) -> Diagnostic:
        """A diagnostic at `node` (or the file start), translated to source positions."""
        line, col = position(node) if node is not None else (1, 1)
        line, col = self.source.source_position(line, col)
        return Diagnostic(self.source.path, line, col, code, message)


def position(node: exp.Expr) -> tuple[int, int]:
    """The 1-based (line, start column) of a node, from the first positioned token in it.

    sqlglot records `col` as the column of a token's *last* character; our own
    header nodes record the start column and say so with `start_col`.
    """
    for candidate in node.walk():
        meta = candidate.meta if candidate._meta else None  # avoid creating meta dicts
        if meta and "line" in meta:
            if meta.get("start_col"):
                return meta["line"], meta["col"]
            return meta["line"], max(1, meta["col"] - (meta["end"] - meta["start"]))
    parent = node.parent
    return position(parent) if parent is not None else (1, 1)


def _error_start_col(error: dict) -> int:
    col = int(error.get("col") or 1)
    highlight = error.get("highlight") or ""
    return max(1, col - len(highlight) + 1) if "\n" not in highlight else col


def parse_source(source: RenderedSource) -> tuple[ParsedFile | None, list[Diagnostic]]:
    """Parse every statement of a file; syntax errors become FS001 diagnostics."""
    try:
        # A trailing comment after the last `;` parses as a bare Semicolon node.
        statements = [
            s for s in sqlglot.parse(source.text, dialect=FeatureSQL) if s is not None and not isinstance(s, exp.Semicolon)
        ]
    except ParseError as err:
        diagnostics = []
        for error in err.errors or [{"description": str(err), "line": 1, "col": 1}]:
            line, col = source.source_position(int(error.get("line") or 1), _error_start_col(error))
            description = error.get("description") or str(err)
            diagnostics.append(Diagnostic(source.path, line, col, "FS001", f"syntax error: {description}"))
        return None, diagnostics
    except TokenError as err:
        return None, [Diagnostic(source.path, *_token_error_position(source, str(err)), "FS001", f"syntax error: {err}")]
    return ParsedFile(source, tuple(statements)), []


def _token_error_position(source: RenderedSource, message: str) -> tuple[int, int]:
    # TokenError carries no position, only the text just before the failure
    # ("Error tokenizing '<context>'"); find that context in the rendered text.
    context = message.partition("Error tokenizing '")[2][:-1]
    offset = source.text.find(context) if context else -1
    if offset < 0:
        return 1, 1
    offset += len(context) - 1
    line = source.text.count("\n", 0, offset) + 1
    col = offset - (source.text.rfind("\n", 0, offset) + 1) + 1
    return source.source_position(line, col)
