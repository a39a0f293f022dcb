"""Quick looks at a feature or a samples definition: seconds, not a backfill.

A preview runs the same compiled SQL as `backfill` and `samples`, narrowed so it
stays fast on a laptop:

* the time range defaults to the last (UTC) day of the driving table's data
  (the feature's source, or the spine);
* an entity filter is added to the feature's WHERE, so it is applied to the
  events before the window pass, not to the result;
* for samples, the entity filter and `limit` pick the spine rows first (a
  sample depends on its own spine row only), so features are windowed for
  those rows' entities alone.

The rows are materialised in DuckDB once; the per-column summary (null share,
min, mean, max) is one aggregate query over them, and only the first `limit`
rows come back to Python.
"""

from __future__ import annotations

import dataclasses
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import duckdb
import pyarrow as pa
from sqlglot import exp

from featuresql.compile import duckdb as sql
from featuresql.definitions import CatalogTable
from featuresql.diagnostics import FeaturesqlError
from featuresql.engines import run_range
from featuresql.engines.duckdb import millisecond_timestamps
from featuresql.plan import AggregatePlan, Plan, SamplesPlan
from featuresql.runchecks import check_tables, connect, engine_errors
from featuresql.timeutil import Instant, parse_instant

if TYPE_CHECKING:
    import pandas

#: What an entity filter may be: a key value, several values of a single key,
#: one composite key as a tuple, or {column: value or [values]}.
EntityFilter = Any
DAY = timedelta(days=1)
_TEXT_TYPES = (exp.DType.VARCHAR, exp.DType.TEXT, exp.DType.CHAR, exp.DType.NCHAR, exp.DType.NVARCHAR)


@dataclass(frozen=True)
class Preview:
    """The first rows of a feature's update log or of a samples definition, and a summary.

    Attributes:
        name: the feature or samples name.
        kind: "feature" or "samples".
        start, end: the half-open time range that was computed.
        entity: the entity filter, as {column: values}; empty when none.
        table: at most `limit` rows, in time order.
        total_rows: how many rows were computed: for a feature, every row of the
            range; for samples, at most `limit` (the first spine rows of the range).
        summary: one row per column: column, type, null_share, min, mean, max (over all `total_rows`).
        value_columns: the computed columns (features' outputs and the label), for plots.
        key_columns: the entity (or spine) columns the rows are keyed by.
        time_column: the column that orders the rows.
        limit: the row limit asked for (for samples, only that many spine rows were computed).
        seconds: wall time of the preview.
        sql: the SQL that ran.
    """

    name: str
    kind: Literal["feature", "samples"]
    start: datetime
    end: datetime
    entity: dict[str, tuple[Any, ...]]
    table: pa.Table
    total_rows: int
    summary: pa.Table
    value_columns: tuple[str, ...]
    key_columns: tuple[str, ...]
    time_column: str
    limit: int | None
    seconds: float
    sql: str

    def to_pandas(self) -> pandas.DataFrame:
        """The rows as a pandas DataFrame."""
        return self.table.to_pandas()

    def _repr_html_(self) -> str:
        from featuresql.notebook.html import preview_html

        return preview_html(self)

    def __repr__(self) -> str:
        return (
            f"<Preview {self.kind} {self.name}: {self.total_rows:,} rows in "
            f"[{self.start:%Y-%m-%d %H:%M:%S}, {self.end:%Y-%m-%d %H:%M:%S}), "
            f"{self.table.num_rows:,} returned, {self.seconds:.2f} s>"
        )


def preview(
    plan: Plan,
    root: Path,
    start: Instant | None = None,
    end: Instant | None = None,
    entity: EntityFilter = None,
    limit: int | None = 1000,
) -> Preview:
    """Preview a feature (its per-event update log) or a samples definition.

    Args:
        plan: a feature's or a samples definition's (`Project.plan`).
        root: the project folder, where the catalog's relative paths start.
        start, end: the half-open range (UTC); by default the last day of data.
            Given only one of them, the range is one day from (or up to) it.
        entity: an entity filter. For a feature with one key: a value, or a list
            of values; with a composite key: a tuple with one value per key.
            Always possible: {column: value or list of values}. For samples the
            columns are the spine's.
        limit: the most rows to return (None: all). For samples it also bounds
            the work: only the first `limit` spine rows of the range are computed.

    Raises:
        FeaturesqlError: missing data, a bad filter or range.
    """
    if limit is not None and limit < 1:
        raise FeaturesqlError(f"limit must be a positive number of rows, not {limit}")
    began = time.perf_counter()
    con = connect()
    check_tables(con, plan.tables(), root)
    if isinstance(plan, SamplesPlan):
        return _samples(plan, root, con, start, end, entity, limit, began)
    return _feature(plan, root, con, start, end, entity, limit, began)


def _feature(
    plan: AggregatePlan, root: Path, con: duckdb.DuckDBPyConnection, start: Instant | None, end: Instant | None,
    entity: EntityFilter, limit: int | None, began: float,
) -> Preview:
    filters = entity_filter(plan.source, plan.keys, entity)
    lower, upper = slice_range(con, root, plan.source, start, end)
    narrowed = _with_filter(plan, filters)
    query = sql.compile_backfill(narrowed, root, lower, upper)
    order = ["event_time"] + list(plan.keys)
    table, total, summary = _run(con, query, order, limit)
    return Preview(
        name=plan.name, kind="feature", start=lower, end=upper, entity=filters, table=table, total_rows=total,
        summary=summary, value_columns=tuple(plan.output_columns), key_columns=tuple(plan.keys),
        time_column="event_time", limit=limit, seconds=time.perf_counter() - began, sql=query,
    )


def _samples(
    plan: SamplesPlan, root: Path, con: duckdb.DuckDBPyConnection, start: Instant | None, end: Instant | None,
    entity: EntityFilter, limit: int | None, began: float,
) -> Preview:
    spine = plan.spine
    if entity is not None and not isinstance(entity, Mapping):
        raise FeaturesqlError(f"samples {plan.name}: give the entity filter as {{column: value}} with spine columns")
    filters = entity_filter(spine, (), entity)
    lower, upper = slice_range(con, root, spine, start, end)
    order = [spine.time_column] + [c.name for c in spine.columns if c.name != spine.time_column]
    with tempfile.TemporaryDirectory(prefix="featuresql-preview-") as scratch:
        run = plan
        if filters or limit is not None:
            rows = _spine_subset(con, root, spine, lower, upper, entity_condition(spine, filters), order, limit, Path(scratch))
            run = plan.spine_reading(rows)
        query = sql.compile_samples(run, root, lower, upper)
        table, total, summary = _run(con, query, order, limit)
    values = tuple(c for part in plan.parts for c in part.output_columns)
    return Preview(
        name=plan.name, kind="samples", start=lower, end=upper, entity=filters, table=table,
        total_rows=total, summary=summary, value_columns=values, key_columns=tuple(c.name for c in spine.columns),
        time_column=spine.time_column, limit=limit, seconds=time.perf_counter() - began, sql=query,
    )


def _spine_subset(
    con: duckdb.DuckDBPyConnection, root: Path, spine: CatalogTable, lower: datetime, upper: datetime,
    condition: exp.Expr | None, order: list[str], limit: int | None, scratch: Path,
) -> str:
    """The spine rows to preview (filtered, first `limit` in time order), in a Parquet file of their own.

    A sample depends on its own spine row only, so computing samples for a
    subset of the spine gives exactly those rows of the full result. Writing
    the subset to a scratch Parquet file lets the compiled samples SQL run
    unchanged, and its features then window only the subset's entities.
    """
    time_col = sql.quote(spine.time_column)
    where = [f"{time_col} >= TIMESTAMP '{sql.timestamp_text(lower)}'", f"{time_col} < TIMESTAMP '{sql.timestamp_text(upper)}'"]
    if condition is not None:
        where.append(sql.render(condition))
    target = scratch / "spine.parquet"
    with engine_errors():
        con.execute(
            f"COPY (SELECT * FROM {sql.scan(spine, root)} WHERE {' AND '.join(where)} "
            f"ORDER BY {', '.join(sql.quote(c) for c in order)}" + (f" LIMIT {int(limit)}" if limit is not None else "")
            + f") TO {sql.sql_literal(str(target))} (FORMAT parquet)"
        ).fetchall()
    return str(target)


def entity_filter(table: CatalogTable, keys: Sequence[str], entity: EntityFilter) -> dict[str, tuple[Any, ...]]:
    """Normalise an entity filter to {column: values}, checking the columns exist."""
    if entity is None:
        return {}
    if isinstance(entity, Mapping):
        raw = dict(entity)
    elif len(keys) == 1:
        raw = {keys[0]: entity}
    elif isinstance(entity, (tuple, list)) and len(entity) == len(keys):
        raw = dict(zip(keys, entity))
    else:
        raise FeaturesqlError(f"the entity filter needs one value per key ({', '.join(keys)}), or {{column: value}}")
    filters: dict[str, tuple[Any, ...]] = {}
    for column, value in raw.items():
        if table.column(str(column)) is None:
            raise FeaturesqlError(f"entity filter: {table.name} has no column {column}")
        if keys and str(column).lower() not in {k.lower() for k in keys}:
            # Filtering a feature's events on anything but its keys would change the values shown.
            raise FeaturesqlError(f"entity filter: {column} is not a key of this feature (keys: {', '.join(keys)})")
        values = tuple(value) if isinstance(value, (list, tuple, set, frozenset)) else (value,)
        if not values:
            raise FeaturesqlError(f"entity filter: no value given for {column}")
        filters[table.column(str(column)).name] = values  # type: ignore[union-attr]
    return filters


def _literal(table: CatalogTable, column: str, value: Any) -> exp.Expr:
    column_type = table.column(column).type  # type: ignore[union-attr]
    if column_type.is_type(*_TEXT_TYPES):
        return exp.Literal.string(str(value))
    # A value typed in a notebook is text; the engine casts it to the key's type.
    return exp.cast(exp.Literal.string(str(value)), column_type)


def entity_condition(table: CatalogTable, filters: dict[str, tuple[Any, ...]]) -> exp.Expr | None:
    """`col IN (...) AND ...` for a normalised filter (see `entity_filter`), None when empty."""
    parts = [exp.column(c, quoted=True).isin(*(_literal(table, c, v) for v in values)) for c, values in filters.items()]
    return exp.and_(*parts) if parts else None


def _with_filter(plan: AggregatePlan, filters: dict[str, tuple[Any, ...]]) -> AggregatePlan:
    """The plan with the entity filter added to its WHERE: applied to events, before any window."""
    condition = entity_condition(plan.source, filters)
    if condition is None:
        return plan
    where = condition if plan.where is None else exp.and_(exp.paren(plan.where.copy()), condition)
    return dataclasses.replace(plan, where=where)


def slice_range(
    con: duckdb.DuckDBPyConnection, root: Path, table: CatalogTable, start: Instant | None, end: Instant | None
) -> tuple[datetime, datetime]:
    try:
        lower = parse_instant(start) if start is not None else None
        upper = parse_instant(end) if end is not None else None
    except ValueError as err:
        raise FeaturesqlError(str(err)) from None
    if lower is None and upper is None:
        last = _last_time(con, root, table)
        lower = datetime(last.year, last.month, last.day)
    if lower is None:
        lower = upper - DAY  # type: ignore[operator]
    if upper is None:
        upper = lower + DAY
    return run_range(lower, upper)  # the same checks as every run


def _last_time(con: duckdb.DuckDBPyConnection, root: Path, table: CatalogTable) -> datetime:
    with engine_errors():
        row = con.execute(f"SELECT max({sql.quote(table.time_column)}) FROM {sql.scan(table, root)}").fetchall()
    if not row or row[0][0] is None:
        raise FeaturesqlError(f"{table.file}: table {table.name} has no rows with a {table.time_column}")
    return row[0][0]


def _run(con: duckdb.DuckDBPyConnection, query: str, order: list[str], limit: int | None) -> tuple[pa.Table, int, pa.Table]:
    with engine_errors():
        con.execute(f"CREATE TEMP TABLE __preview AS {millisecond_timestamps(con, query)}").fetchall()
        total = con.execute("SELECT count(*) FROM __preview").fetchall()
        order_by = ", ".join(sql.quote(c) for c in order)
        rows = con.sql(
            f"SELECT * FROM __preview ORDER BY {order_by}" + (f" LIMIT {int(limit)}" if limit is not None else "")
        ).to_arrow_table()
        summary = _summary(con)
    return rows, int(total[0][0]) if total else 0, summary


def _summary(con: duckdb.DuckDBPyConnection) -> pa.Table:
    """Null share, min, mean and max of every column, in one aggregate query."""
    described = con.execute("DESCRIBE __preview").fetchall()
    selects = []
    for column, column_type, *_ in described:
        quoted = sql.quote(column)
        kind = str(column_type).upper()
        if kind == "BOOLEAN":
            mean = f"avg(CAST({quoted} AS DOUBLE))"  # the share of TRUE: a label's balance
        elif any(kind.startswith(t) for t in ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "U", "DOUBLE", "FLOAT", "DECIMAL", "REAL")):
            mean = f"avg(CAST({quoted} AS DOUBLE))"
        else:
            mean = "CAST(NULL AS DOUBLE)"
        selects.append(
            f"SELECT {sql.sql_literal(column)} AS column, {sql.sql_literal(kind)} AS type, "
            f"CASE WHEN count(*) = 0 THEN NULL ELSE 1 - count({quoted}) / count(*) END AS null_share, "
            f"CAST(min({quoted}) AS VARCHAR) AS min, {mean} AS mean, CAST(max({quoted}) AS VARCHAR) AS max "
            f"FROM __preview"
        )
    # UNION ALL of single-row aggregates keeps column order; DuckDB scans the table once per column,
    # which for a preview-sized temp table costs milliseconds.
    return con.sql("\nUNION ALL\n".join(selects)).to_arrow_table()
