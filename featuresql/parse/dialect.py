"""The featuresql SQL dialect: RisingWave's (Flink-style DDL) plus header statements.

A feature or samples file starts with a header written as SQL,

    FEATURE user_engagement (entity user_id, windows (10m, 1h, lifetime));
    SAMPLES ctr (spine impressions, features (a, b), label (source engagements, horizon 10m));

followed by one query. One parser reads the whole file, so header properties
carry positions like every other token. Header values are deliberately
generic (identifiers, strings, durations, nested lists); what they mean is
decided later, in `featuresql.definitions`, where errors become diagnostics.
"""

from __future__ import annotations

from typing import Any

from sqlglot import exp
from sqlglot.dialects.risingwave import RisingWave
from sqlglot.parsers.risingwave import RisingWaveParser
from sqlglot.tokens import Token, TokenType

HEADER_KINDS = ("FEATURE", "SAMPLES")


class Header(exp.Expression):
    """`FEATURE name (prop value, ...)`; `this` is the name, `kind` FEATURE or SAMPLES."""

    arg_types = {"this": True, "kind": True, "expressions": False}


class HeaderProperty(exp.Expression):
    """`key value` inside a header; `this` is the key identifier, `value` any header value."""

    arg_types = {"this": True, "value": False}


class Duration(exp.Expression):
    """A duration spelling such as `10m` (kept as text; validated later). `negative` marks `-10m`."""

    arg_types = {"this": True, "negative": False}


def token_meta(start: Token, end: Token | None = None) -> dict[str, Any]:
    """Position metadata in sqlglot's convention (`col` is the column of the last character)."""
    end = end or start
    return {"line": start.line, "col": start.col - (start.end - start.start), "start": start.start, "end": end.end,
            "start_col": True}


class FeatureSQLParser(RisingWaveParser):
    """RisingWave's parser with FEATURE / SAMPLES header statements."""

    def _parse_statement(self) -> exp.Expr | None:
        curr = self._curr
        if curr and curr.token_type == TokenType.VAR and curr.text.upper() in HEADER_KINDS:
            next_token = self._next
            # Only `FEATURE <name> (` is a header; anything else is left to SQL.
            if next_token and next_token.token_type not in (TokenType.DOT, TokenType.L_PAREN, TokenType.COMMA):
                return self._parse_header()
        return super()._parse_statement()

    def _parse_header(self) -> Header:
        kind_token = self._curr
        self._advance()
        name = self._parse_header_name()
        if not self._match(TokenType.L_PAREN):
            self.raise_error(f"Expected '(' after {kind_token.text.upper()} {name.name}")
        properties = self._parse_header_items(closing=TokenType.R_PAREN)
        header = Header(this=name, kind=kind_token.text.upper(), expressions=properties)
        header.meta.update(token_meta(kind_token))
        return header

    def _parse_header_name(self) -> exp.Identifier:
        token = self._curr
        if not token or token.token_type in (TokenType.L_PAREN, TokenType.SEMICOLON):
            self.raise_error("Expected a name after the header keyword")
        self._advance()
        ident = exp.Identifier(this=token.text, quoted=token.token_type == TokenType.IDENTIFIER)
        ident.meta.update(token_meta(token))
        return ident

    def _parse_header_items(self, closing: TokenType) -> list[exp.Expr]:
        items: list[exp.Expr] = []
        while self._curr and not self._match(closing):
            items.append(self._parse_header_item())
            if self._match(TokenType.COMMA):
                continue
            if not self._match(closing):
                self.raise_error("Expected ',' or ')' in header")
            break
        return items

    def _parse_header_item(self) -> exp.Expr:
        """`key value` or a bare value (inside lists such as `windows (10m, 1h)`)."""
        token = self._curr
        is_word = token.token_type not in (
            TokenType.STRING, TokenType.NUMBER, TokenType.L_PAREN, TokenType.DASH, TokenType.COMMA, TokenType.R_PAREN
        )
        following = self._next
        if is_word and following and following.token_type not in (TokenType.COMMA, TokenType.R_PAREN):
            self._advance()
            key = exp.Identifier(this=token.text, quoted=False)
            key.meta.update(token_meta(token))
            prop = HeaderProperty(this=key, value=self._parse_header_value())
            prop.meta.update(token_meta(token))
            return prop
        return self._parse_header_value()

    def _parse_header_value(self) -> exp.Expr:
        token = self._curr
        if not token:
            self.raise_error("Expected a header value")
        if self._match(TokenType.L_PAREN):
            tup = exp.Tuple(expressions=self._parse_header_items(closing=TokenType.R_PAREN))
            tup.meta.update(token_meta(token))
            return tup
        if token.token_type == TokenType.STRING:
            self._advance()
            lit = exp.Literal.string(token.text)
            lit.meta.update(token_meta(token))
            return lit
        negative = False
        if token.token_type == TokenType.DASH:
            negative = True
            self._advance()
        number = self._curr
        if number and number.token_type == TokenType.NUMBER:
            self._advance()
            unit = self._curr
            # `10m` tokenizes as NUMBER then VAR; only adjacent tokens form a duration.
            text = number.text
            if unit and unit.token_type == TokenType.VAR and unit.start == number.end + 1:
                self._advance()
                text += unit.text
            node = Duration(this=text, negative=negative)
            node.meta.update(token_meta(token, self._prev))
            return node
        if negative:
            self.raise_error("Expected a duration after '-'")
        if token.token_type in (TokenType.COMMA, TokenType.R_PAREN, TokenType.SEMICOLON):
            self.raise_error("Expected a header value")
        self._advance()
        ident = exp.Identifier(this=token.text, quoted=token.token_type == TokenType.IDENTIFIER)
        ident.meta.update(token_meta(token))
        return ident


class FeatureSQL(RisingWave):
    """The dialect every project file is read with."""

    Parser = FeatureSQLParser
