"""Nothing at or after the as-of time may reach a feature."""

from __future__ import annotations

from collections.abc import Iterator

from sqlglot import exp

from featuresql.diagnostics import Diagnostic
from featuresql.rules.context import AS_OF, SECONDS_SINCE, QueryContext, inside_aggregate, is_own_function

# A comparison `time OP as_of` that can only hold for events at or after the as-of time.
_LEAKY_IF_TIME_LEFT = (exp.GT, exp.GTE, exp.EQ)
_LEAKY_IF_TIME_RIGHT = (exp.LT, exp.LTE, exp.EQ)


def _mentions_as_of(node: exp.Expr) -> bool:
    return any(is_own_function(n, AS_OF) for n in node.walk())


def _is_time(node: exp.Expr, time_column: str) -> bool:
    return isinstance(node, exp.Column) and node.name.lower() == time_column.lower()


def check_leakage(ctx: QueryContext) -> Iterator[Diagnostic]:
    """Label columns in features (FS112); as-of comparisons that look forward (FS111)."""
    table = ctx.table
    if table is not None and ctx.role == "feature":
        for column in ctx.find_all(exp.Column):
            if column.name.lower() in table.label_columns:
                yield ctx.diagnostic(
                    column, "FS112",
                    f"{table.name}.{column.name} is declared a label column (known only later): a feature must not read it",
                )
    reported: set[int] = set()
    if table is not None:
        for condition in ctx.filters:
            for cmp in condition.find_all(exp.Binary):
                left, right = cmp.this, cmp.expression
                forward = (
                    isinstance(cmp, _LEAKY_IF_TIME_LEFT) and _is_time(left, table.time_column) and _mentions_as_of(right)
                ) or (
                    isinstance(cmp, _LEAKY_IF_TIME_RIGHT) and _is_time(right, table.time_column) and _mentions_as_of(left)
                )
                if forward:
                    reported.update(id(n) for n in cmp.walk())
                    yield ctx.diagnostic(
                        cmp, "FS111",
                        f"`{cmp.sql()}` selects events at or after the as-of time: a feature only sees {table.time_column} < AS_OF()",
                    )
    # The as-of time varies per query point, so it cannot reach row-level inputs of
    # a sliding window; it is usable only on aggregated values.
    for node in ctx.nodes:
        if id(node) in reported:
            continue
        if is_own_function(node, AS_OF) and (inside_aggregate(node) or _in_where(node)):
            yield ctx.diagnostic(node, "FS113", "AS_OF() can only be used outside aggregates, e.g. SECONDS_SINCE(MAX(ts))")
        if is_own_function(node, SECONDS_SINCE):
            if len(node.expressions) != 1:
                yield ctx.diagnostic(node, "FS113", "SECONDS_SINCE takes one timestamp, e.g. SECONDS_SINCE(MAX(event_time))")
            elif inside_aggregate(node) or _in_where(node):
                yield ctx.diagnostic(node, "FS113", "SECONDS_SINCE() can only be used outside aggregates, e.g. SECONDS_SINCE(MAX(ts))")
        if is_own_function(node, AS_OF) and node.expressions:
            yield ctx.diagnostic(node, "FS113", "AS_OF() takes no arguments")


def _in_where(node: exp.Expr) -> bool:
    parent = node.parent
    while parent is not None:
        if isinstance(parent, exp.Where):
            return True
        parent = parent.parent
    return False
