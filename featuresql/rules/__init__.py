"""Query rules: one module per group of checks, all listed in RULES.

Each rule takes a `QueryContext` and yields diagnostics; `check_query` runs
them all so that a user sees every problem at once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from featuresql.diagnostics import Diagnostic
from featuresql.rules.aggregation import check_aggregation
from featuresql.rules.context import QueryContext
from featuresql.rules.determinism import check_determinism
from featuresql.rules.leakage import check_leakage
from featuresql.rules.references import check_references
from featuresql.rules.shape import check_shape
from featuresql.rules.typecheck import check_known_inputs, check_types

Rule = Callable[[QueryContext], Iterable[Diagnostic]]

RULES: tuple[Rule, ...] = (
    check_shape,
    check_references,
    check_aggregation,
    check_determinism,
    check_leakage,
    check_types,
)


def check_query(ctx: QueryContext) -> list[Diagnostic]:
    """Every diagnostic of every rule, deduplicated by position and code."""
    seen: set[tuple[int, int, str]] = set()
    found: list[Diagnostic] = []
    for rule in RULES:
        if rule is check_types and any(d.code in ("FS102", "FS101") for d in found):
            continue  # types of unknown columns are noise on top of the real error
        for diagnostic in rule(ctx):
            key = (diagnostic.line, diagnostic.col, diagnostic.code)
            if key not in seen:
                seen.add(key)
                found.append(diagnostic)
    if not found:  # only on an otherwise clean query: see check_known_inputs
        found.extend(check_known_inputs(ctx))
    return found


__all__ = ["RULES", "QueryContext", "check_query"]
