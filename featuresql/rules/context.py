"""What every query rule looks at: one aggregate query and the catalog table it reads."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from typing import Literal

from sqlglot import exp

from featuresql.definitions import CatalogTable
from featuresql.diagnostics import Diagnostic
from featuresql.parse import ParsedFile
from featuresql.rules.annotate import TypedQuery, annotate

#: featuresql's own functions; everything else must be a function sqlglot knows.
AS_OF = "AS_OF"
SECONDS_SINCE = "SECONDS_SINCE"
OWN_FUNCTIONS = (AS_OF, SECONDS_SINCE)


@dataclass(frozen=True)
class QueryContext:
    """One feature or label query, checked against the catalog."""

    parsed: ParsedFile
    query: exp.Select
    table: CatalogTable | None
    keys: tuple[str, ...]
    role: Literal["feature", "label"]

    def diagnostic(self, node: exp.Expr | None, code: str, message: str) -> Diagnostic:
        return self.parsed.diagnostic(node, code, message)

    @cached_property
    def typed(self) -> TypedQuery:
        """The query typed against `table` (which must be known), annotated on first use only.

        The type rules and the plan both read it; annotating is the costliest step
        of validation, so it happens once per query. (`cached_property` stores the
        value in the instance dict, which a frozen dataclass still allows.)
        """
        assert self.table is not None
        return annotate(self.query, self.table)

    @cached_property
    def nodes(self) -> tuple[exp.Expr, ...]:
        """Every node of the query in `query.walk()` order, collected once.

        The rules scan the whole query about a dozen times; sqlglot's walk is a
        generator over each node's args, far slower than filtering a tuple.
        """
        return tuple(self.query.walk())

    def find_all(self, *types: type[exp.Expr]) -> Iterator[exp.Expr]:
        """`query.find_all(*types)`, in the same (breadth-first) order, from `nodes`."""
        return (node for node in self.nodes if isinstance(node, types))

    @cached_property
    def filters(self) -> tuple[exp.Expr, ...]:
        """The row-level conditions of the query: WHERE and every aggregate's FILTER."""
        conditions: list[exp.Expr] = []
        where = self.query.args.get("where")
        if where is not None:
            conditions.append(where.this)
        conditions.extend(f.expression.this for f in self.find_all(exp.Filter) if isinstance(f.expression, exp.Where))
        return tuple(conditions)


def is_own_function(node: exp.Expr, name: str) -> bool:
    return isinstance(node, exp.Anonymous) and node.name.upper() == name


def inside_aggregate(node: exp.Expr) -> bool:
    """True inside an aggregate's argument or its FILTER clause (both are per-event)."""
    parent = node.parent
    while parent is not None:
        if isinstance(parent, (exp.AggFunc, exp.Filter)):
            return True
        parent = parent.parent
    return False
