"""Flink SQL for backfill (the per-event update log), from the engine-neutral plan.

The same plan as `compile/duckdb.py`, reshaped where Flink 2.3 differs. Each
quirk below was verified on Flink 2.3 and is handled here, in one place:
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlglot import exp

from featuresql.compile import AGGREGATE_CALLS, bind_window
from featuresql.compile.duckdb import timestamp_text
from featuresql.compile.flink_dialect import Flink
from featuresql.definitions import CatalogTable
from featuresql.diagnostics import FeaturesqlError
from featuresql.plan import AggregatePlan, Measure
from featuresql.timeutil import Window

#: Flink 2.3 quirks and what we do about each.
QUIRKS: dict[str, str] = {
    # "Cannot generate a valid execution plan" for two RANGE lengths in one SELECT.
    "one_range_per_select": "each window length gets its own OVER pass; passes are nested, so rows stay 1:1",
    # "OVER must be applied to aggregate function" for COUNT(*) FILTER (...) OVER.
    "no_filter_over": "FILTER is already a CASE in the plan's measure inputs",
    # Integer `/` truncates in Flink; the contract says real division.
    "integer_division": "the plan casts every numerator to DOUBLE and guards the denominator with NULLIF",
    # Reserved words (position, value, ...) are common column names.
    "reserved_words": "every identifier is quoted with backticks",
    # A NULL rowtime fails the job ("RowTime field should not be null").
    "null_rowtime": "the watermark is on a computed non-NULL copy of the event time; NULL-time rows are filtered out",
}

#: The computed, never-NULL event-time column every source gets (see null_rowtime).
ROWTIME = "__rowtime"

def quote(name: str) -> str:
    return exp.to_identifier(name, quoted=True).sql(dialect=Flink)


def render(node: exp.Expr) -> str:
    return node.sql(dialect=Flink, identify=True)


def flink_type(column_type: exp.DataType) -> str:
    return column_type.sql(dialect=Flink)


def interval(millis: int) -> str:
    """A DAY TO SECOND(3) interval literal for exactly `millis` milliseconds."""
    days, rest = divmod(millis, 86_400_000)
    hours, rest = divmod(rest, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    seconds, ms = divmod(rest, 1_000)
    return f"INTERVAL '{days} {hours:02d}:{minutes:02d}:{seconds:02d}.{ms:03d}' DAY TO SECOND(3)"


def source_name(table: CatalogTable) -> str:
    return f"src_{table.name}"


def data_directory(table: CatalogTable, root: Path) -> Path:
    """Flink's filesystem source reads a directory; the catalog's path is a glob in one."""
    path = Path(table.data_path)
    path = path if path.is_absolute() else root / path
    while any(ch in path.name for ch in "*?["):
        path = path.parent
    return path.resolve()


def source_ddl(table: CatalogTable, root: Path) -> str:
    """The catalog table as a Flink filesystem source, with its WATERMARK."""
    pattern = Path(table.data_path).name
    if table.format != "parquet" or (any(ch in pattern for ch in "*?[") and pattern != "*.parquet"):
        # Flink reads a whole directory; only `dir/*.parquet` means the same files in both engines.
        raise FeaturesqlError(
            f"{table.file}: the Flink engine reads Parquet from 'dir/*.parquet' paths only "
            f"(table {table.name} has '{table.data_path}', format {table.format})"
        )
    columns = [f"  {quote(c.name)} {flink_type(c.type)}" for c in table.columns]
    delay = f" - {interval(table.watermark_delay_ms)}" if table.watermark_delay_ms else ""
    rowtime = quote(ROWTIME)
    columns.append(f"  {rowtime} AS COALESCE({quote(table.time_column)}, TIMESTAMP '1970-01-01 00:00:00.000')")
    columns.append(f"  WATERMARK FOR {rowtime} AS {rowtime}{delay}")
    body = ",\n".join(columns)
    return (
        f"CREATE TEMPORARY TABLE {quote(source_name(table))} (\n{body}\n) WITH (\n"
        f"  'connector' = 'filesystem',\n  'path' = 'file://{data_directory(table, root)}',\n"
        f"  'format' = '{table.format}'"
        # Without it Flink reads Parquet timestamps in the JVM's time zone, whatever
        # table.local-time-zone says; the contract's times are UTC.
        + (",\n  'parquet.utc-timezone' = 'true'" if table.format == "parquet" else "")
        + "\n)"
    )


def _frame_update(window: Window) -> str:
    # As of the event's time + 1 ms: [t + 1 - w, t], peers at t included (RANGE).
    if window.is_lifetime:
        return "RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW"
    return f"RANGE BETWEEN {interval((window.millis or 0) - 1)} PRECEDING AND CURRENT ROW"


def _measure_column(measure: Measure, window: Window) -> str:
    return f"{measure.name}_{window.name}"


def _seconds_since(argument: exp.Expr, as_of: exp.Expr) -> exp.Expr:
    # Whole seconds. TIMESTAMPDIFF truncates toward zero, which is the contract's
    # rounding down only when the argument is not after the as-of time (true for
    # event times; a future-dated column would differ: to do). It returns INT; the
    # contract says BIGINT.
    return exp.cast(exp.Anonymous(this="TIMESTAMPDIFF", expressions=[exp.var("SECOND"), argument, as_of]), "BIGINT")


def _output_expression(plan: AggregatePlan, expression: exp.Expr, window: Window) -> str:
    return render(bind_window(plan, expression, window, _seconds_since))


@dataclass(frozen=True)
class FlinkJob:
    """The statements of one Flink job: sources, then the query whose rows are the output."""

    name: str
    sources: tuple[str, ...]
    query: str
    source_names: tuple[str, ...] = ()

    def text(self, sink: str | None = None) -> str:
        parts = [f"-- featuresql flink job: {self.name}", *(s + ";" for s in self.sources)]
        if sink:
            parts.append(sink + ";")
            parts.append(f"INSERT INTO {quote('sink')}\n{self.query};")
        else:
            parts.append(self.query + ";")
        return "\n\n".join(parts) + "\n"


def compile_backfill(plan: AggregatePlan, root: Path, start: datetime, end: datetime) -> FlinkJob:
    """The per-event update log of one feature for events with start <= time < end."""
    time = quote(ROWTIME)
    keys = ", ".join(quote(k) for k in plan.keys)
    conditions = [f"{quote(plan.source.time_column)} IS NOT NULL"] + [f"{quote(k)} IS NOT NULL" for k in plan.keys]
    if plan.where is not None:
        conditions.append(f"({render(plan.where)})")
    conditions.append(f"{time} < TIMESTAMP '{timestamp_text(end)}'")
    longest = plan.longest_window_ms
    if longest is not None:
        conditions.append(f"{time} >= TIMESTAMP '{timestamp_text(start)}' - {interval(longest)}")
    inputs = [f"{render(m.input)} AS {quote(m.name)}" for m in plan.measures]
    query = (
        f"SELECT {keys}, {time}, " + ", ".join(inputs) + f"\nFROM {quote(source_name(plan.source))}\nWHERE "
        + "\n  AND ".join(conditions)
    )
    # One OVER pass per window length, nested: each adds its columns to the same rows.
    for window in plan.windows:
        aggregates = ", ".join(
            AGGREGATE_CALLS[m.func].format(x=quote(m.name)) + f" OVER w AS {quote(_measure_column(m, window))}"
            for m in plan.measures
        )
        query = (
            f"SELECT *, {aggregates}\nFROM (\n{query}\n)\n"
            f"WINDOW w AS (PARTITION BY {keys} ORDER BY {time} {_frame_update(window)})"
        )
    outputs = [
        f"{_output_expression(plan, o.expression, w)} AS {quote(plan.column_name(o, w))}"
        for o in plan.outputs
        for w in plan.windows
    ]
    final = (
        f"SELECT {keys}, CAST({time} AS TIMESTAMP(3)) AS {quote('event_time')},\n  " + ",\n  ".join(outputs)
        + f"\nFROM (\nSELECT *, {time} + INTERVAL '0.001' SECOND AS {quote('__asof')}\nFROM (\n{query}\n)\n)\n"
        + f"WHERE {time} >= TIMESTAMP '{timestamp_text(start)}'"
    )
    return FlinkJob(plan.name, (source_ddl(plan.source, root),), final, (source_name(plan.source),))


def sink_ddl_placeholder(plan: AggregatePlan) -> str:
    """The sink as `compile` prints it. At run time the sink's column types are
    taken from Flink's own typing of the query (DESCRIBE), so they always match."""
    return (
        f"-- columns: {', '.join(plan.keys)}, event_time, {', '.join(plan.output_columns)}, dt\n"
        f"CREATE TEMPORARY TABLE {quote('sink')} (...) PARTITIONED BY (`dt`) WITH (\n"
        "  'connector' = 'filesystem', 'path' = '<out>/features/" + plan.name + "/.staging-<id>', 'format' = 'parquet'\n)"
    )
