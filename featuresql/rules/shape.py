"""The query must be one plain GROUP BY aggregate over a known catalog table."""

from __future__ import annotations

from collections.abc import Iterator

from sqlglot import exp

from featuresql import aggregates
from featuresql.diagnostics import Diagnostic
from featuresql.rules.context import OWN_FUNCTIONS, QueryContext

_CLAUSES_NOT_SUPPORTED = {
    "having": "HAVING",
    "order": "ORDER BY",
    "limit": "LIMIT",
    "offset": "OFFSET",
    "distinct": "SELECT DISTINCT",
    "qualify": "QUALIFY",
    "with_": "WITH",
}


def check_shape(ctx: QueryContext) -> Iterator[Diagnostic]:
    """Unknown tables (FS101) and constructs the engines do not run (FS113)."""
    table_node = ctx.query.args["from_"].this
    if ctx.table is None:
        yield ctx.diagnostic(table_node, "FS101", f"unknown table {table_node.name}: no catalogs/*.sql declares it")
    for arg, clause in _CLAUSES_NOT_SUPPORTED.items():
        if ctx.query.args.get(arg):
            yield ctx.diagnostic(ctx.query.args[arg], "FS113", f"{clause} is not supported in a {ctx.role} query")
    for node in ctx.find_all(exp.Window, exp.Subquery, exp.Join):
        what = "window functions (OVER)" if isinstance(node, exp.Window) else "subqueries and joins"
        yield ctx.diagnostic(node, "FS113", f"{what} are not supported: the engine builds the windows itself")
    for node in ctx.find_all(exp.AggFunc):
        if not aggregates.is_supported(node):
            yield ctx.diagnostic(node, "FS113", f"aggregate {node.sql_name()} is not supported (use {aggregates.NAMES})")
        else:
            yield from _arguments(ctx, node)
    for node in ctx.find_all(exp.Filter):
        if not isinstance(node.this, exp.AggFunc):  # (an unsupported aggregate is reported above)
            what = node.this.sql() if node.this is not None else "nothing"
            yield ctx.diagnostic(node, "FS113", f"FILTER (WHERE ...) applies to an aggregate ({aggregates.NAMES}), not to {what}")
    for node in ctx.find_all(exp.Placeholder, exp.Parameter):
        yield ctx.diagnostic(node, "FS113", "query parameters are not supported: pass values with --var NAME=VALUE")
    for node in ctx.find_all(exp.Anonymous):
        if node.name.upper() not in OWN_FUNCTIONS:
            yield ctx.diagnostic(node, "FS113", f"unknown function {node.name}()")


def _arguments(ctx: QueryContext, node: exp.Expr) -> Iterator[Diagnostic]:
    """Each supported aggregate takes one argument; DISTINCT and `*` only where an entry allows them.

    The plan reads exactly one argument: anything else would be dropped silently
    (`COUNT(DISTINCT a, b)` would count `a`), so it is refused here instead.
    """
    name = node.sql_name()
    argument = node.this
    entry = aggregates.for_call(node)  # None: a DISTINCT that no entry defines
    star_allowed = entry is not None and entry.star
    if argument is None or (isinstance(argument, exp.Distinct) and not argument.expressions):
        spelled = f"{name}(DISTINCT)" if argument is not None else f"{name}()"
        forms = f"{name}(*) or {name}(column)" if star_allowed else f"{name}(column)"
        example = f"{name}(DISTINCT column)" if argument is not None else forms
        yield ctx.diagnostic(node, "FS113", f"{spelled} needs an argument, e.g. {example}")
    elif node.args.get("expressions") or (isinstance(argument, exp.Distinct) and len(argument.expressions) > 1):
        yield ctx.diagnostic(node, "FS113", f"{name} takes one argument (combine columns into one expression first)")
    elif isinstance(argument, exp.Distinct) and entry is None:
        yield ctx.diagnostic(
            node, "FS113",
            f"{name}(DISTINCT ...) is not supported: DISTINCT is defined for {aggregates.DISTINCT_NAMES} only",
        )
    elif isinstance(argument, exp.Distinct) and isinstance(argument.expressions[0], exp.Star) and not star_allowed:
        yield ctx.diagnostic(node, "FS113", f"{name}(DISTINCT *) is not supported: count the distinct values of one column")
    elif isinstance(argument, exp.Star) and not star_allowed:
        yield ctx.diagnostic(node, "FS113", f"{name}(*) is not supported: {name} needs a column")
