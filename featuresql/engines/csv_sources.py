"""CSV sources of bounded DuckDB runs: read once, each row typed or set aside with its reason.

A catalog table with `'format' = 'csv'` is read with one fixed dialect,
RFC 4180 as Flink's csv format reads it by default: commas, double quotes, a
quote doubled inside a quoted value, and a header row naming the catalog's
columns in order. It is not sniffed: when the rows DuckDB samples hold a stray
quote, its sniffer turns quoting off, and then `"u29046` is read as a user id
(an event silently moved to another key).

A row DuckDB cannot read in that dialect (a stray or unclosed quote, too many
or too few fields, a value the column's type cannot hold, bytes that are not
UTF-8) is rejected, as a stream rejects a bad record (docs/semantics.md
section 4): counted by reason in the run summary and written to
`OUT/rejected/<name>/<table>/` with its file, line and text. A run reads each
CSV table once into Parquet and computes on that copy, because DuckDB only
finds the errors of the columns a query reads: the copy reads all of them, so
that every query of the run sees the same rows.
"""

from __future__ import annotations

import shutil
import tempfile
import uuid
import warnings
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from featuresql.compile import duckdb as sql
from featuresql.definitions import CatalogTable
from featuresql.output import write_errors
from featuresql.runchecks import data_pattern, engine_errors

#: How DuckDB reads 'format' = 'csv' (see the module docstring); every reader shares it.
CSV_DIALECT = sql.CSV_DIALECT

#: DuckDB's error types (`reject_errors.error_type`) as reasons, in a stream's words where
#: one applies; `{column}` and `{type}` are the catalog column's name and declared type.
REASONS: dict[str, str] = {
    "UNQUOTED VALUE": "malformed CSV: stray or unclosed quote",
    "TOO MANY COLUMNS": "malformed CSV: too many fields",
    "MISSING COLUMNS": "missing field {column}",
    "CAST": "wrong type for {column}: {type}",
    "INVALID ENCODING": "malformed CSV: not UTF-8",
    "LINE SIZE OVER MAXIMUM": "malformed CSV: line too long",
}

#: The columns of a rejected-rows file: why, where (file and first line) and the text as read.
REJECTED_SCHEMA = pa.schema([("reason", pa.string()), ("file", pa.string()), ("line", pa.int64()), ("payload", pa.string())])


@dataclass(frozen=True)
class Sources:
    """The tables a run reads: CSV ones replaced by their typed copy, and the rows each rejected."""

    #: Lowered table name -> its typed Parquet copy, for `plan.reading(staged)`.
    staged: dict[str, str] = field(default_factory=dict)
    rejected: dict[str, pa.Table] = field(default_factory=dict)

    def counts(self, tables: Iterable[CatalogTable]) -> dict[str, int]:
        """Rejected rows by `<table>: <reason>`, over the given tables."""
        found: dict[str, int] = {}
        for table in _unique(tables):
            rows = self.rejected.get(table.name.lower())
            for reason in rows.column("reason").to_pylist() if rows is not None else []:
                key = f"{table.name}: {reason}"
                found[key] = found.get(key, 0) + 1
        return found

    def keep(self, folder: Path, tables: Iterable[CatalogTable]) -> None:
        """Write each CSV table's rejected rows to `folder/<table>/`, replacing the last run's."""
        for table in _unique(tables):
            rows = self.rejected.get(table.name.lower())
            if rows is None:
                continue
            kept = folder / table.name
            with write_errors(kept):
                shutil.rmtree(kept, ignore_errors=True)
                if rows.num_rows:
                    kept.mkdir(parents=True)
                    pq.write_table(rows, kept / "part-0.parquet")

    def warn(self, tables: Iterable[CatalogTable]) -> None:
        """Where there is no output folder to set rows aside in (a table returned to Python), say so."""
        counts = self.counts(tables)
        if counts:
            detail = ", ".join(f"{count:,} {key}" for key, count in counts.items())
            warnings.warn(f"rows that could not be read were left out: {detail}", stacklevel=3)


@contextmanager
def readable(con: duckdb.DuckDBPyConnection, tables: Iterable[CatalogTable], root: Path) -> Iterator[Sources]:
    """The run's sources, each CSV table read once into a temporary Parquet copy (see the module docstring)."""
    csv_tables = [t for t in _unique(tables) if t.format == "csv"]
    if not csv_tables:
        yield Sources()
        return
    with tempfile.TemporaryDirectory(prefix="featuresql-csv-") as tmp:
        staged, rejected = {}, {}
        for table in csv_tables:
            staged[table.name.lower()], rejected[table.name.lower()] = _stage(con, table, root, Path(tmp))
        yield Sources(staged, rejected)


def _stage(con: duckdb.DuckDBPyConnection, table: CatalogTable, root: Path, folder: Path) -> tuple[str, pa.Table]:
    """Copy a CSV table's readable rows, in file order, to Parquet; returns the copy's path and the rejected rows."""
    target = folder / f"{table.name}.parquet"
    suffix = uuid.uuid4().hex[:12]
    errors, scans = f"featuresql_rejects_{suffix}", f"featuresql_scans_{suffix}"
    columns = ", ".join(f"{sql.sql_literal(c.name)}: {sql.sql_literal(sql.duckdb_type(c.type))}" for c in table.columns)
    read = (
        f"read_csv({sql.sql_literal(data_pattern(table, root))}, {CSV_DIALECT}, columns = {{{columns}}}, "
        f"store_rejects = true, rejects_table = {sql.sql_literal(errors)}, rejects_scan = {sql.sql_literal(scans)})"
    )
    with engine_errors():
        con.execute(f"COPY (SELECT * FROM {read}) TO {sql.sql_literal(str(target))} (FORMAT parquet)")
        # One row per rejected line: DuckDB lists each error of a line; the first field's names the reason.
        found = con.execute(
            f"SELECT s.file_path, e.line, arg_min(e.error_type, e.column_idx), arg_min(e.column_name, e.column_idx), "
            f"any_value(e.csv_line) FROM {errors} AS e JOIN {scans} AS s USING (scan_id, file_id) "
            "GROUP BY s.file_path, e.line ORDER BY s.file_path, e.line"
        ).fetchall()
        con.execute(f"DROP TABLE {errors}; DROP TABLE {scans}")
    rows = [(_reason(table, str(kind), name), path, int(line), text) for path, line, kind, name, text in found]
    rejected = pa.Table.from_pylist([dict(zip(REJECTED_SCHEMA.names, row)) for row in rows], schema=REJECTED_SCHEMA)
    return str(target), rejected


def _reason(table: CatalogTable, error_type: str, column_name: str | None) -> str:
    column = table.column(column_name) if column_name else None
    template = REASONS.get(error_type, f"malformed CSV: {error_type.lower()}")
    return template.format(column=column.name if column else column_name, type=column.type.sql() if column else "?")


def _unique(tables: Iterable[CatalogTable]) -> list[CatalogTable]:
    return list({t.name.lower(): t for t in tables}.values())
