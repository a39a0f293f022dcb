"""Flink SQL for backfill (the per-event update log), from the engine-neutral plan.

The same plan as `compile/duckdb.py`, reshaped where Flink 2.3 differs. Each
quirk below was verified on Flink 2.3 and is handled here, in one place:
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from collections.abc import Callable, Mapping
from pathlib import Path

from sqlglot import exp

from featuresql.compile import AS_OF_COLUMN, bind_window, window_call
from featuresql.compile import flink_rejects as rejects
from featuresql.compile.duckdb import timestamp_text
from featuresql.compile.flink_connectors import data_directory, redacted, source_options, with_clause
from featuresql.compile.flink_dialect import flink_sql, interval
from featuresql.definitions import CatalogTable
from featuresql.diagnostics import Diagnostic, FeaturesqlError
from featuresql.output import PARTITION_COLUMN
from featuresql.plan import AggregatePlan, Measure, SamplesPlan
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
    # Sibling OVER subqueries that differ only in the RANGE constant are merged (CALCITE-6632): wrong values.
    "over_digest": "passes are nested, never siblings",
    # Two nested OVERs with no rename between get duplicate names w0$o0.. ("Field names must be unique").
    "window_output_names": "each pass lists its aggregates before `*`, so a renaming projection stays between passes",
    # OVER operators drop late rows by their own rules (per key, or by their own watermark), timing-dependent.
    "late_rows": "rows at or below CURRENT_WATERMARK are filtered right after the source, before any OVER, and set aside",
    # Watermarks are periodic in a live stream (timing decides lateness) and not kept in checkpoints.
    "stream_watermarks": "streams judge lateness by a running max of arrived event times per Kafka partition, "
                         "kept as state (see arrivals_view); it never passes Flink's own watermark",
    # An expression on a rowtime loses the time attribute ("Non-time attribute sort ...").
    "shifted_rowtime": "query points at t - 1 ms and label points at t + h are computed columns of their own source DDL",
    # OVER has no FOLLOWING frames in streaming.
    "no_following": "a label is a query point at t + h looking back h - 1 ms, joined to the features at that exact offset",
    # Rows of other features in one OVER chain would crowd a NULL key partition (quadratic retraction scans).
    "null_key_partition": "each feature gets its own chain over its events and the spine rows that carry its keys",
}

#: The computed, never-NULL event-time column every source gets (see null_rowtime).
ROWTIME = "__rowtime"
#: In a stream, the watermark before each row, computed from state (see arrivals_view).
MARK = "__mark"

def quote(name: str) -> str:
    return flink_sql(exp.to_identifier(name, quoted=True))


def render(node: exp.Expr) -> str:
    return flink_sql(node, identify=True)


def flink_type(column_type: exp.DataType) -> str:
    return flink_sql(column_type)


def source_name(table: CatalogTable, role: str = "src") -> str:
    return f"{role}_{table.name}"


def source_ddl(
    table: CatalogTable, root: Path, role: str = "src", shift_ms: int = 0, staged: Path | None = None,
    monitor: str | None = None, name: str | None = None, reject_keys: tuple[str, ...] = (), secrets: bool = True,
) -> str:
    """The catalog table as a Flink filesystem source, with its WATERMARK.

    The watermark is on a computed copy of the event time, `__rowtime`, moved by
    `shift_ms`: query points of samples sit at t - 1 ms and label points at
    t + h, and only a computed column of the DDL can carry a shifted rowtime.

    A stream source (`monitor` set) reads the catalog's stream binding and
    computes `__reject`, why a record is set aside (see `flink_rejects`);
    `reject_keys` are the key columns every reader of the table needs. With
    `secrets=False` (to print the job) no credential is read, and every
    credential-like option is masked.
    """
    pattern = Path(table.data_path).name
    directory = staged or data_directory(table, root)
    if staged is None and monitor is None and (table.format != "parquet" or (any(ch in pattern for ch in "*?[") and pattern != "*.parquet")):
        # Flink reads a whole directory; only `dir/*.parquet` means the same files in both engines.
        raise FeaturesqlError([Diagnostic(
            table.file, *table.path_at, "FS131",
            f"the Flink engine reads Parquet from 'dir/*.parquet' paths only (table {table.name} has "
            f"'{table.data_path}', format {table.format}); this table runs on DuckDB only for now",
        )])
    columns = [f"  {quote(c.name)} {flink_type(c.type)}" for c in table.columns]
    delay = f" - {interval(table.watermark_delay_ms)}" if table.watermark_delay_ms else ""
    rowtime = quote(ROWTIME)
    shift = ""
    if shift_ms:
        shift = f" {'+' if shift_ms > 0 else '-'} {interval(abs(shift_ms))}"
    if monitor is not None:
        # Bad records are set aside (flink_rejects): its columns include the Kafka metadata,
        # `__partition` among them, which the arrivals view partitions by.
        columns = rejects.source_columns(table, table.stream_binding(), reject_keys, rowtime, shift)
        columns.append(f"  {quote('__arrival')} AS PROCTIME()")
    else:
        columns.append(f"  {rowtime} AS COALESCE({quote(table.time_column)}, TIMESTAMP '1970-01-01 00:00:00.000'){shift}")
    columns.append(f"  WATERMARK FOR {rowtime} AS {rowtime}{delay}")
    body = ",\n".join(columns)
    if monitor is not None:
        # A stream reads what the catalog binds for streaming ('stream.*' options):
        # Kafka, or the folder of the table's files watched for new ones.
        found = source_options(table, root, monitor_interval=monitor, resolve_secrets=secrets)
        options = with_clause(found if secrets else redacted(found))
    else:
        options = with_clause({
            "connector": "filesystem",
            "path": directory.as_uri(),
            "format": "parquet",
            # Without it Flink reads Parquet timestamps in the JVM's time zone,
            # whatever table.local-time-zone says; the contract's times are UTC.
            "parquet.utc-timezone": "true",
        })
    return f"CREATE TEMPORARY TABLE {quote(name or source_name(table, role))} (\n{body}\n) WITH (\n{options}\n)"


def arrivals_view(table: CatalogTable, role: str = "src") -> str:
    """A stream source as a view whose rows carry `__mark`, the watermark they arrived after.

    The contract's watermark is the largest event time that arrived before a row,
    less the delay (docs/semantics.md section 7). A live source emits watermarks
    periodically, so CURRENT_WATERMARK would make lateness depend on timing, and
    Flink keeps no watermark in a checkpoint, so a resumed job would judge the
    first rows after a restart by a watermark that starts over. Here the
    running maximum is an aggregate over arrival order (processing time), kept
    in state and restored with it: which rows are late depends only on the order
    of arrival, per Kafka partition (whose order Kafka fixes). Flink's own
    watermark never passes it (it is the minimum over partitions, and behind),
    so the windows never drop a row this lets through.
    """
    rowtime = quote(ROWTIME)
    partition = f"PARTITION BY {quote('__partition')} " if table.stream_binding().is_kafka else ""
    order = f"{partition}ORDER BY {quote('__arrival')}"
    seen = f"MAX({rowtime}) OVER ({order} ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)"
    delay = table.watermark_delay_ms
    # Rejected records are left out before the OVER: they never reach the running maximum
    # (their rowtime is the epoch too, so neither does Flink's watermark), and no query
    # over the view sees them; the dead-letter query reads the source table itself.
    source = f"{quote(arrivals_source(table, role))}\nWHERE {rejects.accepted()}"
    # Only what the queries read goes on: not the raw message, its metadata or `__reject`,
    # which the OVER would otherwise keep in state and ship with every row.
    kept = [quote(c.name) for c in table.columns] + [rowtime, quote("__arrival")]
    if table.stream_binding().is_kafka:
        kept.insert(-1, quote("__partition"))
    columns = ", ".join(kept)
    if delay:
        # With a delay, max(earlier) - d and max(earlier and this row) - d make the
        # same rows late: a row that raises the maximum is above both.
        query = f"SELECT {columns}, {seen} - {interval(delay)} AS {quote(MARK)}\nFROM {source}"
    else:
        # Without one, a row that ties the maximum is late but one that raises it is not: the previous maximum.
        query = (
            f"SELECT *, LAG({quote('__seen')}) OVER ({order}) AS {quote(MARK)}\n"
            f"FROM (\nSELECT {columns}, {seen} AS {quote('__seen')}\nFROM {source}\n)"
        )
    return f"CREATE TEMPORARY VIEW {quote(source_name(table, role))} AS\n{query}"


def arrivals_source(table: CatalogTable, role: str = "src") -> str:
    """The name of a stream's source table, under its arrivals view `<role>_<table>`."""
    return "in_" + source_name(table, role)


def source_statements(
    table: CatalogTable, root: Path, role: str = "src", shift_ms: int = 0, staged: Path | None = None,
    monitor: str | None = None, reject_keys: tuple[str, ...] = (), secrets: bool = True,
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(statements, names) that make `<role>_<table>` readable: the source table, and
    in a stream the arrivals view over it (see arrivals_view); `reject_keys` and
    `secrets` as in source_ddl."""
    name = source_name(table, role)
    if monitor is None:
        return (source_ddl(table, root, role, shift_ms, staged),), (name,)
    table_name = arrivals_source(table, role)
    ddl = source_ddl(table, root, role, shift_ms, staged, monitor, name=table_name, reject_keys=reject_keys,
                     secrets=secrets)
    return (ddl, arrivals_view(table, role)), (name, table_name)


def _watermark(stream: bool) -> str:
    """The watermark before a row: Flink's in bounded runs (one after every row), state in streams."""
    return quote(MARK) if stream else f"CURRENT_WATERMARK({quote(ROWTIME)})"


def on_time(stream: bool = False) -> str:
    """Not late (docs/semantics.md section 7): after the watermark from before this row.

    Filtered right after the source, before any OVER: Flink's OVER operators drop
    late rows by their own rules (per key, or by their own watermark), which
    would make the result depend on timing.
    """
    mark = _watermark(stream)
    return f"({mark} IS NULL OR {quote(ROWTIME)} > {mark})"


def late(stream: bool = False) -> str:
    return f"{quote(ROWTIME)} <= {_watermark(stream)}"


def _late_query(table: CatalogTable, role: str, conditions: list[str], stream: bool = False) -> str:
    """The rows of one source the job sets aside as late, with the watermark they missed."""
    columns = ", ".join(quote(c.name) for c in table.columns)
    return (
        f"SELECT {columns}, {_watermark(stream)} AS {quote('__watermark')}\n"
        f"FROM {quote(source_name(table, role))}\nWHERE " + "\n  AND ".join([*conditions, late(stream)])
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
class InputRange:
    """The events of one table a job reads: lower <= time (None: all history), time < or <= upper."""

    table: CatalogTable
    lower: datetime | None
    upper: datetime
    upper_inclusive: bool

    def conditions(self) -> list[str]:
        # A stream's rejected records never get here: its arrivals view keeps only accepted ones.
        time = quote(ROWTIME)
        found = [f"{quote(self.table.time_column)} IS NOT NULL"]
        if self.lower is not None:
            found.append(f"{time} >= TIMESTAMP '{timestamp_text(self.lower)}'")
        found.append(f"{time} {'<=' if self.upper_inclusive else '<'} TIMESTAMP '{timestamp_text(self.upper)}'")
        return found

    def union(self, other: "InputRange") -> "InputRange":
        lower = None if self.lower is None or other.lower is None else min(self.lower, other.lower)
        upper, inclusive = max((self.upper, self.upper_inclusive), (other.upper, other.upper_inclusive))
        return InputRange(self.table, lower, upper, inclusive)


def feature_range(plan: AggregatePlan, start: datetime, end: datetime) -> InputRange:
    # Windows reach back from start by the longest window; a lifetime window to the beginning.
    longest = plan.longest_window_ms
    lower = start - timedelta(milliseconds=longest) if longest is not None else None
    return InputRange(plan.source, lower, end, False)


def label_range(plan: AggregatePlan, start: datetime, end: datetime) -> InputRange:
    # Labels look forward: (t, t + h] for start <= t < end.
    return InputRange(plan.source, start, end + timedelta(milliseconds=plan.windows[0].millis or 0), True)


@dataclass(frozen=True)
class FlinkJob:
    """The statements of one Flink job: sources, the query whose rows are the
    output, and per source the query of the rows set aside as late."""

    name: str
    sources: tuple[str, ...]
    query: str
    source_names: tuple[str, ...] = ()
    #: (source name, query of its late rows), one per source.
    late: tuple[tuple[str, str], ...] = ()
    #: The output column whose day names the output partition.
    time_column: str = "event_time"
    #: features | samples: the output folder under `out/`.
    kind: str = "features"
    #: The events each table contributes (bounded runs stage exactly these).
    inputs: tuple[InputRange, ...] = ()
    #: Streams: (table, source, query of its rejected records), one per table, read from
    #: the one source of the table whose records the run counts (see `dead_letters`).
    rejected: tuple[tuple[str, str, str], ...] = ()

    def text(self, sink: str | None = None) -> str:
        parts = [f"-- featuresql flink job: {self.name}", *(s + ";" for s in self.sources)]
        if sink is None:
            parts.append(self.query + ";")
            return "\n\n".join(parts) + "\n"
        parts.append(sink + ";")
        inserts = [f"INSERT INTO {quote('sink')}\n{self.query};"]
        for source, query in self.late:
            parts.append(
                f"-- rows of {source} that arrived at or below the watermark (docs/semantics.md section 7)\n"
                f"CREATE TEMPORARY TABLE {quote('late_' + source)} (...) WITH (\n"
                f"  'connector' = 'filesystem', 'path' = '<staging>/late/{source}', 'format' = 'parquet'\n);"
            )
            inserts.append(f"INSERT INTO {quote('late_' + source)}\n{query};")
        for table, source, query in self.rejected:
            parts.append(
                f"-- records of {table} set aside as bad, with the reason (docs/semantics.md section 4)\n"
                f"CREATE TEMPORARY TABLE {quote('rejected_' + table)} (...) WITH (\n"
                f"  'connector' = 'filesystem', 'path' = '<out>/rejected/{self.name}/{table}', 'format' = 'parquet'\n);"
            )
            inserts.append(f"INSERT INTO {quote('rejected_' + table)}\n{query};")
        # One statement set: the late rows and the output come from the same scan of each source.
        parts.append("EXECUTE STATEMENT SET BEGIN\n\n" + "\n\n".join(inserts) + "\n\nEND;")
        return "\n\n".join(parts) + "\n"


def compile_backfill(
    plan: AggregatePlan, root: Path, start: datetime, end: datetime, staged: Mapping[str, Path] | None = None,
    monitor: str | None = None, secrets: bool = True,
) -> FlinkJob:
    """The per-event update log of one feature for events with start <= time < end.

    `staged` maps table names to folders holding a staged copy of their events
    (see `featuresql.engines.flink.stage_inputs`); otherwise the catalog's files are read.
    """
    time = quote(ROWTIME)
    stream = monitor is not None
    keys = ", ".join(quote(k) for k in plan.keys)
    reads = feature_range(plan, start, end)
    in_range = reads.conditions()
    conditions = [*in_range, on_time(stream)] + [f"{quote(k)} IS NOT NULL" for k in plan.keys]
    if plan.where is not None:
        conditions.append(f"({render(plan.where)})")
    inputs = [f"{render(m.input)} AS {quote(m.name)}" for m in plan.measures]
    query = (
        f"SELECT {keys}, {time}, " + ", ".join(inputs) + f"\nFROM {quote(source_name(plan.source))}\nWHERE "
        + "\n  AND ".join(conditions)
    )
    query = _over_passes(query, plan, keys, time, _measure_column)
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
    name = source_name(plan.source)
    statements, names = source_statements(plan.source, root, staged=_staged(staged, plan.source), monitor=monitor,
                                           reject_keys=plan.keys, secrets=secrets)
    return FlinkJob(
        plan.name, statements, final, names,
        late=((name, _late_query(plan.source, "src", in_range, stream)),), inputs=(reads,),
        rejected=dead_letters([(plan.source, "src")]) if stream else (),
    )


def dead_letters(sources: list[tuple[CatalogTable, str]]) -> tuple[tuple[str, str, str], ...]:
    """One dead-letter query per table, from the first of its (table, role) sources: a table
    read in several roles (events, spine, label points) is consumed once per role, and counted
    once. It reads the source table `in_<role>_<table>` itself: the arrivals view over it
    keeps only accepted records (see arrivals_view)."""
    chosen: dict[str, tuple[str, str, str]] = {}
    for table, role in sources:
        if table.name.lower() not in chosen:
            source = arrivals_source(table, role)
            chosen[table.name.lower()] = (table.name, source, rejects.dead_letter_query(table, table.stream_binding(), source))
    return tuple(chosen.values())


def reject_keys(table: CatalogTable, readers: list[tuple[str, ...]]) -> tuple[str, ...]:
    """The key columns a record of `table` needs to reach any window of the job: those
    every reader has (a spine reader has none: its NULL-key rows still make samples)."""
    if not readers:
        return ()
    common = [k for k in readers[0] if all(k.lower() in {r.lower() for r in other} for other in readers[1:])]
    return tuple(common)


def _over_passes(
    query: str, plan: AggregatePlan, partition: str, order: str, column: Callable[[Measure, Window], str]
) -> str:
    """One OVER pass per window over `query`, nested: each adds its measures' columns to the same rows.

    Nested, never siblings (CALCITE-6632), and aggregates before `*`, so that a
    renaming projection stays between passes (see QUIRKS)."""
    for window in plan.windows:
        aggregates = ", ".join(
            window_call(m, m.aggregate.flink, quote(m.name), "w", _union_type) + f" AS {quote(column(m, window))}"
            for m in plan.measures
        )
        query = (
            f"SELECT {aggregates}, *\nFROM (\n{query}\n)\n"
            f"WINDOW w AS (PARTITION BY {partition} ORDER BY {order} {_frame_update(window)})"
        )
    return query


def _staged(staged: Mapping[str, Path] | None, table: CatalogTable) -> Path | None:
    return staged.get(table.name.lower()) if staged else None


def _known_type(column_type: exp.DataType, what: str) -> str:
    """A type the Flink union can declare, or a clear error when sqlglot could not infer one."""
    if column_type.is_type(exp.DType.UNKNOWN):
        raise FeaturesqlError(f"the Flink engine cannot tell the type of {what}; cast it in the definition")
    return _union_type(column_type)


def _union_type(column_type: exp.DataType) -> str:
    # Timestamps stay at the contract's millisecond precision (plain TIMESTAMP is (6) in Flink).
    if column_type.is_type(exp.DType.TIMESTAMP, exp.DType.DATETIME):
        return "TIMESTAMP(3)"
    return flink_type(column_type)


def _aggregate_type(measure: Measure) -> str:
    """The type of a measure's window aggregate: its result type (`window_call` casts to it)."""
    return _known_type(measure.result_type, f"{measure.aggregate.key}({render(measure.input)})")


@dataclass(frozen=True)
class _Part:
    """A feature or the label of a samples job; its columns carry a prefix so all can share a row."""

    prefix: str
    plan: AggregatePlan
    is_label: bool

    def column(self, measure: Measure, window: Window) -> str:
        return f"{self.prefix}{measure.name}_{window.name}"

    def columns(self) -> list[tuple[str, str]]:
        """(name, type) of every windowed measure."""
        return [(self.column(m, w), _aggregate_type(m)) for w in self.plan.windows for m in self.plan.measures]

    def key_type(self, key: str) -> exp.DataType:
        return next(c.type for c in self.plan.source.columns if c.name.lower() == key.lower())


def _points_query(spine: CatalogTable, role: str, ranges: list[str], stream: bool = False) -> str:
    """A spine role's rows, each numbered among identical rows (`__dseq`): the number is
    what pairs the feature values and the label of one sample when the spine repeats a row."""
    names = ", ".join(quote(c.name) for c in spine.columns)
    time = quote(ROWTIME)
    return (
        f"SELECT {names}, {time} AS {quote('__rt')},\n"
        f"  COUNT(*) OVER (PARTITION BY {names} ORDER BY {time} ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) "
        f"AS {quote('__dseq')}\nFROM {quote(source_name(spine, role))}\nWHERE " + "\n  AND ".join([*ranges, on_time(stream)])
    )


def _part_chain(part: _Part, points: str, reading: InputRange, spine: CatalogTable, stream: bool = False) -> str:
    """One feature (or the label) over the union of its events and the spine's query points.

    Only the feature's own events and the spine rows with all its keys take part:
    a spine row with a NULL key gets NULLs anyway (section 6), and leaving it out
    keeps a NULL-key partition from piling up state. Nested OVER passes, one per
    window, add the measure columns; the query points' rows are returned.
    """
    plan = part.plan
    time, rt = quote(ROWTIME), quote("__rt")
    spine_columns = [(c.name, _union_type(c.type)) for c in spine.columns]
    keys = [f"{quote(f'__k{i}')}" for i in range(len(plan.keys))]
    event_columns = [f"FALSE AS {quote('__point')}", f"{time} AS {rt}"]
    event_columns += [f"CAST(NULL AS {kind}) AS {quote(name)}" for name, kind in spine_columns]
    event_columns.append(f"CAST(NULL AS BIGINT) AS {quote('__dseq')}")
    point_columns = [f"TRUE AS {quote('__point')}", rt, *(quote(name) for name, _ in spine_columns), quote("__dseq")]
    for index, key in enumerate(plan.keys):
        key_type = _union_type(part.key_type(key))
        event_columns.append(f"CAST({quote(key)} AS {key_type}) AS {keys[index]}")
        point_columns.append(f"CAST({quote(key)} AS {key_type}) AS {keys[index]}")
    for measure in plan.measures:
        value_type = _known_type(measure.input_type, f"{render(measure.input)} in {plan.name}")
        event_columns.append(f"CAST({render(measure.input)} AS {value_type}) AS {quote(measure.name)}")
        point_columns.append(f"CAST(NULL AS {value_type}) AS {quote(measure.name)}")
    event_filter = [*reading.conditions(), on_time(stream), *(f"{quote(k)} IS NOT NULL" for k in plan.keys)]
    if plan.where is not None:
        event_filter.append(f"({render(plan.where)})")
    query = (
        "SELECT " + ",\n  ".join(event_columns) + f"\nFROM {quote(source_name(plan.source))}\nWHERE "
        + "\n  AND ".join(event_filter)
        + "\nUNION ALL\nSELECT " + ",\n  ".join(point_columns) + f"\nFROM {points}\nWHERE "
        + " AND ".join(f"{quote(k)} IS NOT NULL" for k in plan.keys)
    )
    # Feature points sit at t - 1 ms, so the frame (w - 1 ms) back is [t - w, t);
    # label points at t + h, so it is [t + 1 ms, t + h] = (t, t + h].
    query = _over_passes(query, plan, ", ".join(keys), rt, part.column)
    selected = [rt, *(quote(name) for name, _ in spine_columns), quote("__dseq"), *(quote(n) for n, _ in part.columns())]
    return "SELECT " + ", ".join(selected) + f"\nFROM (\n{query}\n)\nWHERE {quote('__point')}"


def _outputs(part: _Part, spine: CatalogTable, qualifier: str, keys_from: str = "f") -> list[str]:
    """The part's user columns from its measure columns (of relation `qualifier`), as of
    the spine time t; the spine's keys are tested on relation `keys_from`."""
    columns = []
    keys_present = " AND ".join(f"{keys_from}.{quote(k)} IS NOT NULL" for k in part.plan.keys)
    for output in part.plan.outputs:
        for window in part.plan.windows:
            bound = bind_window(part.plan, output.expression, window, _seconds_since).transform(
                lambda node: exp.column(part.prefix + node.name)
                if isinstance(node, exp.Column) and node.name.startswith("__m") else node
            ).transform(
                lambda node: exp.column(spine.time_column)
                if isinstance(node, exp.Column) and node.name == AS_OF_COLUMN else node
            )
            # Every column reference of the expression belongs to one side of the join.
            text = render(bound.transform(
                lambda node: exp.column(node.name, table=qualifier) if isinstance(node, exp.Column) else node
            ))
            # A NULL spine key gets NULL, not an empty-window value (section 6).
            columns.append(f"CASE WHEN {keys_present} THEN {text} END AS {quote(part.plan.column_name(output, window))}")
    return columns


def compile_samples(
    plan: SamplesPlan,
    root: Path,
    start: datetime,
    end: datetime,
    staged: Mapping[str, Path] | None = None,
    monitor: str | None = None,
    secrets: bool = True,
) -> FlinkJob:
    """Every spine row in [start, end) with its features as of t and its label over (t, t + h].

    Each spine row becomes a query point at t - 1 ms (the `spine` source) and, with
    a label, one at t + h (the `label` source). Each feature is computed over the
    union of its own events and the query points (nested OVER passes, one per
    window), so a query point's window holds exactly the contract's events. The
    features' rows of one spine row meet in a 1 ms TUMBLE window at t - 1 ms and
    are grouped into one row; a LEFT interval join at the exact offset h + 1 ms
    then adds the label.
    """
    name, spine, label = plan.name, plan.spine, plan.label
    parts = [_Part(f"__f{i}", feature, False) for i, feature in enumerate(plan.features)]
    label_part = _Part("__l", label, True) if label is not None else None
    horizon = (label.windows[0].millis or 0) if label is not None else 0
    spine_list = ", ".join(quote(c.name) for c in spine.columns)
    spine_time = quote(spine.time_column)

    # Which events each source contributes: from the earliest any feature looks
    # back to, up to end (features) or end + h (the label).
    stream = monitor is not None
    reads = _merge_inputs([
        label_range(part.plan, start, end) if part.is_label else feature_range(part.plan, start, end)
        for part in [*parts, *([label_part] if label_part else [])]
    ])
    readers: dict[str, list[tuple[str, ...]]] = {spine.name.lower(): [()]}
    for part in [*parts, *([label_part] if label_part else [])]:
        readers.setdefault(part.plan.source.name.lower(), []).append(part.plan.keys)
    spine_ranges = [
        f"{spine_time} IS NOT NULL",
        f"{spine_time} >= TIMESTAMP '{timestamp_text(start)}'",
        f"{spine_time} < TIMESTAMP '{timestamp_text(end)}'",
    ]

    sources: list[str] = []
    source_names: list[str] = []
    late: list[tuple[str, str]] = []
    read: list[tuple[CatalogTable, str]] = []
    for reading in reads.values():
        statements, names = source_statements(
            reading.table, root, staged=_staged(staged, reading.table), monitor=monitor,
            reject_keys=reject_keys(reading.table, readers[reading.table.name.lower()]), secrets=secrets,
        )
        sources += statements
        source_names += names
        read.append((reading.table, "src"))
        late.append((source_name(reading.table), _late_query(reading.table, "src", reading.conditions(), stream)))
    roles = [("spine", -1)] + ([("label", horizon)] if label is not None else [])
    for role, shift in roles:
        statements, names = source_statements(spine, root, role, shift, staged=_staged(staged, spine), monitor=monitor,
                                              secrets=secrets)
        sources += statements
        source_names += names
        read.append((spine, role))
        late.append((source_name(spine, role), _late_query(spine, role, spine_ranges, stream)))

    ctes = [f"{quote('points')} AS (\n-- the spine's rows as feature query points at t - 1 ms\n"
            f"{_points_query(spine, 'spine', spine_ranges, stream)}\n)"]
    measure_columns = [column for part in parts for column in part.columns()]
    branches = [
        # Every spine row once with no values, so that a row whose keys are all NULL is kept too.
        "SELECT " + ", ".join([quote("__rt"), spine_list, quote("__dseq")]
                              + [f"CAST(NULL AS {kind}) AS {quote(n)}" for n, kind in measure_columns])
        + f"\nFROM {quote('points')}"
    ]
    for index, part in enumerate(parts):
        cte = f"feature_{index}"
        ctes.append(f"{quote(cte)} AS (\n-- feature {part.plan.name}: events with t - w <= time < t\n"
                    f"{_part_chain(part, quote('points'), reads[part.plan.source.name.lower()], spine, stream)}\n)")
        own = {n for n, _ in part.columns()}
        branches.append(
            "SELECT " + ", ".join([quote("__rt"), spine_list, quote("__dseq")] + [
                quote(n) if n in own else f"CAST(NULL AS {kind}) AS {quote(n)}" for n, kind in measure_columns
            ]) + f"\nFROM {quote(cte)}"
        )
    ctes.append(f"{quote('feature_rows')} AS (\n" + "\nUNION ALL\n".join(branches) + "\n)")
    # One row per sample: the branches' rows of a spine row share its time t - 1 ms,
    # so a 1 ms window groups them; each measure column is non-NULL in at most one.
    grouped = (
        "SELECT " + ", ".join(
            [f"{quote('window_time')} AS {quote('__rt')}", spine_list, quote("__dseq")]
            + [f"MAX({quote(n)}) AS {quote(n)}" for n, _ in measure_columns]
        )
        + f"\nFROM TABLE(TUMBLE(TABLE {quote('feature_rows')}, DESCRIPTOR({quote('__rt')}), INTERVAL '0.001' SECOND))\n"
        + f"GROUP BY {quote('window_start')}, {quote('window_end')}, {quote('window_time')}, {spine_list}, {quote('__dseq')}"
    )
    ctes.append(f"{quote('samples_features')} AS (\n{grouped}\n)")
    feature_outputs = [column for part in parts for column in _outputs(part, spine, "f")]
    spine_select = [f"f.{quote(c.name)}" for c in spine.columns]
    if label_part is None:
        final = "SELECT " + ",\n  ".join([*spine_select, *feature_outputs]) + f"\nFROM {quote('samples_features')} AS f"
    else:
        label_points = f"{quote('label_points')}"
        ctes.append(f"{label_points} AS (\n-- the spine's rows as label query points at t + h\n"
                    f"{_points_query(spine, 'label', spine_ranges, stream)}\n)")
        ctes.append(f"{quote('label_rows')} AS (\n-- label {label_part.plan.name}: events with t < time <= t + h\n"
                    f"{_part_chain(label_part, label_points, reads[label_part.plan.source.name.lower()], spine, stream)}\n)")
        same_row = [f"f.{quote(c.name)} IS NOT DISTINCT FROM l.{quote(c.name)}" for c in spine.columns]
        offset = interval(horizon + 1)
        # l's columns are NULL when no label row matched (a NULL label key): keys are tested on f.
        label_outputs = _outputs(label_part, spine, "l", keys_from="f")
        final = (
            "SELECT " + ",\n  ".join([*spine_select, *feature_outputs, *label_outputs])
            + f"\nFROM {quote('samples_features')} AS f\nLEFT JOIN {quote('label_rows')} AS l\nON "
            + "\n  AND ".join([*same_row, f"f.{quote('__dseq')} = l.{quote('__dseq')}",
                               f"l.{quote('__rt')} BETWEEN f.{quote('__rt')} + {offset} AND f.{quote('__rt')} + {offset}"])
        )
    query = "WITH " + ",\n".join(ctes) + "\n" + final
    return FlinkJob(
        name, tuple(sources), query, tuple(source_names), tuple(late), time_column=spine.time_column, kind="samples",
        inputs=tuple(_merge_inputs([*reads.values(), InputRange(spine, start, end, False)]).values()),
        rejected=dead_letters(read) if stream else (),
    )


def _merge_inputs(ranges: list[InputRange]) -> dict[str, InputRange]:
    """One range per table (by lowered name): the union of what each reader of it needs."""
    merged: dict[str, InputRange] = {}
    for reading in ranges:
        key = reading.table.name.lower()
        merged[key] = merged[key].union(reading) if key in merged else reading
    return merged


def sink_ddl_placeholder(job: FlinkJob) -> str:
    """The sink as `compile` prints it. At run time the sink's column types are
    taken from Flink's own typing of the query (DESCRIBE), so they always match."""
    return (
        f"-- the sink's columns are the query's, as Flink types them, plus the day partition {quote(PARTITION_COLUMN)};\n"
        f"-- <staging> is a run's folder beside <out>, whose days are swapped into <out>/{job.kind}/{job.name} when it ends\n"
        f"CREATE TEMPORARY TABLE {quote('sink')} (...) PARTITIONED BY ({quote(PARTITION_COLUMN)}) WITH (\n"
        f"  'connector' = 'filesystem', 'path' = '<staging>', 'format' = 'parquet'\n)"
    )
