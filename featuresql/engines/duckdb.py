"""Run compiled plans on embedded DuckDB: checks of the data, then SQL, then Parquet."""

from __future__ import annotations

import glob
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
from sqlglot import exp
from tqdm import tqdm

from featuresql.compile import duckdb as sql
from featuresql.definitions import CatalogTable
from featuresql.engines import csv_sources
from featuresql.diagnostics import FeaturesqlError
from featuresql.output import RunSummary, output_root, write_partitions
from featuresql.plan import AggregatePlan
from featuresql.engines import definition_tables, run_range
from featuresql.timeutil import days_between

if TYPE_CHECKING:
    from featuresql.project import Instant, Project

_INTEGER_WIDTH = {"TINYINT": 1, "SMALLINT": 2, "INTEGER": 4, "BIGINT": 8,
                  "UTINYINT": 1, "USMALLINT": 2, "UINTEGER": 4}
_TIMESTAMPS = ("TIMESTAMP", "TIMESTAMP_MS", "TIMESTAMP_NS", "TIMESTAMP_S")


def connect() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    # A progress bar from DuckDB itself would interleave with ours. Inside a Jupyter
    # kernel without ipywidgets DuckDB refuses the setting; the bar is off there anyway.
    try:
        con.execute("SET enable_progress_bar = false")
    except duckdb.Error:
        pass
    return con


def _compatible(con: duckdb.DuckDBPyConnection, actual: str, declared: exp.DataType) -> bool:
    # Ask DuckDB for its own name of the declared type (TEXT -> VARCHAR, INT -> INTEGER, ...).
    row = con.execute(f"SELECT typeof(CAST(NULL AS {sql.duckdb_type(declared)}))").fetchall()[0]
    expected = str(row[0]).upper() if row else ""
    actual = actual.upper()
    if actual == expected:
        return True
    if expected == "TIMESTAMP":
        return actual in _TIMESTAMPS
    if expected in _INTEGER_WIDTH and actual in _INTEGER_WIDTH:
        return _INTEGER_WIDTH[actual] <= _INTEGER_WIDTH[expected]
    if expected in ("DOUBLE", "FLOAT") and (actual in _INTEGER_WIDTH or actual in ("DOUBLE", "FLOAT")):
        return True
    return False


def check_data(con: duckdb.DuckDBPyConnection, project: "Project", table: CatalogTable) -> None:
    """The table's files exist and their columns agree with the catalog, or one clear error."""
    pattern = table.data_path if Path(table.data_path).is_absolute() else str(project.root / table.data_path)
    if not glob.glob(pattern):
        raise FeaturesqlError(
            f"{table.file}: table {table.name} has no data files at '{table.data_path}' "
            f"(looked for {pattern}); run `featuresql generate` for the example data, or fix 'path'"
        )
    if table.format == "csv":
        # Rows are typed as they are read, and bad ones set aside (csv_sources); the
        # header must match, since CSV columns are read by position.
        csv_sources.check_headers(project, table)
        return
    # Files are read by name (union_by_name), which would fill a column missing
    # from one file with NULLs: every file must have every catalog column.
    wanted = [c.name for c in table.columns]
    for path in sorted(glob.glob(pattern)):
        try:
            present = {name.lower() for name in pq.read_schema(path).names}
        except (OSError, pa.ArrowException) as err:
            raise FeaturesqlError(f"{table.file}: cannot read {path} (table {table.name}): {err}") from None
        missing = [name for name in wanted if name.lower() not in present]
        if missing:
            raise FeaturesqlError(
                f"{table.file}: column {missing[0]} of table {table.name} is missing from {path} "
                f"(matched by '{table.data_path}')"
            )
    try:
        described = con.execute(f"DESCRIBE SELECT * FROM {sql.scan(table, project.root)}").fetchall()
    except duckdb.Error as err:
        raise FeaturesqlError(f"{table.file}: cannot read data of table {table.name} at '{table.data_path}': {one_line(err)}") from None
    actual = {row[0].lower(): str(row[1]) for row in described}
    for column in table.columns:
        found = actual.get(column.name.lower())
        if found is None:
            raise FeaturesqlError(
                f"{table.file}: column {column.name} of table {table.name} is missing from the data at '{table.data_path}' "
                f"(the files have: {', '.join(sorted(actual))})"
            )
        if not _compatible(con, found, column.type):
            raise FeaturesqlError(
                f"{table.file}: column {column.name} of table {table.name} is {column.type.sql()} in the catalog "
                f"but {found} in the data at '{table.data_path}'"
            )


def skipped_rows(con: duckdb.DuckDBPyConnection, project: "Project", plan: AggregatePlan, start: datetime, end: datetime) -> dict[str, int]:
    """Rows that the contract excludes (NULL time, NULL key), counted so nothing vanishes silently."""
    time_col = sql.quote(plan.source.time_column)
    key_null = " OR ".join(f"{sql.quote(k)} IS NULL" for k in plan.keys)
    row = con.execute(
        f"SELECT count(*) FILTER (WHERE {time_col} IS NULL), "
        f"count(*) FILTER (WHERE {time_col} IS NOT NULL AND ({key_null}) "
        f"AND {time_col} >= TIMESTAMP '{sql.timestamp_text(start)}' AND {time_col} < TIMESTAMP '{sql.timestamp_text(end)}') "
        f"FROM {sql.scan(plan.source, project.root)}"
    ).fetchall()[0]
    assert row is not None
    return {f"{plan.source.name}: NULL {plan.source.time_column}": int(row[0]),
            f"{plan.source.name}: NULL key": int(row[1])}


def check_sources(con: duckdb.DuckDBPyConnection, project: "Project", name: str) -> None:
    """`check_data` for every table a definition reads."""
    for table in definition_tables(project, name):
        check_data(con, project, table)


def compile_definition(project: "Project", name: str, start: "Instant", end: "Instant") -> str:
    lower, upper = run_range(start, end)
    if name.lower() in {n.lower() for n in project.samples_names}:
        spine, features, label = project.samples_plans(name)
        return sql.compile_samples(name, spine, features, label, project.root, lower, upper)
    if name.lower() in {n.lower() for n in project.feature_names}:
        return sql.compile_backfill(project.feature_plan(name), project.root, lower, upper)
    known = ", ".join(project.feature_names + project.samples_names) or "none"
    raise FeaturesqlError(f"unknown feature or samples {name}; known: {known}")


def _samples_sql(
    project: "Project", name: str, lower: datetime, upper: datetime, sources: csv_sources.Sources
) -> tuple[CatalogTable, list[AggregatePlan], AggregatePlan | None, str]:
    """The samples query over the run's sources (CSV tables read from their typed copies)."""
    spine, features, label = project.samples_plans(name)
    spine, features = sources.table(spine), [sources.plan(p) for p in features]
    label = sources.plan(label) if label is not None else None
    return spine, features, label, sql.compile_samples(name, spine, features, label, project.root, lower, upper)


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


def _arrow(con: duckdb.DuckDBPyConnection, query: str) -> pa.Table:
    with engine_errors():
        return con.sql(millisecond_timestamps(con, query)).to_arrow_table()


@contextmanager
def engine_errors() -> Iterator[None]:
    """DuckDB failures while running data become one clear error, not a traceback."""
    try:
        yield
    except duckdb.Error as err:
        raise FeaturesqlError(f"DuckDB failed while running the job: {one_line(err)}") from None


def one_line(err: duckdb.Error) -> str:
    """DuckDB's message without its advice: the first line, and the file when it names one.

    Its errors run to 20-30 lines (a CSV error lists every reader option); a
    message of ours is one line."""
    lines = [line.strip() for line in str(err).splitlines() if line.strip()]
    head = lines[0] if lines else type(err).__name__
    named = next((line.split("=", 1)[1].strip() for line in lines if line.startswith("file =")), None)
    return f"{head} (file {named})" if named else head


def _is_boolean(con: duckdb.DuckDBPyConnection, target: Path, column: str) -> bool:
    """Only a yes/no label has a rate; a count label would print nonsense percentages."""
    described = con.execute(
        f"DESCRIBE SELECT {sql.quote(column)} FROM read_parquet({sql.sql_literal(str(target) + '/dt=*/*.parquet')})"
    ).fetchall()
    return bool(described) and str(described[0][1]) == "BOOLEAN"


def backfill_table(project: "Project", name: str, start: "Instant", end: "Instant") -> pa.Table:
    lower, upper = run_range(start, end)
    con = connect()
    plan = project.feature_plan(name)
    check_data(con, project, plan.source)
    with csv_sources.readable(con, project, [plan.source]) as sources:
        result = _arrow(con, sql.compile_backfill(sources.plan(plan), project.root, lower, upper))
    sources.warn([plan.source])
    return result


def samples_table(project: "Project", name: str, start: "Instant", end: "Instant") -> pa.Table:
    lower, upper = run_range(start, end)
    con = connect()
    project.samples_def(name)  # an unknown name fails first, listing the samples
    check_sources(con, project, name)
    tables = definition_tables(project, name)
    with csv_sources.readable(con, project, tables) as sources:
        *_, query = _samples_sql(project, name, lower, upper, sources)
        result = _arrow(con, query)
    sources.warn(tables)
    return result


def backfill(project: "Project", names: list[str], start: "Instant", end: "Instant", out: Path, progress: bool = False) -> list[RunSummary]:
    lower, upper = run_range(start, end, whole_days=True)
    out = output_root(out)
    con = connect()
    plans = [project.feature_plan(n) for n in names]  # all errors before any work
    tables = list({p.source.name: p.source for p in plans}.values())
    for table in tables:  # each source checked once
        check_data(con, project, table)
    skipped: dict[tuple[str, tuple[str, ...]], dict[str, int]] = {}
    with csv_sources.readable(con, project, tables) as sources:
        return [_backfill_one(con, project, plan, sources, lower, upper, out, skipped)
                for plan in tqdm(plans, desc="backfill", unit="feature", disable=not progress)]


def _backfill_one(
    con: duckdb.DuckDBPyConnection, project: "Project", plan: AggregatePlan, sources: csv_sources.Sources,
    lower: datetime, upper: datetime, out: Path, skipped: dict[tuple[str, tuple[str, ...]], dict[str, int]],
) -> RunSummary:
    """One feature's update log into `out/features/<name>/`, its rejected source rows into `out/rejected/<name>/`.

    `skipped` keeps the skipped-row counts of the run's features so far: features that
    share a source and keys exclude the same rows, and are counted once."""
    began = time.perf_counter()
    run = sources.plan(plan)
    query = sql.compile_backfill(run, project.root, lower, upper)
    target = out / "features" / plan.name
    with engine_errors():
        counts = write_partitions(con, millisecond_timestamps(con, query), "event_time", days_between(lower, upper), target)
    sources.keep(out / "rejected" / plan.name, [plan.source])
    if (plan.source.name, plan.keys) not in skipped:
        skipped[(plan.source.name, plan.keys)] = skipped_rows(con, project, run, lower, upper)
    return RunSummary(
        name=plan.name, kind="feature", out=target, rows=sum(counts.values()), partitions=len(counts),
        seconds=time.perf_counter() - began, skipped_rows=skipped[(plan.source.name, plan.keys)],
        rejected_rows=sources.counts([plan.source]),
    )


def samples(project: "Project", name: str, start: "Instant", end: "Instant", out: Path) -> RunSummary:
    lower, upper = run_range(start, end, whole_days=True)
    out = output_root(out)
    con = connect()
    samples_name = project.samples_def(name).name  # an unknown name fails first, listing the samples
    check_sources(con, project, name)
    tables = definition_tables(project, name)
    with csv_sources.readable(con, project, tables) as sources:
        spine, features, label, query = _samples_sql(project, name, lower, upper, sources)
        began = time.perf_counter()
        target = out / "samples" / samples_name
        with engine_errors():
            counts = write_partitions(con, millisecond_timestamps(con, query), spine.time_column, days_between(lower, upper), target)
        sources.keep(out / "rejected" / samples_name, tables)
        rate = label_rate(con, target, label, counts)
        skipped, null_keyed = spine_counts(con, project, spine, features, label, lower, upper)
    return RunSummary(
        name=samples_name, kind="samples", out=target, rows=sum(counts.values()),
        partitions=len(counts), seconds=time.perf_counter() - began, skipped_rows=skipped, label_rate=rate,
        null_key_rows=null_keyed, rejected_rows=sources.counts(tables),
    )


def label_rate(con: duckdb.DuckDBPyConnection, target: Path, label: AggregatePlan | None, counts: dict) -> float | None:
    """The share of TRUE labels over the days a run wrote (not whatever else the folder holds)."""
    label_column = label.output_columns[0] if label is not None else None
    if label_column is None or not counts:
        return None
    with engine_errors():
        if not _is_boolean(con, target, label_column):
            return None
        days = ", ".join(sql.sql_literal(day.isoformat()) for day in counts)
        row = con.execute(
            f"SELECT avg(CAST({sql.quote(label_column)} AS DOUBLE)) FROM read_parquet("
            f"{sql.sql_literal(str(target) + '/dt=*/*.parquet')}, hive_partitioning = true) WHERE dt IN ({days})"
        ).fetchall()[0]
    return float(row[0]) if row[0] is not None else None


def spine_counts(
    con: duckdb.DuckDBPyConnection, project: "Project", spine: CatalogTable, features: list[AggregatePlan],
    label: AggregatePlan | None, lower: datetime, upper: datetime,
) -> tuple[dict[str, int], dict[str, int]]:
    """Spine rows skipped (NULL time) and kept with NULL values (a NULL key), by reason."""
    spine_time = sql.quote(spine.time_column)
    in_range = (
        f"{spine_time} >= TIMESTAMP '{sql.timestamp_text(lower)}' AND {spine_time} < TIMESTAMP '{sql.timestamp_text(upper)}'"
    )
    key_sets = {tuple(plan.keys) for plan in features + ([label] if label else [])}
    counters = [f"count(*) FILTER (WHERE {spine_time} IS NULL)"] + [
        f"count(*) FILTER (WHERE {in_range} AND ({' OR '.join(f'{sql.quote(k)} IS NULL' for k in keys)}))"
        for keys in sorted(key_sets)
    ]
    with engine_errors():
        found = con.execute(f"SELECT {', '.join(counters)} FROM {sql.scan(spine, project.root)}").fetchall()[0]
    skipped = {f"{spine.name}: NULL {spine.time_column}": int(found[0])}
    null_keyed = {f"NULL {', '.join(keys)}": int(count) for keys, count in zip(sorted(key_sets), found[1:])}
    return skipped, null_keyed
