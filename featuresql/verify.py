"""`featuresql verify`: the streaming engine (Flink) against the batch engine (DuckDB).

For each definition, Flink runs over a staged copy of the slice's events (in
arrival order, docs/semantics.md section 7) and reports the events it found
late. DuckDB then runs over the same staged events less the late ones, and
`featuresql.compare` pairs and compares every row and column of the two
outputs. The guarantee being checked is exactly the contract's: equal rows for
every event that is not late.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import duckdb

from featuresql.compare import Comparison, compare, render
from featuresql.compile import duckdb as batch_sql
from featuresql.definitions import CatalogTable
from featuresql.engines import ENGINES
from featuresql.engines import flink as stream
from featuresql.plan import Plan, SamplesPlan
from featuresql.preview import slice_range
from featuresql.runchecks import check_tables, connect
from featuresql.timeutil import Instant


@dataclass
class Verification:
    """One definition verified: the comparison and what Flink set aside as late."""

    comparison: Comparison
    start: datetime
    end: datetime
    late: dict[str, int] = field(default_factory=dict)
    input_rows: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.comparison.ok

    def describe(self) -> str:
        head = (
            f"{'OK' if self.ok else 'FAILED'} {self.comparison.name} "
            f"[{self.start:%Y-%m-%d %H:%M:%S}, {self.end:%Y-%m-%d %H:%M:%S}) in {self.seconds:.1f} s; "
            f"input events {', '.join(f'{t}: {n:,}' for t, n in self.input_rows.items())}; "
            f"late for Flink: {sum(self.late.values()):,}"
            + (f" ({', '.join(f'{s}: {n:,}' for s, n in self.late.items() if n)})" if any(self.late.values()) else "")
        )
        return head + "\n" + render(self.comparison)


def verify(
    plan: Plan,
    root: Path,
    start: Instant | None = None,
    end: Instant | None = None,
    limit: int | None = None,
) -> Verification:
    """Run `plan` on both engines over the same slice and compare (see the module doc).

    `root` is the project folder that the catalog's relative paths start from."""
    began = time.perf_counter()
    # Samples are identified by their spine row, a feature's rows by entity and time.
    if isinstance(plan, SamplesPlan):
        anchor, identity = plan.spine, [c.name for c in plan.spine.columns]
    else:
        anchor, identity = plan.source, [*plan.keys, "event_time"]
    con = connect()
    lower, upper = slice_range(con, root, anchor, start, end)
    check_tables(con, plan.tables(), root)
    with tempfile.TemporaryDirectory(prefix="featuresql-verify-") as tmp:
        folder = Path(tmp)
        job = stream.staged_job(plan, root, lower, upper, folder / "inputs", limit)
        late_counts = stream.run_to_staging(job, folder / "out", folder / "late")
        streamed = stream.read_staged(folder / "out")
        # The batch side reads the staged events less those Flink reported late.
        paths, input_rows = {}, {}
        for reading in job.inputs:
            table = reading.table
            staged = folder / "inputs" / table.name / stream.STAGED_FILE
            input_rows[table.name] = int(con.execute(f"SELECT count(*) FROM read_parquet('{staged}')").fetchall()[0][0])
            kept = folder / "batch" / table.name / "events.parquet"
            kept.parent.mkdir(parents=True)
            _without_late(con, table, staged, _late_rows_of(folder / "late", late_counts, table), kept)
            paths[table.name] = str(kept)
        batched = ENGINES["duckdb"].table(plan.reading(paths), root, lower, upper)
    comparison = compare(plan.name, batched, streamed, identity)
    return Verification(comparison, lower, upper, late_counts, input_rows, time.perf_counter() - began)


def _late_rows_of(late_dir: Path, late_counts: dict[str, int], table: CatalogTable) -> Path | None:
    """The late rows of a table: every source reading it (`<role>_<table>`) sees the same
    staged file in the same order, so their late sets are nested; the widest holds them all."""
    counts = {s: n for s, n in late_counts.items() if s.split("_", 1)[1].lower() == table.name.lower() and n}
    return late_dir / max(counts, key=counts.__getitem__) if counts else None


def _without_late(
    con: duckdb.DuckDBPyConnection, table: CatalogTable, staged: Path, late: Path | None, target: Path
) -> None:
    """`staged` less the rows in `late` (as a multiset: identical events are separate events)."""
    columns = ", ".join(batch_sql.quote(c.name) for c in table.columns)
    query = f"SELECT {columns} FROM read_parquet('{staged}')"
    if late is not None:
        typed = ", ".join(f"CAST({batch_sql.quote(c.name)} AS {batch_sql.stored_type(c.type)})" for c in table.columns)
        files = ", ".join(batch_sql.sql_literal(str(f)) for f in stream.parquet_files(late))
        query += f" EXCEPT ALL SELECT {typed} FROM read_parquet([{files}], union_by_name = true)"
    con.execute(f"COPY ({query}) TO '{target}' (FORMAT parquet)")
