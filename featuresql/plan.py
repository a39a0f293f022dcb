"""The engine-neutral plan of a feature or label: row-level measures, then outputs.

A definition's SELECT list is split in two:

* **measures**: one per distinct aggregate call, as (aggregate, row-level input);
  what each aggregate is and how it is typed lives in featuresql/aggregates.py.
  A `FILTER (WHERE p)` becomes `CASE WHEN p THEN x END` in the input, because
  Flink rejects FILTER on OVER aggregates and NULL inputs are ignored anyway;
  `COUNT(*)` counts the literal 1 so that query points (NULL inputs) that share
  a window with events are never counted.
* **outputs**: the user's expressions with each aggregate replaced by a
  reference to its measure; evaluated once per window.

Both engines compile this same plan; see docs/semantics.md for what it means.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

from sqlglot import exp

from featuresql.aggregates import DOUBLE, Aggregate, for_call
from featuresql.definitions import CatalogTable
from featuresql.parse.dialect import FeatureSQL
from featuresql.rules.annotate import TypedQuery
from featuresql.rules.context import QueryContext
from featuresql.timeutil import Window


@dataclass(frozen=True)
class Measure:
    """One aggregate over a window: `aggregate(input)`, NULL inputs ignored."""

    name: str
    aggregate: Aggregate
    input: exp.Expr
    result_type: exp.DataType
    #: The type of `input` (a streaming union needs typed NULLs for rows without it).
    input_type: exp.DataType = exp.DataType.build("UNKNOWN")


@dataclass(frozen=True)
class Output:
    """One user column: an expression over measures (and AS_OF / SECONDS_SINCE)."""

    alias: str
    expression: exp.Expr


@dataclass(frozen=True)
class AggregatePlan:
    """What a feature or a label computes, independent of any engine."""

    name: str
    source: CatalogTable
    keys: tuple[str, ...]
    where: exp.Expr | None
    measures: tuple[Measure, ...]
    outputs: tuple[Output, ...]
    windows: tuple[Window, ...]
    #: features name columns `<alias>_<window>`; a label's columns keep their alias.
    suffix_windows: bool = True

    def column_name(self, output: Output, window: Window) -> str:
        return f"{output.alias}_{window.name}" if self.suffix_windows else output.alias

    @property
    def output_columns(self) -> list[str]:
        return [self.column_name(o, w) for o in self.outputs for w in self.windows]

    @property
    def longest_window_ms(self) -> int | None:
        """None when any window is lifetime (all history is needed)."""
        if any(w.is_lifetime for w in self.windows):
            return None
        return max(w.millis or 0 for w in self.windows)

    def tables(self) -> tuple[CatalogTable, ...]:
        """The tables the plan reads: its source."""
        return (self.source,)

    def reading(self, paths: Mapping[str, str]) -> AggregatePlan:
        """The same plan over other files: table name -> Parquet path (a glob); see `read_from`."""
        return replace(self, source=read_from(self.source, paths))


@dataclass(frozen=True)
class SamplesPlan:
    """What a SAMPLES definition computes: each spine row with its features and label.

    Resolved once from the project (`Project.plan`); the engines, `preview` and
    `verify` take it whole and never look a name up again.
    """

    name: str
    spine: CatalogTable
    features: tuple[AggregatePlan, ...]
    label: AggregatePlan | None

    @property
    def parts(self) -> tuple[AggregatePlan, ...]:
        """The features, then the label if any: every plan attached to the spine."""
        return self.features + ((self.label,) if self.label is not None else ())

    def tables(self) -> tuple[CatalogTable, ...]:
        """Every table the samples read, each once: the spine first, then the features' and the label's sources."""
        tables = [self.spine] + [part.source for part in self.parts]
        return tuple({t.name.lower(): t for t in tables}.values())

    def reading(self, paths: Mapping[str, str]) -> SamplesPlan:
        """The same samples over other files: table name -> Parquet path (a glob); see `read_from`."""
        return SamplesPlan(
            self.name,
            read_from(self.spine, paths),
            tuple(plan.reading(paths) for plan in self.features),
            self.label.reading(paths) if self.label is not None else None,
        )

    def spine_reading(self, path: str) -> SamplesPlan:
        """The same samples for the spine rows at `path` (Parquet) only.

        Unlike `reading`, a feature or label reading the spine's table still reads
        all of it: the rows at `path` are query points, not the events. A sample
        depends on its own spine row only, so these are exactly those rows' samples
        (what a preview of a few rows computes).
        """
        return replace(self, spine=read_from(self.spine, {self.spine.name: path}))


#: A resolved definition: a feature's plan or a samples plan. Which one it is
#: decides, by type, what every engine and tool does with it.
Plan = AggregatePlan | SamplesPlan


def read_from(table: CatalogTable, paths: Mapping[str, str]) -> CatalogTable:
    """`table` reading the Parquet files at `paths[table name]` (matched without case), else unchanged.

    `verify` points the batch engine at the events the streaming engine kept,
    a preview at a subset of the spine, a CSV run at its typed copy.
    """
    wanted = {name.lower(): path for name, path in paths.items()}
    if table.name.lower() not in wanted:
        return table
    options = {**dict(table.options), "path": wanted[table.name.lower()], "format": "parquet"}
    return replace(table, options=tuple(options.items()))


def _strip_tables(node: exp.Expr) -> exp.Expr:
    node = node.copy()
    for column in node.find_all(exp.Column):
        column.set("table", None)
    return node


def _measure_for(agg: exp.Expr, original: exp.Expr, typed: TypedQuery, name: str) -> Measure:
    """The measure of `agg`, a copy of the aggregate `original` of the typed query."""
    condition = None
    if isinstance(agg, exp.Filter):
        if not isinstance(agg.expression, exp.Where) or agg.this is None:
            raise ValueError(f"unsupported FILTER form: {agg.sql()}")
        condition = _strip_tables(agg.expression.this)
        agg, original = agg.this, original.this
    argument = agg.this
    distinct = isinstance(argument, exp.Distinct)
    if distinct:
        argument = argument.expressions[0]
        typed_arg = typed.type_of(original.this.expressions[0])
    else:
        typed_arg = typed.type_of(original.this)
    arg_type = typed_arg or exp.DataType.build("UNKNOWN")

    aggregate = for_call(agg)
    if aggregate is None:  # the shape rule refuses it before any plan is built
        raise ValueError(f"unsupported aggregate: {agg.sql()}")
    value: exp.Expr
    if isinstance(argument, exp.Star):
        value, input_type = exp.Literal.number(1), exp.DataType.build("INT")
    else:
        value, input_type = _strip_tables(argument), arg_type
    result = aggregate.result(input_type)
    if aggregate.cast_input:
        value, input_type = exp.cast(value, result), result
    if condition is not None:
        value = exp.Case(ifs=[exp.If(this=condition, true=value)])
    # Every `/` the engines see, row-level or not, has the contract's meaning.
    return Measure(name, aggregate, value.transform(real_division), result, input_type)


def real_division(node: exp.Expr) -> exp.Expr:
    # The contract: `/` is real division returning DOUBLE, and x / 0 is NULL, in both engines.
    if isinstance(node, exp.Div):
        denominator = node.expression
        already_guarded = (
            isinstance(denominator, exp.Nullif)
            and isinstance(denominator.expression, exp.Literal)
            and denominator.expression.name in ("0", "0.0")
        )
        if not already_guarded:
            denominator = exp.Nullif(this=denominator, expression=exp.Literal.number(0))
        return exp.Div(this=exp.cast(node.this, DOUBLE), expression=denominator)
    return node


def build_plan(ctx: QueryContext, name: str, windows: tuple[Window, ...], suffix_windows: bool = True) -> AggregatePlan:
    """Split a checked query into measures and outputs."""
    assert ctx.table is not None
    typed = ctx.typed  # shared with the type rules: annotated once per query
    measures: dict[str, Measure] = {}
    outputs: list[Output] = []
    keys = {k.lower() for k in ctx.keys}
    for item in ctx.query.expressions:
        inner = item.this if isinstance(item, exp.Alias) else item
        if isinstance(inner, exp.Column) and inner.name.lower() in keys:
            continue
        expression = inner.copy()
        # Each aggregate (outermost: FILTER wraps the aggregate) of the copy, with
        # the same node in the query (the typed map is keyed by those).
        pairs = [
            (copied, original)
            for original, copied in zip(inner.walk(), expression.walk())
            if _is_aggregate_root(original)
        ]
        for agg, original in pairs:
            candidate = _measure_for(agg, original, typed, f"__m{len(measures)}")
            key = f"{candidate.aggregate.key}:{candidate.input.sql(dialect=FeatureSQL)}"
            measure = measures.setdefault(key, candidate)
            replacement = exp.column(measure.name)
            if agg is expression:
                expression = replacement
            else:
                agg.replace(replacement)
        expression = expression.transform(real_division)
        outputs.append(Output(item.alias_or_name, expression))
    where = ctx.query.args.get("where")
    return AggregatePlan(
        name=name,
        source=ctx.table,
        keys=ctx.keys,
        where=_strip_tables(where.this).transform(real_division) if where is not None else None,
        measures=tuple(measures.values()),
        outputs=tuple(outputs),
        windows=windows,
        suffix_windows=suffix_windows,
    )


def _is_aggregate_root(node: exp.Expr) -> bool:
    if isinstance(node, exp.Filter):
        return True
    return isinstance(node, exp.AggFunc) and not isinstance(node.parent, exp.Filter)


