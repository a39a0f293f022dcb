"""Output names: each once, and never the day partition's column (FS109).

Not one of `RULES`: the project runs it after `check_query`, on features and
labels alike, without `check_query`'s deduplication by position (an alias can
be both a duplicate and the reserved name, and both are said).
"""

from __future__ import annotations

from sqlglot import exp

from featuresql.diagnostics import Diagnostic
from featuresql.output import PARTITION_COLUMN
from featuresql.rules.context import QueryContext

RESERVED = f"the column name {PARTITION_COLUMN} is reserved for the output's day partitions; rename it"


def check_outputs(ctx: QueryContext) -> list[Diagnostic]:
    """Outputs defined twice; a label output or a key named like the day partition."""
    seen: set[str] = set()
    problems = []
    for item in ctx.query.expressions:
        if isinstance(item, exp.Alias):
            name = item.alias.lower()
            if name in seen:
                problems.append(ctx.diagnostic(item.args["alias"], "FS109", f"output {item.alias} is defined twice"))
            if ctx.role == "label" and name == PARTITION_COLUMN:
                problems.append(ctx.diagnostic(item.args["alias"], "FS109", RESERVED))
            seen.add(name)
    group = ctx.query.args.get("group")
    for node in group.expressions if group else []:
        if isinstance(node, exp.Column) and node.name.lower() == PARTITION_COLUMN:
            problems.append(ctx.diagnostic(node, "FS109", RESERVED))
    return problems
