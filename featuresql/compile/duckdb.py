"""DuckDB SQL for backfill and samples, from the engine-neutral plan.

The SQL shape lives in Jinja templates beside this module; this module
renders expressions and window frames. Frames are RANGE frames over integer
milliseconds (`__ts`), so boundaries are exact integers, never interval
arithmetic.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import jinja2
from sqlglot import exp

from featuresql.compile import bind_window, window_call
from featuresql.definitions import CatalogTable
from featuresql.plan import AggregatePlan, Measure, SamplesPlan
from featuresql.timeutil import Window

DIALECT = "duckdb"

_TEMPLATES = jinja2.Environment(
    loader=jinja2.FileSystemLoader(str(Path(__file__).parent / "templates")),
    undefined=jinja2.StrictUndefined,
    keep_trailing_newline=True,
)

def quote(name: str) -> str:
    return exp.to_identifier(name).sql(dialect=DIALECT)


def sql_literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def ms(value: datetime) -> int:
    """Epoch milliseconds of a naive UTC datetime."""
    return int((value - datetime(1970, 1, 1)).total_seconds() * 1000)


def timestamp_text(value: datetime) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]


def timestamp_literal(millis: int) -> str:
    return f"TIMESTAMP '{timestamp_text(datetime(1970, 1, 1) + timedelta(milliseconds=millis))}'"


def duckdb_type(column_type: exp.DataType) -> str:
    # DuckDB has no TIMESTAMP(p); millisecond precision is kept by the data itself.
    if column_type.is_type(exp.DType.TIMESTAMP, exp.DType.TIMESTAMP_MS):
        return "TIMESTAMP"
    return column_type.sql(dialect=DIALECT)


def stored_type(column_type: exp.DataType) -> str:
    """The type a column is written to Parquet with: the catalog's, timestamps at millisecond precision."""
    kind = duckdb_type(column_type)
    return "TIMESTAMP_MS" if kind == "TIMESTAMP" else kind


#: How every reader reads 'format' = 'csv': RFC 4180 in one fixed dialect, never
#: sniffed (a sniffer that turns quoting off reads `"u1` as a key), failing on a
#: malformed row; runs go through engines/csv_sources, which sets such rows aside.
CSV_DIALECT = "header = true, delim = ',', quote = '\"', escape = '\"', auto_detect = false, strict_mode = true"


def scan(table: CatalogTable, root: Path) -> str:
    """A table function reading the catalog table's files, all declared columns typed."""
    pattern = str((root / table.data_path).resolve()) if not Path(table.data_path).is_absolute() else table.data_path
    if table.format == "csv":
        columns = ", ".join(f"{sql_literal(c.name)}: {sql_literal(duckdb_type(c.type))}" for c in table.columns)
        return f"read_csv({sql_literal(pattern)}, {CSV_DIALECT}, columns = {{{columns}}})"
    return f"read_parquet({sql_literal(pattern)}, union_by_name = true)"


def render(node: exp.Expr) -> str:
    return node.sql(dialect=DIALECT)


def _frame(window: Window, mode: str) -> str:
    """The RANGE frame for a window, in integer ms.

    mode `update`: as of the event's own time + 1 ms (backfill update log);
    mode `point`: strictly before the query point; mode `label`: (t, t + h].
    """
    if mode == "label":
        return f"RANGE BETWEEN 1 FOLLOWING AND {window.millis} FOLLOWING"
    if mode == "update":
        lower = "UNBOUNDED PRECEDING" if window.is_lifetime else f"{(window.millis or 0) - 1} PRECEDING"
        return f"RANGE BETWEEN {lower} AND CURRENT ROW"
    lower = "UNBOUNDED PRECEDING" if window.is_lifetime else f"{window.millis} PRECEDING"
    return f"RANGE BETWEEN {lower} AND 1 PRECEDING"


def _window_name(window: Window) -> str:
    return f"w_{window.name}"


def _measure_column(measure: Measure, window: Window) -> str:
    return f"{measure.name}_{window.name}"


def _window_aggregate(measure: Measure, window: Window) -> str:
    call = window_call(measure, measure.aggregate.duckdb, measure.name, _window_name(window), duckdb_type)
    return f"{call} AS {_measure_column(measure, window)}"


def _seconds_since(argument: exp.Expr, as_of: exp.Expr) -> exp.Expr:
    # Whole seconds, rounded down, from the argument to the as-of time.
    return exp.maybe_parse(
        f"CAST(FLOOR((epoch_ms({render(as_of)}) - epoch_ms({render(argument)})) / 1000.0) AS BIGINT)",
        dialect=DIALECT,
    )


def _output_expression(plan: AggregatePlan, expression: exp.Expr, window: Window) -> str:
    return render(bind_window(plan, expression, window, _seconds_since))


def _events_query(
    plan: AggregatePlan,
    root: Path,
    lower_ms: int | None,
    upper_ms: int | None,
    upper_inclusive: bool = False,
    keys_from: str | None = None,
) -> str:
    """The source's events that feed the windows: keys, __ts, and one column per measure.

    `keys_from` names a relation (the spine) whose keys are the only ones asked
    about: events of other entities cannot reach any query point, so they are
    dropped before the (expensive) window pass.
    """
    time = quote(plan.source.time_column)
    conditions = [f"{time} IS NOT NULL"] + [f"{quote(k)} IS NOT NULL" for k in plan.keys]
    if keys_from is not None:
        key_list = ", ".join(quote(k) for k in plan.keys)
        conditions.append(f"({key_list}) IN (SELECT {key_list} FROM {keys_from})")
    if plan.where is not None:
        conditions.append(f"({render(plan.where)})")
    # Bounds compare the raw column with a literal so DuckDB can skip Parquet row groups.
    if upper_ms is not None:
        conditions.append(f"{time} {'<=' if upper_inclusive else '<'} {timestamp_literal(upper_ms)}")
    if lower_ms is not None:
        conditions.append(f"{time} >= {timestamp_literal(lower_ms)}")
    # DuckDB 2.0 takes epoch_ms() only of a microsecond TIMESTAMP; files written by
    # pandas hold nanoseconds, others milliseconds, so times are cast first.
    columns = [quote(k) for k in plan.keys] + [f"epoch_ms(CAST({time} AS TIMESTAMP)) AS __ts"]
    columns += [f"{_measure_input(m)} AS {m.name}" for m in plan.measures]
    return (
        "SELECT\n  " + ",\n  ".join(columns) + f"\nFROM {scan(plan.source, root)}\nWHERE " + "\n  AND ".join(conditions)
    )


def _windowed_columns(plan: AggregatePlan, mode: str) -> dict[str, list[str]]:
    """The window aggregates, the WINDOW clauses and the output columns of one plan."""
    key_list = ", ".join(quote(k) for k in plan.keys)
    return {
        "window_aggregates": [_window_aggregate(m, w) for w in plan.windows for m in plan.measures],
        "window_specs": [
            f"{_window_name(w)} AS (PARTITION BY {key_list} ORDER BY __ts {_frame(w, mode)})" for w in plan.windows
        ],
        "outputs": [
            f"{_output_expression(plan, o.expression, w)} AS {quote(plan.column_name(o, w))}"
            for o in plan.outputs
            for w in plan.windows
        ],
    }


def _measure_input(measure: Measure) -> str:
    value = render(measure.input)
    if measure.result_type.is_type(*exp.DataType.TEMPORAL_TYPES):
        return f"CAST({value} AS TIMESTAMP)"  # see the epoch_ms note in _events_query
    return value


def compile_backfill(plan: AggregatePlan, root: Path, start: datetime, end: datetime) -> str:
    """The per-event update log of one feature for events with start <= time < end."""
    longest = plan.longest_window_ms
    lower = ms(start) - longest if longest is not None else None
    key_list = ", ".join(quote(k) for k in plan.keys)
    return _TEMPLATES.get_template("duckdb_backfill.sql.j2").render(
        plan=plan,
        events=_events_query(plan, root, lower, ms(end)),
        key_list=key_list,
        **_windowed_columns(plan, "update"),
        start_ms=ms(start),
    ).strip() + "\n"


@dataclass(frozen=True)
class SamplesPart:
    """One feature (or the label) attached to the spine."""

    alias: str
    comment: str
    key_list: str
    spine_keys_not_null: str
    measure_names: list[str]
    null_measures: list[str]
    events: str
    window_aggregates: list[str]
    window_specs: list[str]
    outputs: list[str]


def _part(alias: str, plan: AggregatePlan, root: Path, start: datetime, end: datetime, label: bool) -> SamplesPart:
    key_list = ", ".join(quote(k) for k in plan.keys)
    if label:
        horizon = plan.windows[0].millis or 0
        events = _events_query(plan, root, ms(start) + 1, ms(end) + horizon, upper_inclusive=True, keys_from="spine")
        comment = f"label {plan.name}: events with t < time <= t + {plan.windows[0].name}"
        mode = "label"
    else:
        longest = plan.longest_window_ms
        events = _events_query(plan, root, ms(start) - longest if longest is not None else None, ms(end), keys_from="spine")
        comment = f"feature {plan.name}: events with t - w <= time < t"
        mode = "point"
    return SamplesPart(
        alias=alias,
        comment=comment,
        key_list=key_list,
        spine_keys_not_null=" AND ".join(f"{quote(k)} IS NOT NULL" for k in plan.keys),
        measure_names=[m.name for m in plan.measures],
        null_measures=[f"NULL AS {m.name}" for m in plan.measures],
        events=events,
        **_windowed_columns(plan, mode),
    )


def compile_samples(plan: SamplesPlan, root: Path, start: datetime, end: datetime) -> str:
    """Every spine row in [start, end) with its features as of t and its label over (t, t + h]."""
    spine = plan.spine
    parts = [_part(f"feature_{i}", feature, root, start, end, label=False) for i, feature in enumerate(plan.features)]
    if plan.label is not None:
        parts.append(_part("label", plan.label, root, start, end, label=True))
    # DuckDB 2.0 takes epoch_ms() only of a microsecond TIMESTAMP, so the spine's
    # time is TIMESTAMP inside and only the output is cast to millisecond precision.
    select_list = [
        f"CAST(spine.{quote(c.name)} AS TIMESTAMP_MS) AS {quote(c.name)}" if c.name == spine.time_column
        else f"spine.{quote(c.name)}"
        for c in spine.columns
    ]
    for part, attached in zip(parts, plan.parts):
        select_list += [f"{part.alias}.{quote(column)}" for column in attached.output_columns]
    spine_columns = [
        f"CAST({quote(c.name)} AS TIMESTAMP) AS {quote(c.name)}" if c.name == spine.time_column else quote(c.name)
        for c in spine.columns
    ]
    return _TEMPLATES.get_template("duckdb_samples.sql.j2").render(
        name=plan.name,
        spine_scan=scan(spine, root),
        spine_columns=spine_columns,
        spine_time=quote(spine.time_column),
        start=timestamp_text(start),
        end=timestamp_text(end),
        parts=parts,
        select_list=select_list,
    ).strip() + "\n"
