"""Run plans on embedded DuckDB: checks of the data, then SQL, then Parquet."""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

import duckdb
import pyarrow as pa
from tqdm import tqdm

from featuresql.compile import duckdb as sql
from featuresql.diagnostics import FeaturesqlError
from featuresql.engines import csv_sources, run_range
from featuresql.output import RunSummary, output_root, write_partitions
from featuresql.plan import AggregatePlan, Plan, SamplesPlan
from featuresql.runchecks import check_tables, connect, engine_errors, label_rate, skipped_rows, spine_counts
from featuresql.timeutil import Instant, days_between

#: Rows excluded from a feature's source, by (source, keys): features that share
#: both exclude the same rows, which a run counts once.
_Skipped = dict[tuple[str, tuple[str, ...]], dict[str, int]]


class DuckDB:
    """The embedded batch engine, the default (see `featuresql.engines.Engine`)."""

    streams = False

    def compile(self, plan: Plan, root: Path, start: Instant, end: Instant, stream: bool = False) -> str:
        if stream:
            raise FeaturesqlError("DuckDB runs bounded jobs only; the stream job is Flink's (--target flink-stream)")
        lower, upper = run_range(start, end)
        return compile_sql(plan, root, lower, upper)

    def table(self, plan: Plan, root: Path, start: Instant, end: Instant) -> pa.Table:
        lower, upper = run_range(start, end)
        con = connect()
        tables = plan.tables()
        check_tables(con, tables, root)
        with csv_sources.readable(con, tables, root) as sources:
            query = millisecond_timestamps(con, compile_sql(plan.reading(sources.staged), root, lower, upper))
            with engine_errors():
                rows = con.sql(query).to_arrow_table()
        sources.warn(tables)
        return rows

    def write(
        self, plans: Sequence[Plan], root: Path, start: Instant, end: Instant, out: Path, progress: bool = False
    ) -> list[RunSummary]:
        lower, upper = run_range(start, end, whole_days=True)
        out = output_root(out)
        con = connect()
        tables = list({t.name.lower(): t for plan in plans for t in plan.tables()}.values())
        check_tables(con, tables, root)  # each table once, all before any work
        skipped: _Skipped = {}
        with csv_sources.readable(con, tables, root) as sources:
            return [
                _write_samples(con, plan, root, sources, lower, upper, out) if isinstance(plan, SamplesPlan)
                else _write_feature(con, plan, root, sources, lower, upper, out, skipped)
                for plan in tqdm(plans, desc="backfill", unit="feature", disable=not progress)
            ]


ENGINE = DuckDB()


def compile_sql(plan: Plan, root: Path, lower: datetime, upper: datetime) -> str:
    """A feature's update log or a samples definition's rows, as one DuckDB query."""
    if isinstance(plan, SamplesPlan):
        return sql.compile_samples(plan, root, lower, upper)
    return sql.compile_backfill(plan, root, lower, upper)


def millisecond_timestamps(con: duckdb.DuckDBPyConnection, query: str) -> str:
    """Wrap `query` so every TIMESTAMP output is TIMESTAMP(3), as the contract types them.

    Casting inside the generated SQL is not an option: DuckDB 2.0 cannot take
    epoch_ms() of a TIMESTAMP_MS, which SECONDS_SINCE needs.
    """
    with engine_errors():
        described = con.execute(f"DESCRIBE {query}").fetchall()
    casts = [f"CAST({sql.quote(row[0])} AS TIMESTAMP_MS) AS {sql.quote(row[0])}" for row in described if str(row[1]) == "TIMESTAMP"]
    if not casts:
        return query
    return f"SELECT * REPLACE ({', '.join(casts)})\nFROM (\n{query}) AS result"


def _write_feature(
    con: duckdb.DuckDBPyConnection, plan: AggregatePlan, root: Path, sources: csv_sources.Sources,
    lower: datetime, upper: datetime, out: Path, skipped: _Skipped,
) -> RunSummary:
    """One feature's update log into `out/features/<name>/`, its rejected source rows into `out/rejected/<name>/`."""
    began = time.perf_counter()
    run = plan.reading(sources.staged)
    query = sql.compile_backfill(run, root, lower, upper)
    target = out / "features" / plan.name
    with engine_errors():
        counts = write_partitions(con, millisecond_timestamps(con, query), "event_time", days_between(lower, upper), target)
    sources.keep(out / "rejected" / plan.name, [plan.source])
    shared = (plan.source.name, plan.keys)
    if shared not in skipped:
        skipped[shared] = skipped_rows(con, run, root, lower, upper)
    return RunSummary(
        name=plan.name, kind="feature", out=target, rows=sum(counts.values()), partitions=len(counts),
        seconds=time.perf_counter() - began, skipped_rows=skipped[shared], rejected_rows=sources.counts([plan.source]),
    )


def _write_samples(
    con: duckdb.DuckDBPyConnection, plan: SamplesPlan, root: Path, sources: csv_sources.Sources,
    lower: datetime, upper: datetime, out: Path,
) -> RunSummary:
    """Samples into `out/samples/<name>/`, the rows its CSV tables rejected into `out/rejected/<name>/`."""
    run = plan.reading(sources.staged)
    query = sql.compile_samples(run, root, lower, upper)
    began = time.perf_counter()
    target = out / "samples" / plan.name
    with engine_errors():
        counts = write_partitions(con, millisecond_timestamps(con, query), plan.spine.time_column, days_between(lower, upper), target)
    tables = plan.tables()
    sources.keep(out / "rejected" / plan.name, tables)
    rate = label_rate(con, target, plan.label, counts)
    skipped, null_keyed = spine_counts(con, run, root, lower, upper)
    return RunSummary(
        name=plan.name, kind="samples", out=target, rows=sum(counts.values()),
        partitions=len(counts), seconds=time.perf_counter() - began, skipped_rows=skipped, label_rate=rate,
        null_key_rows=null_keyed, rejected_rows=sources.counts(tables),
    )
