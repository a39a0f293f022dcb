"""The query must be one plain GROUP BY aggregate over a known catalog table."""

from __future__ import annotations

from collections.abc import Iterator

from sqlglot import exp

from featuresql.diagnostics import Diagnostic
from featuresql.rules.context import OWN_FUNCTIONS, SUPPORTED_AGGREGATES, QueryContext

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
        if not isinstance(node, SUPPORTED_AGGREGATES):
            yield ctx.diagnostic(node, "FS113", f"aggregate {node.sql_name()} is not supported (use COUNT, SUM, AVG, MIN, MAX)")
        elif node.this is None:
            yield ctx.diagnostic(node, "FS113", f"{node.sql_name()}() needs an argument, e.g. {node.sql_name()}(*) or {node.sql_name()}(column)")
    for node in ctx.find_all(exp.Anonymous):
        if node.name.upper() not in OWN_FUNCTIONS:
            yield ctx.diagnostic(node, "FS113", f"unknown function {node.name}()")
