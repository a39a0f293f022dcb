"""Atomic, idempotent Parquet partitions: `<dir>/dt=YYYY-MM-DD/part-0.parquet`.

A run writes everything to a hidden staging folder first, then swaps each
day's partition in with a rename. A killed run leaves, at worst, a hidden
staging folder (ignored by readers, removed by the next run), never a half
partition. A rerun replaces the days of its range, and removes a day that now
has no rows.
"""

from __future__ import annotations

import ctypes
import fcntl
import os
import re
import shutil
import sys
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from featuresql.diagnostics import FeaturesqlError

# Imported where used: `featuresql validate` loads this module (RunSummary) but
# never writes, and importing DuckDB and pyarrow costs it about half a second.
if TYPE_CHECKING:
    import duckdb


@dataclass(frozen=True)
class RunSummary:
    """What one backfill or samples run produced."""

    name: str
    kind: str  # feature | samples
    out: Path
    rows: int
    partitions: int
    seconds: float
    skipped_rows: dict[str, int] = field(default_factory=dict)
    label_rate: float | None = None
    #: Spine rows kept with NULL features because a key is NULL (docs/semantics.md section 6).
    null_key_rows: dict[str, int] = field(default_factory=dict)
    #: Streaming engine only: rows of each source that arrived at or below the watermark.
    late_rows: dict[str, int] = field(default_factory=dict)

    def describe(self) -> str:
        parts = [f"{self.kind} {self.name}: {self.rows:,} rows in {self.partitions} partitions, {self.seconds:.2f} s"]
        if self.label_rate is not None:
            parts.append(f"label rate {self.label_rate:.2%}")
        skipped = sum(self.skipped_rows.values())
        if skipped:
            detail = ", ".join(f"{reason}: {count:,}" for reason, count in self.skipped_rows.items() if count)
            parts.append(f"skipped rows {skipped:,} ({detail})")
        if any(self.null_key_rows.values()):
            detail = ", ".join(f"{reason}: {count:,}" for reason, count in self.null_key_rows.items() if count)
            parts.append(f"kept with NULL features ({detail})")
        if self.late_rows:
            detail = ", ".join(f"{source}: {count:,}" for source, count in self.late_rows.items())
            parts.append(f"late rows {sum(self.late_rows.values()):,} ({detail})")
        return "; ".join(parts)


def clean_stale_staging(target: Path) -> None:
    """Finish what a killed run left: drop its staging, restore any partition it had set aside."""
    for stale in target.glob(".staging-*"):
        shutil.rmtree(stale, ignore_errors=True)
    for replaced in target.glob(".replaced-*"):
        # `.replaced-<hex>-dt=YYYY-MM-DD`: the run died between its two renames.
        partition = target / replaced.name.split("-", 2)[-1]
        if partition.name.startswith("dt=") and not partition.exists():
            replaced.rename(partition)
        else:
            shutil.rmtree(replaced, ignore_errors=True)


def write_partitions(con: duckdb.DuckDBPyConnection, query: str, time_column: str, days: list[date], target: Path) -> dict[date, int]:
    """Run `query` and store its rows by UTC day of `time_column`; returns rows per day."""
    target.mkdir(parents=True, exist_ok=True)
    with exclusive(target):
        return _write_locked(con, query, time_column, days, target)


@contextmanager
def exclusive(target: Path) -> Iterator[None]:
    """One run at a time per output folder: another run would delete our staging.

    The lock is taken on the folder itself (flock works on directories), so
    it leaves nothing behind.
    """
    descriptor = os.open(target, os.O_RDONLY)
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise FeaturesqlError(f"another featuresql run is writing {target}; wait for it to finish") from None
        yield
    finally:
        os.close(descriptor)  # closing releases the lock


def _write_locked(con: duckdb.DuckDBPyConnection, query: str, time_column: str, days: list[date], target: Path) -> dict[date, int]:
    clean_stale_staging(target)
    staging = target / f".staging-{uuid.uuid4().hex}"
    staging.mkdir()
    try:
        relation = f"SELECT *, strftime({_ident(time_column)}, '%Y-%m-%d') AS dt FROM ({query}) AS result"
        con.execute(
            f"COPY ({relation}) TO {_literal(str(staging))} (FORMAT parquet, PARTITION_BY (dt), COMPRESSION zstd, "
            "FILENAME_PATTERN 'part-{i}', OVERWRITE_OR_IGNORE true)"
        )
        return publish_staged(staging, days, target, lambda folder: _count_rows(con, folder))
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def publish_staged(
    staging: Path, days: list[date], target: Path, count_rows: Callable[[Path], int] | None = None
) -> dict[date, int]:
    """Swap each day's staged partition into `target` (removing days that have none)."""
    # Names starting with `_` or `.` are an engine's own bookkeeping (a schema, markers).
    unexpected = sorted(
        p.name for p in staging.iterdir() if not _DAY_FOLDER.match(p.name) and not p.name.startswith(("_", "."))
    ) if staging.exists() else []
    if unexpected:
        # Not day partitions (a `dt` column of the data's own?): publishing would
        # treat the run's days as empty and remove them, so stop instead.
        raise FeaturesqlError(f"the run staged {', '.join(unexpected[:3])}, which are not day partitions; nothing was published")
    counts: dict[date, int] = {}
    for day in days:
        staged = staging / f"dt={day.isoformat()}"
        final = target / f"dt={day.isoformat()}"
        if staged.exists():
            counts[day] = (count_rows or _parquet_rows)(staged)
        _swap(staged if staged.exists() else None, final, target)
    return counts


def _parquet_rows(folder: Path) -> int:
    # Footers only; engines other than DuckDB leave hidden in-progress files we skip.
    import pyarrow.parquet as pq

    return sum(
        pq.ParquetFile(path).metadata.num_rows
        for path in folder.iterdir()
        if path.is_file() and not path.name.startswith((".", "_"))
    )


def _swap(staged: Path | None, final: Path, target: Path) -> None:
    """Put `staged` in place of `final`; readers never see the day missing or mixed.

    On Linux the two directories are exchanged in one atomic renameat2 call.
    Elsewhere it takes two renames; if the second fails the previous partition
    is put back, and a run killed between them is repaired by the next run
    (`clean_stale_staging`).
    """
    if staged is None:
        if final.exists():
            doomed = target / f".replaced-{uuid.uuid4().hex}-gone"
            final.rename(doomed)
            shutil.rmtree(doomed, ignore_errors=True)
        return
    if final.exists() and _exchange(staged, final):
        shutil.rmtree(staged, ignore_errors=True)  # now holds the previous partition
        return
    replaced = None
    if final.exists():
        replaced = target / f".replaced-{uuid.uuid4().hex}-{final.name}"
        final.rename(replaced)
    try:
        staged.rename(final)
    except BaseException:
        if replaced is not None:
            replaced.rename(final)
        raise
    if replaced is not None:
        shutil.rmtree(replaced, ignore_errors=True)


_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two paths with Linux renameat2(RENAME_EXCHANGE); False if unavailable."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    result = renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    return result == 0


def _count_rows(con: duckdb.DuckDBPyConnection, folder: Path) -> int:
    row = con.execute(f"SELECT count(*) FROM read_parquet({_literal(str(folder) + '/*.parquet')})").fetchall()[0]
    return int(row[0])


_DAY_FOLDER = re.compile(r"^dt=\d{4}-\d{2}-\d{2}$")


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
