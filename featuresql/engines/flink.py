"""Run compiled plans on Flink (PyFlink, a local mini-cluster) in streaming mode.

One TableEnvironment (one JVM) serves the whole process: starting one costs
seconds. Jobs read the catalog's files through Flink's filesystem source with
event-time watermarks, and write Parquet through Flink's filesystem sink into a
staging folder that `featuresql.output` publishes atomically, as for DuckDB.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.dataset as ds

from featuresql import connectors
from featuresql.compile import flink as sql
from featuresql.diagnostics import FeaturesqlError
from featuresql.output import RunSummary, publish_staged
from featuresql.engines import run_range
from featuresql.timeutil import days_between

if TYPE_CHECKING:
    from featuresql.project import Instant, Project

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
    # The filesystem sink commits files on checkpoints; the final checkpoint at the
    # end of a bounded input commits the last ones. Frequent checkpoints slowed a
    # small backfill six-fold (241 s at 2 s vs 41 s), so the interval is long.
    config.set("execution.checkpointing.interval", "60 s")
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


def run_to_staging(job: sql.FlinkJob, time_column: str, staging: Path) -> None:
    """Run a job to completion, its rows written as Parquet under `staging/dt=YYYY-MM-DD/`."""
    env = environment()
    suffix = uuid.uuid4().hex[:8]
    view, sink = f"job_{suffix}", f"sink_{suffix}"
    try:
        _run_registered(env, job, time_column, staging, view, sink)
    finally:
        # The environment lives as long as the process: leave no names behind.
        env.execute_sql(f"DROP TEMPORARY VIEW IF EXISTS {sql.quote(view)}")
        for table in (sink, *job.source_names):
            env.execute_sql(f"DROP TEMPORARY TABLE IF EXISTS {sql.quote(table)}")


def _run_registered(env: Any, job: sql.FlinkJob, time_column: str, staging: Path, view: str, sink: str) -> None:
    for source in job.sources:
        _execute(env, source)
    _execute(env, f"CREATE TEMPORARY VIEW {sql.quote(view)} AS\n{job.query}")
    columns = _flink_columns(env, view)
    column_ddl = ",\n  ".join(f"{sql.quote(name)} {kind}" for name, kind in columns)
    _execute(env, (
        f"CREATE TEMPORARY TABLE {sql.quote(sink)} (\n  {column_ddl},\n  `dt` STRING\n) PARTITIONED BY (`dt`) WITH (\n"
        f"  'connector' = 'filesystem',\n  'path' = '{staging.as_uri()}',\n  'format' = 'parquet',\n"
        "  'sink.rolling-policy.file-size' = '512MB'\n)"
    ))
    names = ", ".join(sql.quote(name) for name, _ in columns)
    result = _execute(env, (
        f"INSERT INTO {sql.quote(sink)}\nSELECT {names}, DATE_FORMAT({sql.quote(time_column)}, 'yyyy-MM-dd') AS `dt`\n"
        f"FROM {sql.quote(view)}"
    ))
    try:
        result.wait()
    except Exception as err:
        raise FeaturesqlError(f"the Flink job failed: {str(err).strip().splitlines()[0]}") from None


def read_staged(staging: Path) -> pa.Table:
    """The rows a job staged, with timestamps at the contract's millisecond precision."""
    files = [p for p in staging.glob("dt=*/*") if p.is_file() and not p.name.startswith((".", "_"))]
    if not files:
        return pa.table({})
    table = ds.dataset([str(f) for f in files], format="parquet").to_table()
    fields = []
    for field in table.schema:
        fields.append(pa.field(field.name, pa.timestamp("ms")) if pa.types.is_timestamp(field.type) else field)
    return table.cast(pa.schema(fields))


def compile_definition(project: "Project", name: str, start: "Instant", end: "Instant") -> str:
    """The whole Flink job for a feature's update log: source DDL, sink DDL, INSERT."""
    lower, upper = run_range(start, end)
    if name.lower() in {n.lower() for n in project.samples_names}:
        raise FeaturesqlError(
            f"{name} is a samples definition: the Flink engine runs feature update logs so far; "
            "samples on Flink are not implemented yet (use --target duckdb)"
        )
    job = sql.compile_backfill(project.feature_plan(name), project.root, lower, upper)
    return job.text(sink=sql.sink_ddl_placeholder(project.feature_plan(name)))


def backfill_table(project: "Project", name: str, start: "Instant", end: "Instant") -> pa.Table:
    """A feature's update log computed by Flink, as an Arrow table (same columns as DuckDB's)."""
    lower, upper = run_range(start, end)
    plan = project.feature_plan(name)
    job = sql.compile_backfill(plan, project.root, lower, upper)
    with tempfile.TemporaryDirectory(prefix="featuresql-flink-") as tmp:
        staging = Path(tmp) / "out"
        run_to_staging(job, "event_time", staging)
        return read_staged(staging)


def backfill(project: "Project", names: list[str], start: "Instant", end: "Instant", out: Path) -> list[RunSummary]:
    lower, upper = run_range(start, end, whole_days=True)
    summaries = []
    for name in names:
        plan = project.feature_plan(name)
        job = sql.compile_backfill(plan, project.root, lower, upper)
        target = out / "features" / plan.name
        target.mkdir(parents=True, exist_ok=True)
        began = time.perf_counter()
        staging = target / f".staging-{uuid.uuid4().hex}"
        try:
            run_to_staging(job, "event_time", staging)
            counts = publish_staged(staging, days_between(lower, upper), target)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        summaries.append(RunSummary(
            name=plan.name, kind="feature", out=target, rows=sum(counts.values()),
            partitions=len(counts), seconds=time.perf_counter() - began,
        ))
    return summaries
