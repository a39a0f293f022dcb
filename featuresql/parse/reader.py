"""Parse a rendered project file into statements, turning every failure into diagnostics.

The file is tokenized once. Statements are split at `;` the way sqlglot's
parser splits them; a header statement (`FEATURE name (...)`) is read by
`featuresql.parse.header` and every other run of statements goes to the stock
parser, so statements, errors and positions come out in file order.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Union

from sqlglot import exp
from sqlglot.errors import ParseError, TokenError
from sqlglot.tokens import Token, TokenType

from featuresql.diagnostics import Diagnostic
from featuresql.parse.dialect import FeatureSQL
from featuresql.parse.header import Header, HeaderNode, Pos, is_header, parse_error, read_header
from featuresql.templating import RenderedSource

#: A statement of a project file: a header or a SQL statement.
Statement = Union[Header, exp.Expr]
#: Anything a diagnostic can point at.
Node = Union[HeaderNode, exp.Expr]

_DIALECT = FeatureSQL()


@dataclass(frozen=True)
class ParsedFile:
    """A project file's statements, with the rendered source for position lookups."""

    source: RenderedSource
    statements: tuple[Statement, ...]

    def diagnostic(self, node: Node | None, code: str, message: str) -> Diagnostic:
        """A diagnostic at `node` (or the file start), translated to source positions."""
        line, col = position(node) if node is not None else (1, 1)
        line, col = self.source.source_position(line, col)
        return Diagnostic(self.source.path, line, col, code, message)


def position(node: Node) -> tuple[int, int]:
    """The 1-based (line, start column) of a node: its earliest positioned token.

    Header nodes carry their start. Of sqlglot's nodes only identifiers and
    literals carry positions, so we take the one with the smallest offset among
    the node's descendants; sqlglot records `col` as the column of a token's
    *last* character.
    """
    pos: Pos | None = getattr(node, "pos", None)
    if pos is not None:
        return pos.line, pos.col
    assert isinstance(node, exp.Expr)
    best: dict | None = None
    for candidate in node.walk():
        meta = candidate.meta if candidate._meta else None  # avoid creating meta dicts
        if meta and "line" in meta and (best is None or meta["start"] < best["start"]):
            best = meta
    if best is None:
        parent = node.parent
        return position(parent) if parent is not None else (1, 1)
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
        with _sqlglot_warnings_silenced():
            statements = _statements(_DIALECT.tokenize(source.text), source.text)
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


def _statements(tokens: list[Token], sql: str) -> list[Statement]:
    """Headers read by us, every other statement parsed by sqlglot, in file order."""
    statements: list[Statement] = []
    pending = 0  # the first token not yet handed to a reader
    chunk_start = 0
    for index in range(len(tokens) + 1):
        if index < len(tokens) and tokens[index].token_type != TokenType.SEMICOLON:
            continue
        chunk = tokens[chunk_start:index]
        if is_header(chunk):
            statements += _sql_statements(tokens[pending:chunk_start], sql)
            statements.append(read_header(chunk, sql))
            pending = index + 1
        chunk_start = index + 1
    statements += _sql_statements(tokens[pending:], sql)
    return statements


def _sql_statements(tokens: list[Token], sql: str) -> list[Statement]:
    if not tokens:
        return []
    parser = _DIALECT.parser()
    try:
        parsed = parser.parse(tokens, sql)
    except TypeError as err:
        # sqlglotc's compiled parser checks argument types at run time: where pure
        # sqlglot raises a ParseError for some malformed input (`0?`: an operator
        # missing its right side), the compiled build raises TypeError while
        # building the node. The last token consumed is where it gave up.
        last = parser._prev or tokens[-1]
        raise parse_error(last, sql, f"cannot parse the expression ending at {last.text!r}") from err
    # A trailing comment after the last `;` parses as a bare Semicolon node.
    return [s for s in parsed if s is not None and not isinstance(s, exp.Semicolon)]


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
