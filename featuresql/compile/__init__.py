"""Compile plans to engine SQL. One module per engine; templates hold the SQL shape."""

from __future__ import annotations

from collections.abc import Callable

from sqlglot import exp

from featuresql.aggregates import Spelling
from featuresql.plan import AggregatePlan, Measure
from featuresql.rules.context import AS_OF, SECONDS_SINCE, is_own_function
from featuresql.timeutil import Window

#: The column every windowed row carries with its as-of time.
AS_OF_COLUMN = "__asof"

def bind_window(
    plan: AggregatePlan,
    expression: exp.Expr,
    window: Window,
    seconds_since: Callable[[exp.Expr, exp.Expr], exp.Expr],
) -> exp.Expr:
    """An output expression for one window: measures become that window's columns,
    AS_OF() the as-of column, and SECONDS_SINCE(x) whatever the engine writes for it
    (`seconds_since(x, as_of)`)."""
    names = {m.name for m in plan.measures}

    def rewrite(node: exp.Expr) -> exp.Expr:
        if isinstance(node, exp.Column) and node.name in names:
            return exp.column(f"{node.name}_{window.name}")
        if is_own_function(node, AS_OF):
            return exp.column(AS_OF_COLUMN)
        if is_own_function(node, SECONDS_SINCE):
            return seconds_since(node.expressions[0].copy().transform(rewrite), exp.column(AS_OF_COLUMN))
        return node

    return expression.copy().transform(rewrite)


def window_call(
    measure: Measure, spelling: Spelling, x: str, over: str, type_sql: Callable[[exp.DataType], str]
) -> str:
    """`measure`'s aggregate of column `x` over window `over`, as one engine spells it.

    Where that engine returns another type than the contract's (DuckDB sums
    integers into HUGEINT), the call is cast back to the measure's result type.
    """
    call = f"{spelling.call.format(x=x)} OVER {over}"
    if spelling.returns(measure.input_type) != measure.result_type:
        call = f"CAST({call} AS {type_sql(measure.result_type)})"
    return call
