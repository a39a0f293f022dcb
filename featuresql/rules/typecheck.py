"""Type errors sqlglot can see from the catalog's column types."""

from __future__ import annotations

from collections.abc import Iterator

from sqlglot import exp

from featuresql import aggregates
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


def _is_number(node: exp.Expr) -> bool:
    # `-5` parses as Neg(5) (and `+5` as 5): a signed number is still a number.
    while isinstance(node, (exp.Neg, exp.Paren)):
        node = node.this
    return isinstance(node, exp.Literal) and node.is_number


def check_types(ctx: QueryContext) -> Iterator[Diagnostic]:
    """Numeric aggregates (SUM, AVG) of non-numbers, arithmetic on text, mismatched comparisons, non-boolean filters (FS103)."""
    if ctx.table is None:
        return
    type_of = ctx.typed.type_of
    # Types come from the typed query's map, keyed by the nodes of the query itself.
    for node in ctx.nodes:
        if isinstance(node, exp.AggFunc):
            # SUM(DISTINCT text) is still SUM of text (the shape rule refuses the DISTINCT).
            entry = aggregates.for_call(node) or aggregates.plain(node)
            arg_type = type_of(node.this) if entry is not None and entry.input == "numeric" else None
            if arg_type and not _is(arg_type, _UNKNOWN) and not _is(arg_type, _NUMERIC):
                yield ctx.diagnostic(node, "FS103", f"{node.sql_name()} needs a number, not {arg_type.sql()}")
        elif isinstance(node, _ARITHMETIC):
            for side in (node.this, node.expression):
                side_type = type_of(side)
                if side_type and _is(side_type, _TEXT):
                    yield ctx.diagnostic(node, "FS103", f"arithmetic on text: {side.sql(dialect=FeatureSQL)} is {side_type.sql()}")
                    break
        elif isinstance(node, _COMPARISONS):
            left, right = node.this, node.expression
            for a, b in ((left, right), (right, left)):
                a_type = type_of(a)
                if a_type and _is(a_type, _NUMERIC) and isinstance(b, exp.Literal) and b.is_string and not _is_number_literal(b):
                    yield ctx.diagnostic(node, "FS103", f"comparing a number with the string {b.sql()}")
                    break
                if a_type and _is(a_type, _TEXT) and _is_number(b):
                    yield ctx.diagnostic(node, "FS103", f"comparing text with the number {b.sql()}: quote it")
                    break
        elif is_own_function(node, SECONDS_SINCE) and node.expressions:
            arg_type = type_of(node.expressions[0])
            if arg_type and not _is(arg_type, _UNKNOWN_OR_NULL) and not _is(arg_type, _TEMPORAL):
                yield ctx.diagnostic(node, "FS103", f"SECONDS_SINCE needs a timestamp, not {arg_type.sql()}")
    for condition in ctx.filters:
        ctype = type_of(condition)
        if ctype and not _is(ctype, _CONDITION):
            yield ctx.diagnostic(condition, "FS103", f"a filter must be a condition (BOOLEAN), not {ctype.sql()}")


def check_known_inputs(ctx: QueryContext) -> Iterator[Diagnostic]:
    """Every aggregate's input has a type sqlglot can tell (FS103).

    Flink's samples job declares each aggregate's input type (a union with the
    spine's points), so an input of unknown type validates, runs on DuckDB, and
    then cannot be written for Flink. Run last, on an otherwise clean query:
    an unknown function or column is its own, better, diagnostic.
    """
    if ctx.table is None:
        return
    for node in ctx.find_all(exp.AggFunc):
        argument = node.this.expressions[0] if isinstance(node.this, exp.Distinct) and node.this.expressions else node.this
        if argument is None or isinstance(argument, exp.Star):
            continue
        input_type = ctx.typed.type_of(argument)
        if input_type is None or _is(input_type, _UNKNOWN):
            yield ctx.diagnostic(argument, "FS103", f"cannot tell the type of {argument.sql(dialect=FeatureSQL)}: "
                                 "cast it, e.g. CAST(... AS BIGINT)")
