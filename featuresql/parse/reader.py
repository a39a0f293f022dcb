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

#: The deepest nesting a file may use: of brackets, and of the parsed expression
#: tree. sqlglot's parser, its generator and our rules recurse once or more per
#: level, so a few hundred levels exhaust Python's stack; real definitions use
#: fewer than ten. Refusing deeper ones here, with a position, keeps every later
#: stage (rules, plans, both compilers) inside the stack.
MAX_NESTING = 100
_OPENING = frozenset({TokenType.L_PAREN, TokenType.L_BRACKET, TokenType.L_BRACE, TokenType.CASE})
_CLOSING = frozenset({TokenType.R_PAREN, TokenType.R_BRACKET, TokenType.R_BRACE, TokenType.END})
#: Tokens that never add a level to a tree by themselves.
_LEAVES = frozenset({TokenType.VAR, TokenType.IDENTIFIER, TokenType.STRING, TokenType.NUMBER, TokenType.COMMA,
                     TokenType.SEMICOLON, TokenType.STAR})
# `- - - x`, `NOT NOT x`: each nests one level without a bracket.
_PREFIX_OPERATORS = frozenset({TokenType.DASH, TokenType.PLUS, TokenType.NOT, TokenType.TILDE})


@dataclass(frozen=True)
class ParsedFile:
    """A project file's statements, with the rendered source for position lookups."""

    source: RenderedSource
    statements: tuple[Statement, ...]

    def diagnostic(self, node: Node | None, code: str, message: str) -> Diagnostic:
        """A diagnostic at `node` (or the file start), translated to source positions."""
        line, col = position(node, self.source.text) if node is not None else (1, 1)
        line, col = self.source.source_position(line, col)
        return Diagnostic(self.source.path, line, col, code, message)


def position(node: Node, text: str) -> tuple[int, int]:
    """The 1-based (line, column) in `text` where a node starts: its earliest positioned token.

    Header nodes carry their start. Of sqlglot's nodes only identifiers and
    literals carry positions, so we take the one with the smallest offset among
    the node's descendants. Line and column are counted from that offset rather
    than taken from the token: sqlglot's tokenizer can misplace them (a `$`
    before the last newline of a file comes out at line 2, column -4).
    """
    offset = _start_offset(node)
    return line_col(text, offset) if offset is not None else (1, 1)


def line_col(text: str, offset: int) -> tuple[int, int]:
    """The 1-based (line, column) of a 0-based offset, lines ending at `\\n` only (as sqlglot counts)."""
    line_start = text.rfind("\n", 0, offset) + 1
    return text.count("\n", 0, offset) + 1, offset - line_start + 1


def _start_offset(node: Node) -> int | None:
    pos: Pos | None = getattr(node, "pos", None)
    if pos is not None:
        return pos.start
    assert isinstance(node, exp.Expr)
    best: int | None = None
    for candidate in node.walk():
        meta = candidate.meta if candidate._meta else None  # avoid creating meta dicts
        if meta and "start" in meta and (best is None or meta["start"] < best):
            best = meta["start"]
    if best is None:
        parent = node.parent
        return _start_offset(parent) if parent is not None else None
    return best


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
            tokens = _DIALECT.tokenize(source.text)
            depth_bound = _check_bracket_depth(tokens, source.text)
            statements = _statements(tokens, source.text)
            if depth_bound > MAX_NESTING:  # walking every tree costs validate ~6%; most files cannot be deep
                _check_tree_depth(statements, source.text)
    except ParseError as err:
        diagnostics = []
        for error in err.errors or [{"description": str(err), "line": 1, "col": 1}]:
            line, col = source.source_position(int(error.get("line") or 1), _error_start_col(error))
            description = error.get("description") or str(err)
            diagnostics.append(Diagnostic(source.path, line, col, "FS001", f"syntax error: {description}"))
        return None, diagnostics
    except TokenError as err:
        context = str(err).partition("Error tokenizing '")[2][:-1]
        near = context if len(context) <= 40 else "..." + context[-37:]
        message = f"syntax error: cannot read the text ending at {near!r} (an unclosed quote, identifier or comment?)"
        return None, [Diagnostic(source.path, *_token_error_position(source, str(err)), "FS001", message)]
    except TooDeep as err:
        return None, [Diagnostic(source.path, *source.source_position(err.line, err.col), "FS113", err.message)]
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
    except RecursionError:
        # Nesting without brackets (`NOT NOT ... x`, `- - ... 1`) can still go deeper
        # than the stack; the statement is all we can point at.
        raise TooDeep(*line_col(sql, tokens[0].start), f"this statement nests more than {MAX_NESTING} levels deep") from None
    except TypeError as err:
        # sqlglotc's compiled parser checks argument types at run time: where pure
        # sqlglot raises a ParseError for some malformed input (`0?`: an operator
        # missing its right side), the compiled build raises TypeError while
        # building the node. The last token consumed is where it gave up.
        last = parser._prev or tokens[-1]
        raise parse_error(last, sql, f"cannot parse the expression ending at {last.text!r}") from err
    # A trailing comment after the last `;` parses as a bare Semicolon node.
    return [s for s in parsed if s is not None and not isinstance(s, exp.Semicolon)]


class TooDeep(Exception):
    """Input nested deeper than MAX_NESTING, at a 1-based (line, col)."""

    def __init__(self, line: int, col: int, message: str):
        super().__init__(message)
        self.line, self.col, self.message = line, col, message


def _check_bracket_depth(tokens: list[Token], sql: str) -> int:
    """Refuse nesting the parser would recurse through: brackets, CASE ... END, runs of prefix operators.

    Returns a bound on the depth of the trees these tokens can parse to: every
    level of a tree is a bracket level (a few node levels each: a call, its
    FILTER, its WHERE ...), an operator or keyword token, or one of a few levels
    every statement has (statement, alias, column, identifier).
    """
    depth = deepest = 0
    prefix_run = 0
    operators = 0
    for token in tokens:
        kind = token.token_type
        prefix_run = prefix_run + 1 if kind in _PREFIX_OPERATORS else 0
        if kind in _OPENING:
            depth += 1
            deepest = max(deepest, depth)
        elif kind in _CLOSING:
            depth = max(depth - 1, 0)
        elif kind not in _LEAVES:
            operators += 1
        if depth + prefix_run > MAX_NESTING:
            raise TooDeep(*line_col(sql, token.start), f"expression nested more than {MAX_NESTING} levels deep")
    return 4 * deepest + operators + 12


def _check_tree_depth(statements: list[Statement], sql: str) -> None:
    """Refuse an expression tree deeper than MAX_NESTING (nested CASEs, `a + b - c + ...` chains)."""
    for statement in statements:
        if not isinstance(statement, exp.Expr):
            continue
        stack = [(statement, 1)]
        while stack:
            node, depth = stack.pop()
            if depth > MAX_NESTING:
                raise TooDeep(*position(node, sql), f"expression nested more than {MAX_NESTING} levels deep: "
                              "split it into simpler outputs")
            # sqlglot reads, walks and writes a chain of one operator (`a OR b OR ...`,
            # `x + y + ...`) without recursing, so such a chain counts as one level.
            stack.extend(
                (child, depth if type(child) is type(node) and isinstance(node, exp.Binary) else depth + 1)
                for child in node.iter_expressions()
            )


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
