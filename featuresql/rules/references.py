"""Every column a query reads must exist in its catalog table."""

from __future__ import annotations

import difflib
from collections.abc import Iterator

from sqlglot import exp

from featuresql.diagnostics import Diagnostic
from featuresql.rules.context import QueryContext


def check_references(ctx: QueryContext) -> Iterator[Diagnostic]:
    """Unknown columns and wrong table qualifiers (FS102)."""
    table = ctx.table
    if table is None:
        return
    names = [c.name for c in table.columns]
    source = ctx.query.args.get("from_")
    alias = source.this.alias if source is not None and source.this is not None else ""
    allowed = {table.name.lower(), alias.lower()} - {""}
    for column in ctx.find_all(exp.Column):
        if isinstance(column.this, exp.Star):
            continue
        if column.table and column.table.lower() not in allowed:
            yield ctx.diagnostic(column, "FS102", f"{column.sql()} refers to table {column.table}, but the query reads {table.name}")
            continue
        if table.column(column.name) is None:
            close = difflib.get_close_matches(column.name, names, n=1)
            hint = f"; did you mean {close[0]}?" if close else f" (columns: {', '.join(names)})"
            yield ctx.diagnostic(column, "FS102", f"unknown column {column.name} in table {table.name}{hint}")
