"""Run compiled plans on Flink (PyFlink, a local mini-cluster) in streaming mode.

One TableEnvironment (one JVM) serves the whole process: starting one costs
seconds. Jobs read the catalog's files through Flink's filesystem source with
event-time watermarks, and write Parquet through Flink's filesystem sink into a
staging folder that `featuresql.output` publishes atomically, as for DuckDB.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from featuresql import connectors
from featuresql.compile import flink as sql
from featuresql.diagnostics import FeaturesqlError
from featuresql.engines import run_range
from featuresql.output import PARTITION_COLUMN, RunSummary, output_root, publish_staged, staged_run, write_errors
from featuresql.plan import AggregatePlan, Plan, SamplesPlan
from featuresql.runchecks import check_tables, connect, engine_errors, label_rate, skipped_rows, spine_counts
from featuresql.timeutil import Instant, days_between

_ENVIRONMENT: Any = None


def check_java() -> None:
    """Flink needs a JVM; say so in one line instead of a Py4J stack trace."""
    java_home = os.environ.get("JAVA_HOME")
    if shutil.which("java") is None and not (java_home and Path(java_home, "bin", "java").exists()):
        raise FeaturesqlError(
            "the Flink engine needs Java 17: install it (Debian: apt-get install openjdk-17-jre-headless) "
            "or set JAVA_HOME"
        )


def environment() -> Any:
    """The process's one streaming TableEnvironment (a local mini-cluster)."""
    global _ENVIRONMENT
    if _ENVIRONMENT is not None:
        return _ENVIRONMENT
    check_java()
    jars = connectors.jars_for("parquet", "kafka")
    try:
        from pyflink.table import EnvironmentSettings, TableEnvironment
    except ImportError as err:  # pragma: no cover - apache-flink is a dependency
        raise FeaturesqlError(f"the Flink engine needs apache-flink 2.3 (pip install apache-flink==2.3.0): {err}") from None
    env = TableEnvironment.create(EnvironmentSettings.in_streaming_mode())
    config = env.get_config()
    config.set("parallelism.default", os.environ.get("FEATURESQL_FLINK_PARALLELISM", "1"))
    config.set("pipeline.jars", ";".join(p.as_uri() for p in jars))
    config.set("table.local-time-zone", "UTC")
    # A watermark after every record: which rows are late then depends only on the
    # order rows arrive in, never on timing (docs/semantics.md section 7).
    config.set("pipeline.auto-watermark-interval", "0 ms")
    # No checkpoints for bounded runs: the filesystem sink commits every file when
    # its input ends, and waiting for a periodic checkpoint cost up to its interval.
    # `featuresql stream` (its own process) turns them on.
    _ENVIRONMENT = env
    return env


def _execute(env: Any, statement: str) -> Any:
    try:
        return env.execute_sql(statement)
    except Exception as err:  # Py4J wraps every Java exception in one Python type
        message = str(err).strip().splitlines()
        head = next((line for line in message if "Exception" in line), message[0] if message else repr(err))
        raise FeaturesqlError(f"Flink rejected the job: {head.strip()}") from None


def _flink_columns(env: Any, view: str) -> list[tuple[str, str]]:
    """(name, type) of a registered view, as Flink types it."""
    with _execute(env, f"DESCRIBE {sql.quote(view)}").collect() as rows:
        described = [(row[0], row[1]) for row in rows]
    # A rowtime keeps its marker in DESCRIBE output; a sink column is a plain TIMESTAMP(3).
    return [(name, kind.replace(" *ROWTIME*", "")) for name, kind in described]


def run_to_staging(job: sql.FlinkJob, staging: Path, late_dir: Path) -> dict[str, int]:
    """Run a job to completion: its rows as Parquet under `staging/dt=YYYY-MM-DD/`,
    each source's late rows under `late_dir/<source>/`. Returns the late counts.

    Each folder also gets `_schema.json`, the columns as Flink typed them, so that
    an output without rows still has its columns."""
    env = environment()
    statements, names = add_job(env, job, staging, late_dir)
    try:
        try:
            statements.execute().wait()
        except Exception as err:
            raise FeaturesqlError(f"the Flink job failed: {_first_line(err)}") from None
    finally:
        drop(env, names)
    # Flink names part files without an extension; readers (and DuckDB globs) expect `.parquet`.
    # The output's files keep their names until `output.publish_staged` publishes them, so
    # that no reader of the output folder reads them before.
    for path in parquet_files(late_dir):
        if path.suffix != ".parquet":
            path.rename(path.with_name(path.name + ".parquet"))
    return {source: rows_in(late_dir / source) for source, _ in job.late}


def add_job(
    env: Any, job: sql.FlinkJob, output: Path, late_dir: Path, rejected_dir: Path | None = None
) -> tuple[Any, list[str]]:
    """Register a job's sources, its Parquet output sink (day partitions under `output`)
    and one late-row sink per source (`late_dir/<source>/`), all in one statement set,
    so each source is scanned once and "late" means the same thing for both. A stream's
    rejected records go to one dead-letter sink per table (`rejected_dir/<table>/`).
    Returns the statement set and every name registered (for `drop`)."""
    suffix = uuid.uuid4().hex[:8]
    names: list[str] = list(job.source_names)
    try:
        for source in job.sources:
            _execute(env, source)
        statements = env.create_statement_set()
        targets = [(job.query, output, job.time_column)]
        targets += [(query, late_dir / source, None) for source, query in job.late]
        if job.rejected and rejected_dir is None:
            raise FeaturesqlError(f"the stream {job.name} sets bad records aside: it needs a dead-letter folder")
        targets += [(query, (rejected_dir or late_dir) / table, None) for table, _, query in job.rejected]
        for i, (query, folder, day_column) in enumerate(targets):
            view, sink = f"view_{i}_{suffix}", f"sink_{i}_{suffix}"
            names += [view, sink]
            statements.add_insert_sql(_register_sink(env, view, sink, query, folder, day_column))
    except BaseException:
        drop(env, names)
        raise
    return statements, names


def output_view(names: list[str]) -> str:
    """The view of the job's output rows among the names `add_job` registered."""
    return next(n for n in names if n.startswith("view_0_"))


def drop(env: Any, names: list[str]) -> None:
    """The environment lives as long as the process: leave no names behind."""
    views = set(env.list_temporary_views())
    for name in names:
        kind = "VIEW" if name in views else "TABLE"
        env.execute_sql(f"DROP TEMPORARY {kind} IF EXISTS {sql.quote(name)}")


def _first_line(err: Exception) -> str:
    """The Java exception's own message and its root cause, not Py4J's wrapper line."""
    lines = [line.strip() for line in str(err).strip().splitlines() if line.strip()]
    java = [line for line in lines if "Exception:" in line and not line.startswith("at ")]
    head = java[0] if java else (lines[0] if lines else repr(err))
    causes = [line for line in lines if line.startswith("Caused by:")]
    return head + (f" ({causes[-1]})" if causes and causes[-1] != head else "")


#: Parquet as DuckDB writes it: INT64 millisecond timestamps (not Flink's default
#: INT96), in UTC (not the JVM's time zone).
_PARQUET_OUT = (
    "'format' = 'parquet', 'parquet.write.int64.timestamp' = 'true', "
    "'parquet.timestamp.time.unit' = 'millis', 'parquet.utc-timezone' = 'true'"
)


def _register_sink(env: Any, view: str, sink: str, query: str, folder: Path, day_column: str | None) -> str:
    """A Parquet sink typed like the query (Flink's own typing, via DESCRIBE); returns the INSERT."""
    _execute(env, f"CREATE TEMPORARY VIEW {sql.quote(view)} AS\n{query}")
    columns = _flink_columns(env, view)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "_schema.json").write_text(json.dumps(columns))
    column_ddl = ",\n  ".join(f"{sql.quote(name)} {kind}" for name, kind in columns)
    names = ", ".join(sql.quote(name) for name, _ in columns)
    if day_column is None:
        _execute(env, (
            f"CREATE TEMPORARY TABLE {sql.quote(sink)} (\n  {column_ddl}\n) WITH (\n"
            f"  'connector' = 'filesystem',\n  'path' = '{folder.as_uri()}',\n  {_PARQUET_OUT}\n)"
        ))
        return f"INSERT INTO {sql.quote(sink)}\nSELECT {names} FROM {sql.quote(view)}"
    day = sql.quote(PARTITION_COLUMN)
    _execute(env, (
        f"CREATE TEMPORARY TABLE {sql.quote(sink)} (\n  {column_ddl},\n  {day} STRING\n) PARTITIONED BY ({day}) WITH (\n"
        f"  'connector' = 'filesystem',\n  'path' = '{folder.as_uri()}',\n  {_PARQUET_OUT},\n"
        "  'sink.rolling-policy.file-size' = '512MB'\n)"
    ))
    return (
        f"INSERT INTO {sql.quote(sink)}\nSELECT {names}, DATE_FORMAT({sql.quote(day_column)}, 'yyyy-MM-dd') AS {day}\n"
        f"FROM {sql.quote(view)}"
    )


def parquet_files(folder: Path) -> list[Path]:
    # Flink leaves hidden in-progress and marker files; only visible ones are committed data.
    return [p for p in folder.rglob("*") if p.is_file() and not p.name.startswith((".", "_"))] if folder.exists() else []


def rows_in(folder: Path) -> int:
    return sum(pq.ParquetFile(path).metadata.num_rows for path in parquet_files(folder))


#: Flink SQL types as Arrow types, for outputs without rows.
_ARROW_TYPES: dict[str, pa.DataType] = {
    "STRING": pa.string(), "BOOLEAN": pa.bool_(), "TINYINT": pa.int8(), "SMALLINT": pa.int16(),
    "INT": pa.int32(), "BIGINT": pa.int64(), "FLOAT": pa.float32(), "DOUBLE": pa.float64(),
    "DATE": pa.date32(), "TIMESTAMP(3)": pa.timestamp("ms"),
}  # fmt: skip


def _empty(staging: Path) -> pa.Table:
    schema_file = staging / "_schema.json"
    if not schema_file.exists():
        return pa.table({})
    fields = []
    for name, kind in json.loads(schema_file.read_text()):
        base = kind.replace(" NOT NULL", "").strip()
        if base.startswith("VARCHAR") or base.startswith("CHAR"):
            base = "STRING"
        fields.append(pa.field(name, _ARROW_TYPES.get(base, pa.string())))
    return pa.schema(fields).empty_table()


def read_staged(staging: Path) -> pa.Table:
    """The rows a job staged, with timestamps at the contract's millisecond precision."""
    files = parquet_files(staging)
    if not files:
        return _empty(staging)
    table = ds.dataset([str(f) for f in files], format="parquet", partitioning=None).to_table()
    return table.cast(pa.schema([
        pa.field(f.name, pa.timestamp("ms")) if pa.types.is_timestamp(f.type) else f for f in table.schema
    ]))


class Flink:
    """Flink on a local mini-cluster, bounded runs (see `featuresql.engines.Engine`);
    `featuresql stream` runs the same jobs unbounded (`flink_stream`)."""

    streams = True

    def compile(self, plan: Plan, root: Path, start: Instant, end: Instant, stream: bool = False) -> str:
        """The whole Flink job: source DDL, sink DDL, and the INSERTs of one statement set.

        `stream`: the job `featuresql stream` runs (the catalog's stream bindings, bad
        records set aside), with credentials masked, never read."""
        lower, upper = run_range(start, end)
        job = compile_job(plan, root, lower, upper, monitor="1 s" if stream else None, secrets=not stream)
        return job.text(sink=sql.sink_ddl_placeholder(job))

    def table(self, plan: Plan, root: Path, start: Instant, end: Instant) -> pa.Table:
        """A feature's update log or a samples definition's rows computed by Flink (same columns as DuckDB's)."""
        return run_table(plan, root, start, end).table

    def write(
        self, plans: Sequence[Plan], root: Path, start: Instant, end: Instant, out: Path, progress: bool = False
    ) -> list[RunSummary]:
        lower, upper = run_range(start, end, whole_days=True)
        out = output_root(out)
        con = connect()
        check_tables(con, {t.name.lower(): t for plan in plans for t in plan.tables()}.values(), root)
        return [
            _write_samples(con, plan, root, lower, upper, out) if isinstance(plan, SamplesPlan)
            else _write_feature(con, plan, root, lower, upper, out)
            for plan in plans
        ]


ENGINE = Flink()


def compile_job(
    plan: Plan, root: Path, lower: datetime, upper: datetime, staged: Mapping[str, Path] | None = None,
    monitor: str | None = None, secrets: bool = True,
) -> sql.FlinkJob:
    """The Flink job of a feature's update log or of a samples definition (a stream's with `monitor`)."""
    if isinstance(plan, SamplesPlan):
        return sql.compile_samples(plan, root, lower, upper, staged=staged, monitor=monitor, secrets=secrets)
    return sql.compile_backfill(plan, root, lower, upper, staged=staged, monitor=monitor, secrets=secrets)


def staged_job(
    plan: Plan, root: Path, lower: datetime, upper: datetime, folder: Path, limit: int | None = None
) -> sql.FlinkJob:
    """The job, reading a staged copy of its input events under `folder` (see `stage_inputs`)."""
    plain = compile_job(plan, root, lower, upper)
    staged = {reading.table.name.lower(): folder / reading.table.name for reading in plain.inputs}
    job = compile_job(plan, root, lower, upper, staged=staged)
    stage_inputs(root, job.inputs, staged, limit)
    return job


#: The one file per table a bounded run reads (under its staging folder).
STAGED_FILE = "events.parquet"


def stage_inputs(
    root: Path, inputs: tuple[sql.InputRange, ...], staged: Mapping[str, Path], limit: int | None = None
) -> None:
    """One Parquet file per table with the events a bounded run reads, in arrival order.

    Flink's filesystem source reads the files of a folder in no particular order,
    and in a stream the order of arrival decides which events are late. A bounded
    run therefore reads one file per table holding the catalog's files in name
    order, each in its own row order (docs/semantics.md section 7). DuckDB writes
    it, which also gives every column exactly the catalog's type (Flink's Parquet
    reader does not widen INT to BIGINT) and lets any catalog format be read.
    """
    from featuresql.compile import duckdb as batch_sql

    con = connect()
    con.execute("SET preserve_insertion_order = true")
    for reading in inputs:
        table = reading.table
        folder = staged[table.name.lower()]
        folder.mkdir(parents=True, exist_ok=True)
        columns = ", ".join(
            f"CAST({batch_sql.quote(c.name)} AS {batch_sql.stored_type(c.type)}) AS {batch_sql.quote(c.name)}"
            for c in table.columns
        )
        time = batch_sql.quote(table.time_column)
        conditions = [f"{time} IS NOT NULL"]
        if reading.lower is not None:
            conditions.append(f"{time} >= TIMESTAMP '{batch_sql.timestamp_text(reading.lower)}'")
        conditions.append(f"{time} {'<=' if reading.upper_inclusive else '<'} TIMESTAMP '{batch_sql.timestamp_text(reading.upper)}'")
        where = " AND ".join(conditions)
        scan = batch_sql.scan(table, root)
        if limit is not None:
            # The latest `limit` events (and their ties), still in arrival order.
            where += (
                f" AND {time} >= (SELECT min(t) FROM (SELECT {time} AS t FROM {scan} WHERE {where} "
                f"ORDER BY t DESC LIMIT {int(limit)}))"
            )
        target = batch_sql.sql_literal(str(folder / STAGED_FILE))
        with engine_errors():
            con.execute(f"COPY (SELECT {columns} FROM {scan} WHERE {where}) TO {target} (FORMAT parquet)")


@dataclass
class FlinkResult:
    """A job's output rows and the rows of each source it set aside as late."""

    table: pa.Table
    late: dict[str, pa.Table]

    @property
    def late_counts(self) -> dict[str, int]:
        return {source: rows.num_rows for source, rows in self.late.items()}


def run_table(plan: Plan, root: Path, start: Instant, end: Instant) -> FlinkResult:
    """A feature's update log or a samples definition's rows, computed by Flink, and its late rows."""
    lower, upper = run_range(start, end)
    check_tables(connect(), plan.tables(), root)
    with tempfile.TemporaryDirectory(prefix="featuresql-flink-") as tmp:
        job = staged_job(plan, root, lower, upper, Path(tmp) / "inputs")
        staging, late_dir = Path(tmp) / "out", Path(tmp) / "late"
        run_to_staging(job, staging, late_dir)
        return FlinkResult(read_staged(staging), {s: read_staged(late_dir / s) for s, _ in job.late})


def _publish(
    plan: Plan, root: Path, lower: datetime, upper: datetime, target: Path, out: Path
) -> tuple[dict[date, int], dict[str, int], float]:
    """Run a job and publish its day partitions atomically; keep its late rows in `out/late/<name>/`.

    The job's sink writes into a staging folder outside `target` (`output.staged_run`),
    under the same lock and crash recovery as DuckDB's runs."""
    began = time.perf_counter()
    with staged_run(target) as staging, tempfile.TemporaryDirectory(prefix="featuresql-flink-") as tmp:
        job = staged_job(plan, root, lower, upper, Path(tmp) / "inputs")
        late_dir = Path(tmp) / "late"
        late_counts = run_to_staging(job, staging, late_dir)
        counts = publish_staged(staging, days_between(lower, upper), target)
        # Late rows are kept for inspection (and for `verify`), replacing the last run's.
        for source in late_counts:
            kept = out / "late" / job.name / source
            with write_errors(kept):
                shutil.rmtree(kept, ignore_errors=True)
                if (late_dir / source).exists():
                    kept.parent.mkdir(parents=True, exist_ok=True)
                    shutil.move(str(late_dir / source), str(kept))
    return counts, late_counts, time.perf_counter() - began


def _write_feature(
    con: duckdb.DuckDBPyConnection, plan: AggregatePlan, root: Path, lower: datetime, upper: datetime, out: Path
) -> RunSummary:
    target = out / "features" / plan.name
    counts, late_counts, seconds = _publish(plan, root, lower, upper, target, out)
    return RunSummary(
        name=plan.name, kind="feature", out=target, rows=sum(counts.values()), partitions=len(counts),
        seconds=seconds, skipped_rows=skipped_rows(con, plan, root, lower, upper), late_rows=late_counts,
    )


def _write_samples(
    con: duckdb.DuckDBPyConnection, plan: SamplesPlan, root: Path, lower: datetime, upper: datetime, out: Path
) -> RunSummary:
    target = out / "samples" / plan.name
    counts, late_counts, seconds = _publish(plan, root, lower, upper, target, out)
    skipped, null_keyed = spine_counts(con, plan, root, lower, upper)
    return RunSummary(
        name=plan.name, kind="samples", out=target, rows=sum(counts.values()), partitions=len(counts),
        seconds=seconds, skipped_rows=skipped, null_key_rows=null_keyed, late_rows=late_counts,
        label_rate=label_rate(con, target, plan.label, counts),
    )
