"""Features must be functions of their events: no clocks, no randomness."""

from __future__ import annotations

from collections.abc import Iterator

from sqlglot import exp

from featuresql.diagnostics import Diagnostic
from featuresql.rules.context import QueryContext

_NON_DETERMINISTIC: tuple[type[exp.Expr], ...] = tuple(
    getattr(exp, name)
    for name in ("Rand", "Randn", "CurrentTimestamp", "CurrentDate", "CurrentTime", "CurrentDatetime",
                 "Uuid", "CurrentTimestampLTZ", "Localtime", "Localtimestamp", "UnixSeconds")
    if hasattr(exp, name) and name != "UnixSeconds"
)


def check_determinism(ctx: QueryContext) -> Iterator[Diagnostic]:
    """random(), now(), current_timestamp and friends (FS110)."""
    for node in ctx.find_all(*_NON_DETERMINISTIC):
        yield ctx.diagnostic(
            node, "FS110",
            f"{node.sql_name()} is non-deterministic: backfill and streaming would disagree; "
            "use AS_OF() for the as-of time",
        )
