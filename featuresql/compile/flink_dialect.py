"""Writing Flink SQL with sqlglot.

sqlglot has no Flink dialect and its maintainers declined one (sqlglot issue
#4626), so ours lives here. We only *generate* Flink SQL (files are parsed with
`featuresql.parse.dialect.FeatureSQL`). Engine quirks that change the shape of a
query live in `featuresql.compile.flink`.

`Flink` is a `Dialect` with its own tokenizer settings (both are plain Python in
sqlglot) and sqlglot's base generator. Flink's spelling of types is applied to
a copy of the tree before generating (`flink_sql`) rather than in a Generator
subclass: sqlglot's compiled build (`sqlglotc`) cannot instantiate interpreted
subclasses of its Generator.
"""

from __future__ import annotations

from typing import Any

from sqlglot import exp, tokens
from sqlglot.dialects.dialect import Dialect

#: Flink's names for types, where they differ from what sqlglot's base generator writes.
_RENAMED_TYPES = {
    exp.DType.DATETIME: exp.DType.TIMESTAMP,
}
_TEXT_TYPES = frozenset(exp.DataType.TEXT_TYPES)


class Flink(Dialect):
    """Flink SQL (2.x): backtick identifiers, single-quoted strings with '' escapes."""

    class Tokenizer(tokens.Tokenizer):
        IDENTIFIERS = ["`"]
        QUOTES = ["'"]
        STRING_ESCAPES = ["'"]


def _flink_type(node: exp.Expr) -> exp.Expr:
    if not isinstance(node, exp.DataType):
        return node
    if node.this in _TEXT_TYPES:
        # Unbounded text is STRING in Flink (TEXT does not exist), and a VARCHAR(n)
        # in a catalog is still any string to us: Flink would pad or cut it.
        return exp.DataType(this=exp.DType.USERDEFINED, kind="STRING")
    renamed = _RENAMED_TYPES.get(node.this)
    if renamed is not None:
        node.set("this", renamed)
    return node


def flink_sql(node: exp.Expr, **opts: Any) -> str:
    """`node` written as Flink SQL (the node itself is not changed)."""
    return node.transform(_flink_type).sql(dialect=Flink, copy=False, **opts)


def interval(millis: int) -> str:
    """A DAY TO SECOND(3) interval literal for exactly `millis` milliseconds."""
    days, rest = divmod(millis, 86_400_000)
    hours, rest = divmod(rest, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    seconds, ms = divmod(rest, 1_000)
    return f"INTERVAL '{days} {hours:02d}:{minutes:02d}:{seconds:02d}.{ms:03d}' DAY TO SECOND(3)"
