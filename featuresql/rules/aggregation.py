"""A definition is GROUP BY its keys, with every output an aggregate expression."""

from __future__ import annotations

from collections.abc import Iterator

from sqlglot import exp

from featuresql.aggregates import NAMES
from featuresql.diagnostics import Diagnostic
from featuresql.rules.context import AS_OF, QueryContext, inside_aggregate, is_own_function


def check_aggregation(ctx: QueryContext) -> Iterator[Diagnostic]:
    """GROUP BY vs entity (FS105), bare columns (FS104), nesting and aliases (FS113)."""
    query = ctx.query
    group = query.args.get("group")
    grouped = [e for e in group.expressions] if group else []
    group_names = []
    for node in grouped:
        if not isinstance(node, exp.Column):
            yield ctx.diagnostic(node, "FS105", f"GROUP BY takes plain key columns, not {node.sql()}")
        else:
            group_names.append(node.name.lower())
    if ctx.role == "feature" and sorted(group_names) != sorted(k.lower() for k in ctx.keys):
        anchor = group or query
        yield ctx.diagnostic(
            anchor, "FS105",
            f"GROUP BY ({', '.join(group_names) or 'nothing'}) must list exactly the entity ({', '.join(ctx.keys)})",
        )
    if not any(True for _ in ctx.find_all(exp.AggFunc)):
        yield ctx.diagnostic(query, "FS113", f"a {ctx.role} query needs at least one aggregate ({NAMES})")
    where = query.args.get("where")
    if where is not None:
        for agg in where.find_all(exp.AggFunc):
            yield ctx.diagnostic(agg, "FS113", "aggregates are not allowed in WHERE")
    for agg in ctx.find_all(exp.AggFunc):
        # `AGG(x) FILTER (...)` wraps the aggregate; the wrapper itself is not nesting.
        outer = agg.parent if isinstance(agg.parent, exp.Filter) and agg.parent.this is agg else agg
        if inside_aggregate(outer):
            yield ctx.diagnostic(agg, "FS113", "aggregates cannot be nested")
    for item in query.expressions:
        inner = item.this if isinstance(item, exp.Alias) else item
        if isinstance(inner, exp.Column) and inner.name.lower() in group_names:
            continue  # a key column, passed through
        if isinstance(item, exp.Star) or (isinstance(inner, exp.Column) and isinstance(inner.this, exp.Star)):
            yield ctx.diagnostic(item, "FS113", "SELECT * is not supported: name every output")
            continue
        if not isinstance(item, exp.Alias):
            yield ctx.diagnostic(item, "FS113", f"give {item.sql()} a name: {item.sql()} AS <name>")
        for column in inner.find_all(exp.Column):
            if not inside_aggregate(column) and column.name.lower() not in group_names:
                yield ctx.diagnostic(
                    column, "FS104",
                    f"column {column.name} must be aggregated ({NAMES}) or be a GROUP BY key",
                )
        # An output needs an aggregate or the as-of time; a constant says nothing about the entity.
        if not any(True for _ in inner.find_all(exp.AggFunc, exp.Column)) and not any(
            is_own_function(node, AS_OF) for node in inner.walk()
        ):
            yield ctx.diagnostic(item, "FS113", f"output {item.alias_or_name} aggregates nothing")
