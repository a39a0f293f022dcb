"""Type errors sqlglot can see from the catalog's column types."""

from __future__ import annotations

from collections.abc import Iterator

from sqlglot import exp

from featuresql.diagnostics import Diagnostic
from featuresql.parse.dialect import FeatureSQL
from featuresql.rules.context import SECONDS_SINCE, QueryContext, is_own_function

_ARITHMETIC = (exp.Add, exp.Sub, exp.Mul, exp.Div, exp.Mod)
_COMPARISONS = (exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE)

_NUMERIC = frozenset(exp.DataType.NUMERIC_TYPES)
_TEXT = frozenset(exp.DataType.TEXT_TYPES)
_TEMPORAL = frozenset(exp.DataType.TEMPORAL_TYPES)
_UNKNOWN = frozenset({exp.DType.UNKNOWN})
_UNKNOWN_OR_NULL = frozenset({exp.DType.UNKNOWN, exp.DType.NULL})
_CONDITION = frozenset({exp.DType.BOOLEAN, exp.DType.UNKNOWN, exp.DType.NULL})


def _is(dtype: exp.DataType, family: frozenset[exp.DType]) -> bool:
    """`dtype.is_type(*family)` without building a DataType per family member.

    For plain type names (no parameters, nested or user-defined types) sqlglot's
    `is_type` compares only `this`; building ~30 DataTypes per call made it the
    costliest part of these checks.
    """
    return dtype.this in family


assert all(isinstance(t, exp.DType) and t != exp.DType.USERDEFINED for t in _NUMERIC | _TEXT | _TEMPORAL | _CONDITION)


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
    for original in ctx.nodes:
        node = twins[id(original)]
        if isinstance(node, (exp.Sum, exp.Avg)):
            arg_type = node.this.type
            if arg_type and not _is(arg_type, _UNKNOWN) and not _is(arg_type, _NUMERIC):
                yield ctx.diagnostic(original, "FS103", f"{node.sql_name()} needs a number, not {arg_type.sql()}")
        elif isinstance(node, _ARITHMETIC):
            for side in (node.this, node.expression):
                if side.type and _is(side.type, _TEXT):
                    yield ctx.diagnostic(original, "FS103", f"arithmetic on text: {side.sql(dialect=FeatureSQL)} is {side.type.sql()}")
                    break
        elif isinstance(node, _COMPARISONS):
            left, right = node.this, node.expression
            for a, b in ((left, right), (right, left)):
                if a.type and _is(a.type, _NUMERIC) and isinstance(b, exp.Literal) and b.is_string and not _is_number_literal(b):
                    yield ctx.diagnostic(original, "FS103", f"comparing a number with the string {b.sql()}")
                    break
                if a.type and _is(a.type, _TEXT) and isinstance(b, exp.Literal) and b.is_number:
                    yield ctx.diagnostic(original, "FS103", f"comparing text with the number {b.sql()}: quote it")
                    break
        elif is_own_function(node, SECONDS_SINCE) and node.expressions:
            arg_type = node.expressions[0].type
            if arg_type and not _is(arg_type, _UNKNOWN_OR_NULL) and not _is(arg_type, _TEMPORAL):
                yield ctx.diagnostic(original, "FS103", f"SECONDS_SINCE needs a timestamp, not {arg_type.sql()}")
    for original in ctx.filters:
        ctype = twins[id(original)].type
        if ctype and not _is(ctype, _CONDITION):
            yield ctx.diagnostic(original, "FS103", f"a filter must be a condition (BOOLEAN), not {ctype.sql()}")
