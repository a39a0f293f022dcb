"""A query typed against its catalog table: built once per query, shared by every reader.

sqlglot's type annotation is the costliest step of validation. The type rules
(FS103) and the plan (result types of SUM, MIN, MAX) both need it, so
`QueryContext.typed` builds one `TypedQuery` and both read it.

The annotation runs on a copy, because qualifying columns and attaching types
must not leak into the original tree: its nodes carry the source positions
diagnostics point at, and the engines compile from it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from sqlglot import exp
from sqlglot.optimizer.annotate_types import annotate_types
from sqlglot.schema import MappingSchema

from featuresql.definitions import CatalogTable
from featuresql.parse.dialect import FeatureSQL


@dataclass(frozen=True)
class TypedQuery:
    """A typed copy of a query and, for each node of the original (by `id`), its typed twin."""

    query: exp.Select
    twins: dict[int, exp.Expr]

    def twin(self, original: exp.Expr) -> exp.Expr:
        return self.twins[id(original)]


def annotate(query: exp.Select, table: CatalogTable) -> TypedQuery:
    """Copy `query`, qualify its columns with `table` and type every node."""
    copy, twins = twin_copy(query)
    # The twins were paired while copying, before qualifying adds table
    # identifiers that would make the two trees differ in shape.
    for column in copy.find_all(exp.Column):
        column.set("table", exp.to_identifier(table.name))
    typed = annotate_types(copy, schema=_schema(table), dialect=FeatureSQL)
    return TypedQuery(typed, twins)


def twin_copy(root: exp.Expr) -> tuple[exp.Expr, dict[int, exp.Expr]]:
    """A copy of `root` (as `Expr.copy` makes it) and the map id(original) -> copy.

    Pairing during the copy saves walking both trees afterwards. Unlike
    `Expr.copy`, `meta` is copied shallowly: its values are positions and flags
    (immutable), and deep-copying those dicts was most of the cost of a copy.
    """
    copy = root.__class__()
    twins: dict[int, exp.Expr] = {}
    stack: list[tuple[exp.Expr, exp.Expr]] = [(root, copy)]
    while stack:
        node, twin = stack.pop()
        twins[id(node)] = twin
        if node.comments is not None:
            twin.comments = list(node.comments)
        if node._type is not None:
            twin._type = node._type.copy()
        if node._meta is not None:
            twin._meta = dict(node._meta)
        for key, value in node.args.items():
            if isinstance(value, exp.Expr):
                child = value.__class__()
                stack.append((value, child))
                twin.set(key, child)
            elif type(value) is list:
                twin.args[key] = []
                for item in value:
                    if isinstance(item, exp.Expr):
                        child = item.__class__()
                        stack.append((item, child))
                        twin.append(key, child)
                    else:
                        twin.append(key, item)
            else:
                twin.args[key] = value
    return copy, twins


@lru_cache(maxsize=256)
def _schema(table: CatalogTable) -> MappingSchema:
    # One schema per catalog table rather than per query: building it renders
    # every column type and sqlglot re-parses those strings, once per schema.
    # Types are rendered in our dialect and parsed back, as sqlglot expects.
    columns = {c.name: c.type.sql(dialect=FeatureSQL) for c in table.columns}
    return MappingSchema({table.name: columns}, dialect=FeatureSQL)
