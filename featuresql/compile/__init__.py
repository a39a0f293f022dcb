"""Compile plans to engine SQL. One module per engine; templates hold the SQL shape."""

from __future__ import annotations

from collections.abc import Callable

from sqlglot import exp

from featuresql.plan import AggregatePlan
from featuresql.rules.context import AS_OF, SECONDS_SINCE, is_own_function
from featuresql.timeutil import Window

#: The column every windowed row carries with its as-of time.
AS_OF_COLUMN = "__asof"

#: How each measure function of the plan is written as a window aggregate. The
#: spelling is the same in DuckDB and Flink; what differs is the frame around it.
AGGREGATE_CALLS: dict[str, str] = {
    "count": "COUNT({x})",
    "count_distinct": "COUNT(DISTINCT {x})",
    "sum": "SUM({x})",
    "avg": "AVG({x})",
    "min": "MIN({x})",
    "max": "MAX({x})",
}


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
