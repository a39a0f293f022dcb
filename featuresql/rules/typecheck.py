"""Type errors sqlglot can see from the catalog's column types."""

from __future__ import annotations

from collections.abc import Iterator

from sqlglot import exp

from featuresql.diagnostics import Diagnostic
from featuresql.parse.dialect import FeatureSQL
from featuresql.rules.context import SECONDS_SINCE, QueryContext, filter_clauses, is_own_function

_ARITHMETIC = (exp.Add, exp.Sub, exp.Mul, exp.Div, exp.Mod)
_COMPARISONS = (exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE)


def _is_number_literal(node: exp.Expr) -> bool:
    if not (isinstance(node, exp.Literal) and node.is_string):
        return False
    try:
        float(node.name)
    except ValueError:
        return False
    return True


def check_types(ctx: QueryContext) -> Iterator[Diagnostic]:
    """SUM/AVG of non-numbers, arithmetic on text, mismatched comparisons, non-boolean filters (FS103)."""
    if ctx.table is None:
        return
    twins = ctx.typed.twins
    # Diagnostics point at the original node (it has the positions); types come from its twin.
    for original in ctx.query.walk():
        node = twins[id(original)]
        if isinstance(node, (exp.Sum, exp.Avg)):
            arg_type = node.this.type
            if arg_type and not arg_type.is_type(exp.DType.UNKNOWN) and not arg_type.is_type(*exp.DataType.NUMERIC_TYPES):
                yield ctx.diagnostic(original, "FS103", f"{node.sql_name()} needs a number, not {arg_type.sql()}")
        elif isinstance(node, _ARITHMETIC):
            for side in (node.this, node.expression):
                if side.type and side.type.is_type(*exp.DataType.TEXT_TYPES):
                    yield ctx.diagnostic(original, "FS103", f"arithmetic on text: {side.sql(dialect=FeatureSQL)} is {side.type.sql()}")
                    break
        elif isinstance(node, _COMPARISONS):
            left, right = node.this, node.expression
            for a, b in ((left, right), (right, left)):
                if a.type and a.type.is_type(*exp.DataType.NUMERIC_TYPES) and isinstance(b, exp.Literal) and b.is_string and not _is_number_literal(b):
                    yield ctx.diagnostic(original, "FS103", f"comparing a number with the string {b.sql()}")
                    break
                if a.type and a.type.is_type(*exp.DataType.TEXT_TYPES) and isinstance(b, exp.Literal) and b.is_number:
                    yield ctx.diagnostic(original, "FS103", f"comparing text with the number {b.sql()}: quote it")
                    break
        elif is_own_function(node, SECONDS_SINCE) and node.expressions:
            arg_type = node.expressions[0].type
            if arg_type and not arg_type.is_type(exp.DType.UNKNOWN, exp.DType.NULL) and not arg_type.is_type(*exp.DataType.TEMPORAL_TYPES):
                yield ctx.diagnostic(original, "FS103", f"SECONDS_SINCE needs a timestamp, not {arg_type.sql()}")
    for original in filter_clauses(ctx.query):
        ctype = twins[id(original)].type
        if ctype and not ctype.is_type(exp.DType.BOOLEAN, exp.DType.UNKNOWN, exp.DType.NULL):
            yield ctx.diagnostic(original, "FS103", f"a filter must be a condition (BOOLEAN), not {ctype.sql()}")
