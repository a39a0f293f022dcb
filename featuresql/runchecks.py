"""Checks every run makes, whatever engine computes it, on an embedded DuckDB connection.

Before a run: the files a plan reads exist and their columns agree with the
catalog (`check_tables`). After it: the rows the contract excludes (NULL time,
NULL key) are counted, so that nothing vanishes silently (`skipped_rows`,
`spine_counts`), and a yes/no label's rate is measured on what was written
(`label_rate`). The Flink engine runs the same checks as DuckDB's, with the
same messages, because both read the same files.
"""

from __future__ import annotations

import csv
import glob
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
from sqlglot import exp

from featuresql.compile import duckdb as sql
from featuresql.definitions import CatalogTable
from featuresql.diagnostics import FeaturesqlError
from featuresql.output import PARTITION_COLUMN
from featuresql.plan import AggregatePlan, SamplesPlan

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


def data_pattern(table: CatalogTable, root: Path) -> str:
    """The glob of a table's files: its 'path', relative to the project root unless absolute."""
    return table.data_path if Path(table.data_path).is_absolute() else str(root / table.data_path)


def check_tables(con: duckdb.DuckDBPyConnection, tables: Iterable[CatalogTable], root: Path) -> None:
    """`check_data` for each table, in order (the first problem is the error)."""
    for table in tables:
        check_data(con, table, root)


def check_data(con: duckdb.DuckDBPyConnection, table: CatalogTable, root: Path) -> None:
    """The table's files exist and their columns agree with the catalog, or one clear error."""
    pattern = data_pattern(table, root)
    if not glob.glob(pattern):
        raise FeaturesqlError(
            f"{table.file}: table {table.name} has no data files at '{table.data_path}' "
            f"(looked for {pattern}); run `featuresql generate` for the example data, or fix 'path'"
        )
    if table.format == "csv":
        # Rows are typed as they are read, and bad ones set aside (engines/csv_sources);
        # the header must match, since CSV columns are read by position.
        check_headers(table, root)
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
        described = con.execute(f"DESCRIBE SELECT * FROM {sql.scan(table, root)}").fetchall()
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


def check_headers(table: CatalogTable, root: Path) -> None:
    """Each CSV file's header names the catalog's columns in order (CSV columns are read by position)."""
    wanted = [c.name.lower() for c in table.columns]
    for path in sorted(glob.glob(data_pattern(table, root))):
        try:
            with open(path, newline="", encoding="utf-8-sig") as handle:
                header = next(csv.reader(handle), None)
        except (OSError, UnicodeDecodeError, csv.Error) as err:
            raise FeaturesqlError(f"{table.file}: cannot read the header of {path} (table {table.name}): {err}") from None
        if header is None:
            continue  # an empty file holds no rows
        if [name.strip().lower() for name in header] != wanted:
            raise FeaturesqlError(
                f"{table.file}: the header of {path} is ({', '.join(header)}), not the columns of table {table.name} "
                f"({', '.join(c.name for c in table.columns)}) in order; CSV columns are read by position"
            )


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


def skipped_rows(
    con: duckdb.DuckDBPyConnection, plan: AggregatePlan, root: Path, start: datetime, end: datetime
) -> dict[str, int]:
    """Rows that the contract excludes (NULL time, NULL key), counted so nothing vanishes silently."""
    time_col = sql.quote(plan.source.time_column)
    key_null = " OR ".join(f"{sql.quote(k)} IS NULL" for k in plan.keys)
    row = con.execute(
        f"SELECT count(*) FILTER (WHERE {time_col} IS NULL), "
        f"count(*) FILTER (WHERE {time_col} IS NOT NULL AND ({key_null}) "
        f"AND {time_col} >= TIMESTAMP '{sql.timestamp_text(start)}' AND {time_col} < TIMESTAMP '{sql.timestamp_text(end)}') "
        f"FROM {sql.scan(plan.source, root)}"
    ).fetchall()[0]
    assert row is not None
    return {f"{plan.source.name}: NULL {plan.source.time_column}": int(row[0]),
            f"{plan.source.name}: NULL key": int(row[1])}


def spine_counts(
    con: duckdb.DuckDBPyConnection, plan: SamplesPlan, root: Path, lower: datetime, upper: datetime
) -> tuple[dict[str, int], dict[str, int]]:
    """Spine rows skipped (NULL time) and kept with NULL values (a NULL key), by reason."""
    spine = plan.spine
    spine_time = sql.quote(spine.time_column)
    in_range = (
        f"{spine_time} >= TIMESTAMP '{sql.timestamp_text(lower)}' AND {spine_time} < TIMESTAMP '{sql.timestamp_text(upper)}'"
    )
    key_sets = {tuple(part.keys) for part in plan.parts}
    counters = [f"count(*) FILTER (WHERE {spine_time} IS NULL)"] + [
        f"count(*) FILTER (WHERE {in_range} AND ({' OR '.join(f'{sql.quote(k)} IS NULL' for k in keys)}))"
        for keys in sorted(key_sets)
    ]
    with engine_errors():
        found = con.execute(f"SELECT {', '.join(counters)} FROM {sql.scan(spine, root)}").fetchall()[0]
    skipped = {f"{spine.name}: NULL {spine.time_column}": int(found[0])}
    null_keyed = {f"NULL {', '.join(keys)}": int(count) for keys, count in zip(sorted(key_sets), found[1:])}
    return skipped, null_keyed


def label_rate(
    con: duckdb.DuckDBPyConnection, target: Path, label: AggregatePlan | None, counts: dict[date, int]
) -> float | None:
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
            f"{sql.sql_literal(str(target) + f'/{PARTITION_COLUMN}=*/*.parquet')}, hive_partitioning = true) "
            f"WHERE {PARTITION_COLUMN} IN ({days})"
        ).fetchall()[0]
    return float(row[0]) if row[0] is not None else None


def _is_boolean(con: duckdb.DuckDBPyConnection, target: Path, column: str) -> bool:
    """Only a yes/no label has a rate; a count label would print nonsense percentages."""
    described = con.execute(
        f"DESCRIBE SELECT {sql.quote(column)} FROM "
        f"read_parquet({sql.sql_literal(str(target) + f'/{PARTITION_COLUMN}=*/*.parquet')})"
    ).fetchall()
    return bool(described) and str(described[0][1]) == "BOOLEAN"
