"""A sqlglot dialect that writes Flink SQL.

sqlglot has no Flink dialect and its maintainers declined one (sqlglot issue
#4626), so ours lives here. We only *generate* Flink SQL (files are parsed
with `featuresql.parse.dialect.FeatureSQL`), so this is a Generator with
Flink's spelling of identifiers and types; engine quirks that change the
shape of a query live in `featuresql.compile.flink`.
"""

from __future__ import annotations

from sqlglot import exp, generator, tokens
from sqlglot.dialects.dialect import Dialect


class FlinkGenerator(generator.Generator):
    #: Flink's names for types: unbounded text is STRING; TEXT does not exist.
    TYPE_MAPPING = {
        **generator.Generator.TYPE_MAPPING,
        exp.DType.VARCHAR: "STRING",
        exp.DType.TEXT: "STRING",
        exp.DType.CHAR: "STRING",
        exp.DType.NCHAR: "STRING",
        exp.DType.NVARCHAR: "STRING",
        exp.DType.DATETIME: "TIMESTAMP",
    }

    def datatype_sql(self, expression: exp.DataType) -> str:
        # A VARCHAR(n) in a catalog is still any string to us; Flink would pad or cut it.
        if expression.is_type(*exp.DataType.TEXT_TYPES):
            return "STRING"
        return super().datatype_sql(expression)


class Flink(Dialect):
    """Flink SQL (2.x): backtick identifiers, single-quoted strings with '' escapes."""

    class Tokenizer(tokens.Tokenizer):
        IDENTIFIERS = ["`"]
        QUOTES = ["'"]
        STRING_ESCAPES = ["'"]

    Generator = FlinkGenerator
