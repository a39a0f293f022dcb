"""A query typed against its catalog table: built once per query, shared by every reader.

sqlglot's type annotation is the costliest step of validation. The type rules
(FS103) and the plan (result types of SUM, MIN, MAX) both need it, so
`QueryContext.typed` builds one `TypedQuery` and both read it.

The types are kept beside the tree, not in it: the query's nodes carry the
source positions diagnostics point at, and the engines compile from them, so
typing must leave no trace in them. Typing a copy did that, but copying was a
tenth of `featuresql validate` on 1,000 files. Now the query is typed in place
and put back exactly: the table names added to its columns (sqlglot's schema
lookup needs them) are removed, the types moved into a map, and the flags
sqlglot leaves in `meta` dropped. Only struct access (`exp.Dot`), where sqlglot
also rewrites identifiers, is still typed on a copy.
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
    """The type sqlglot inferred for each node of a query, by the node's `id`."""

    types: dict[int, exp.DataType]

    def type_of(self, node: exp.Expr | None) -> exp.DataType | None:
        return None if node is None else self.types.get(id(node))


def annotate(query: exp.Select, table: CatalogTable) -> TypedQuery:
    """Type every node of `query` against `table`; `query` is left as it was."""
    originals = list(query.walk())
    in_place = not any(isinstance(node, exp.Dot) for node in originals)
    target = query if in_place else query.copy()
    nodes = originals if in_place else list(target.walk())
    metas = [None if node._meta is None else dict(node._meta) for node in nodes]
    qualified = [c for c in nodes if isinstance(c, exp.Column) and not c.table]
    # Columns are qualified with the name the FROM clause gives the table: its alias
    # if it has one (`FROM engagements AS e`), else sqlglot's scope cannot find them.
    source = query.args.get("from_")
    qualifier = source.this.alias_or_name if source is not None and source.this is not None else table.name
    try:
        for column in qualified:
            column.set("table", exp.to_identifier(qualifier))
        annotate_types(target, schema=_schema(table), dialect=FeatureSQL)
        # Both walks visit the same shape in the same order (qualifiers are
        # not walked into before they are added).
        return TypedQuery({id(o): n.type for o, n in zip(originals, nodes) if n.type is not None})
    finally:
        if in_place:
            for column in qualified:
                column.set("table", None)
            for node, meta in zip(nodes, metas):
                node.type = None
                node._meta = meta


@lru_cache(maxsize=256)
def _schema(table: CatalogTable) -> MappingSchema:
    # One schema per catalog table rather than per query: building it renders
    # every column type and sqlglot re-parses those strings, once per schema.
    # Types are rendered in our dialect and parsed back, as sqlglot expects.
    columns = {c.name: c.type.sql(dialect=FeatureSQL) for c in table.columns}
    return MappingSchema({table.name: columns}, dialect=FeatureSQL)
