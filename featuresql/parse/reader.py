"""Parse a rendered project file into statements, turning every failure into diagnostics."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
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
    """The 1-based (line, start column) of a node: its earliest positioned token.

    Only identifiers and literals carry positions in sqlglot, so we take the
    one with the smallest offset among the node's descendants. sqlglot records
    `col` as the column of a token's *last* character; our own header nodes
    record the start column and say so with `start_col`.
    """
    best: dict | None = None
    for candidate in node.walk():
        meta = candidate.meta if candidate._meta else None  # avoid creating meta dicts
        if meta and "line" in meta and (best is None or meta["start"] < best["start"]):
            best = meta
    if best is None:
        parent = node.parent
        return position(parent) if parent is not None else (1, 1)
    if best.get("start_col"):
        return best["line"], best["col"]
    return best["line"], max(1, best["col"] - (best["end"] - best["start"]))


@contextmanager
def _sqlglot_warnings_silenced() -> Iterator[None]:
    # sqlglot warns on stderr when it falls back to an opaque Command; such a
    # statement is reported by our own structural checks, with a position.
    logger = logging.getLogger("sqlglot")
    previous = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(previous)


def _error_start_col(error: dict) -> int:
    col = int(error.get("col") or 1)
    highlight = error.get("highlight") or ""
    return max(1, col - len(highlight) + 1) if "\n" not in highlight else col


def parse_source(source: RenderedSource) -> tuple[ParsedFile | None, list[Diagnostic]]:
    """Parse every statement of a file; syntax errors become FS001 diagnostics."""
    try:
        # A trailing comment after the last `;` parses as a bare Semicolon node.
        with _sqlglot_warnings_silenced():
            parsed = sqlglot.parse(source.text, dialect=FeatureSQL)
        statements = [s for s in parsed if s is not None and not isinstance(s, exp.Semicolon)]
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
