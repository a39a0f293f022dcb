"""FEATURE / SAMPLES header statements, read from sqlglot's tokens without its parser.

A feature or samples file starts with a header written as SQL,

    FEATURE user_engagement (entity user_id, windows (10m, 1h, lifetime));
    SAMPLES ctr (spine impressions, features (a, b), label (source engagements, horizon 10m));

followed by one query. The file is tokenized once; the header's tokens are read
here into plain frozen dataclasses and the remaining tokens go to the stock
RisingWave parser. We do not subclass sqlglot's parser or expression classes:
its compiled build (`sqlglotc`) refuses to instantiate interpreted subclasses.

Header values are deliberately generic (words, strings, durations, nested
lists); what they mean is decided in `featuresql.headers`, where problems
become diagnostics. Syntax errors are raised as sqlglot `ParseError`s built the
way its parser builds them, so they are reported like any other syntax error.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Union

from sqlglot import exp
from sqlglot.errors import ParseError, highlight_sql
from sqlglot.tokens import Token, TokenType

HEADER_KINDS = ("FEATURE", "SAMPLES")

# Tokens after the header keyword that make the statement SQL, not a header
# (`feature.x`, `feature(...)`, `feature, ...`).
_NOT_A_HEADER = (TokenType.DOT, TokenType.L_PAREN, TokenType.COMMA)
# Tokens that cannot start a `key value` property.
_NOT_A_KEY = (TokenType.STRING, TokenType.NUMBER, TokenType.L_PAREN, TokenType.DASH, TokenType.COMMA, TokenType.R_PAREN)


@dataclass(frozen=True)
class Pos:
    """Where a header node starts in the rendered text: 1-based line and column, 0-based offset."""

    line: int
    col: int
    start: int

    @classmethod
    def of(cls, token: Token) -> Pos:
        # sqlglot's `Token.col` is the column of the token's last character.
        return cls(token.line, token.col - (token.end - token.start), token.start)


@dataclass(frozen=True)
class Word:
    """A bare or quoted name: `user_id`, `lifetime`, `"Quoted"`."""

    text: str
    quoted: bool
    pos: Pos


@dataclass(frozen=True)
class Text:
    """A 'quoted string'."""

    value: str
    pos: Pos


@dataclass(frozen=True)
class Duration:
    """A duration spelling such as `10m`, kept as text; `negative` marks `-10m`."""

    text: str
    negative: bool
    pos: Pos


@dataclass(frozen=True)
class Group:
    """A parenthesised list: `(10m, 1h)` or `(source t, horizon 10m)`."""

    items: tuple[Item, ...]
    pos: Pos


@dataclass(frozen=True)
class Property:
    """`key value` inside a header or a group."""

    key: Word
    value: Value
    pos: Pos


@dataclass(frozen=True)
class Header:
    """`FEATURE name (item, ...)`; `kind` is FEATURE or SAMPLES."""

    kind: str
    name: Word
    items: tuple[Item, ...]
    pos: Pos


Value = Union[Word, Text, Duration, Group]
Item = Union[Property, Value]
HeaderNode = Union[Header, Property, Word, Text, Duration, Group]


def children(node: HeaderNode) -> tuple[HeaderNode, ...]:
    """A node's direct children, in source order."""
    if isinstance(node, Header):
        return (node.name, *node.items)
    if isinstance(node, Property):
        return (node.key, node.value)
    if isinstance(node, Group):
        return node.items
    return ()


def walk(node: HeaderNode) -> Iterator[HeaderNode]:
    """The node and its descendants, breadth first (the order sqlglot's `walk` uses)."""
    queue: deque[HeaderNode] = deque([node])
    while queue:
        current = queue.popleft()
        yield current
        queue.extend(children(current))


def header_sql(node: HeaderNode) -> str:
    """A header value written back as text, for messages about values of the wrong shape."""
    if isinstance(node, Word):
        return exp.to_identifier(node.text, quoted=node.quoted).sql()
    if isinstance(node, Text):
        return exp.Literal.string(node.value).sql()
    if isinstance(node, Duration):
        return ("-" if node.negative else "") + node.text
    if isinstance(node, Group):
        return "(" + ", ".join(header_sql(item) for item in node.items) + ")"
    if isinstance(node, Property):
        return f"{header_sql(node.key)} {header_sql(node.value)}"
    return f"{node.kind} {header_sql(node.name)} (" + ", ".join(header_sql(item) for item in node.items) + ")"


def is_header(chunk: Sequence[Token]) -> bool:
    """Whether a statement's tokens (without the `;`) start a header: `FEATURE <name> ...`."""
    return (
        len(chunk) > 1
        and chunk[0].token_type == TokenType.VAR
        and chunk[0].text.upper() in HEADER_KINDS
        and chunk[1].token_type not in _NOT_A_HEADER
    )


def read_header(chunk: Sequence[Token], sql: str) -> Header:
    """Read one header statement from its tokens (`is_header(chunk)` holds); raises ParseError."""
    return _HeaderReader(chunk, sql).header()


def parse_error(token: Token, sql: str, message: str) -> ParseError:
    """A ParseError at `token`, built the way sqlglot's parser builds its own."""
    formatted, start_context, highlight, end_context = highlight_sql(sql, [(token.start, token.end)])
    # Line and column from the offsets, not from the token: sqlglot's tokenizer can
    # misplace them (after a `$` before a newline). `col` is the token's last
    # character, as sqlglot's own errors have it.
    end = min(max(token.end, 0), max(len(sql) - 1, 0))
    line = sql.count("\n", 0, end) + 1
    col = end - sql.rfind("\n", 0, end)
    return ParseError.new(
        f"{message}. Line {line}, Col: {col}.\n  {formatted}",
        description=message,
        line=line,
        col=col,
        start_context=start_context,
        highlight=highlight,
        end_context=end_context,
    )


class _HeaderReader:
    """A cursor over one statement's tokens, with the few moves the header grammar needs.

    Errors point at the token sqlglot's parser would blame (the current one, or
    the last one at the end of the statement), so positions and messages match
    what the header reported when it was parsed inside sqlglot.
    """

    def __init__(self, tokens: Sequence[Token], sql: str) -> None:
        self.tokens = tokens
        self.sql = sql
        self.index = 0

    @property
    def curr(self) -> Token | None:
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    @property
    def next(self) -> Token | None:
        return self.tokens[self.index + 1] if self.index + 1 < len(self.tokens) else None

    @property
    def prev(self) -> Token | None:
        return self.tokens[self.index - 1] if self.index > 0 else None

    def advance(self) -> None:
        self.index += 1

    def match(self, token_type: TokenType) -> bool:
        curr = self.curr
        if curr is not None and curr.token_type == token_type:
            self.advance()
            return True
        return False

    def error(self, message: str) -> ParseError:
        return parse_error(self.curr or self.prev or Token.string(""), self.sql, message)

    def header(self) -> Header:
        kind_token = self.tokens[0]
        self.advance()
        name = self.name()
        if not self.match(TokenType.L_PAREN):
            raise self.error(f"Expected '(' after {kind_token.text.upper()} {name.text}")
        items = self.items()
        if self.curr is not None:
            raise self.error("Invalid expression / Unexpected token")
        return Header(kind_token.text.upper(), name, items, Pos.of(kind_token))

    def name(self) -> Word:
        token = self.curr
        if token is None or token.token_type in (TokenType.L_PAREN, TokenType.SEMICOLON):
            raise self.error("Expected a name after the header keyword")
        self.advance()
        return Word(token.text, token.token_type == TokenType.IDENTIFIER, Pos.of(token))

    def items(self) -> tuple[Item, ...]:
        """Items up to the closing `)`; the opening `(` is already consumed."""
        items: list[Item] = []
        while True:
            if self.curr is None:  # the statement ended inside the list
                raise self.error("Expected ')' to close the list")
            if self.match(TokenType.R_PAREN):
                break
            items.append(self.item())
            if self.match(TokenType.COMMA):
                continue
            if not self.match(TokenType.R_PAREN):
                raise self.error("Expected ',' or ')' in header")
            break
        return tuple(items)

    def item(self) -> Item:
        """`key value`, or a bare value (as in `windows (10m, 1h)`)."""
        token = self.curr
        assert token is not None
        following = self.next
        if token.token_type not in _NOT_A_KEY and following is not None and following.token_type not in (
            TokenType.COMMA, TokenType.R_PAREN
        ):
            self.advance()
            key = Word(token.text, False, Pos.of(token))
            return Property(key, self.value(), key.pos)
        return self.value()

    def value(self) -> Value:
        token = self.curr
        if token is None:
            raise self.error("Expected a header value")
        if self.match(TokenType.L_PAREN):
            return Group(self.items(), Pos.of(token))
        if token.token_type == TokenType.STRING:
            self.advance()
            return Text(token.text, Pos.of(token))
        negative = self.match(TokenType.DASH)
        number = self.curr
        if number is not None and number.token_type == TokenType.NUMBER:
            self.advance()
            text = number.text
            unit = self.curr
            # `10m` is a NUMBER then a VAR; only adjacent tokens make a duration.
            if unit is not None and unit.token_type == TokenType.VAR and unit.start == number.end + 1:
                self.advance()
                text += unit.text
            return Duration(text, negative, Pos.of(token))
        if negative:
            raise self.error("Expected a duration after '-'")
        if token.token_type in (TokenType.COMMA, TokenType.R_PAREN, TokenType.SEMICOLON):
            raise self.error("Expected a header value")
        self.advance()
        return Word(token.text, token.token_type == TokenType.IDENTIFIER, Pos.of(token))
