"""Atomic, idempotent Parquet partitions: `<dir>/dt=YYYY-MM-DD/part-0.parquet`.

A run writes everything to a staging folder first, then swaps each day's
partition in with a rename. Staging lives beside the output folder, in
`<parent>/.staging/<name>/`, not inside it: DuckDB's recursive glob
(`<dir>/**/*.parquet`) enters hidden folders, so anything staged inside `<dir>`
would be read as output while a run is in progress or after it was killed.
Beside it is still the same file system, so the renames stay atomic. Staged
files are named `*.staged` until their partition is swapped in, so a glob over
a wider folder (all of `--out`) does not read them either. A killed
run leaves, at worst, a staging folder (which no reader of `<dir>` sees, and
the next run removes), never a half partition. A rerun replaces the days of its
range, and removes a day that now has no rows.
"""

from __future__ import annotations

import ctypes
import fcntl
import itertools
import os
import re
import shutil
import sys
import tempfile
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

#: The column, and the folder name (`dt=YYYY-MM-DD`), of an output's day partitions.
#: A definition cannot produce a column of this name (FS109, rules/outputs.py).
PARTITION_COLUMN = "dt"


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
    #: CSV rows that could not be read, by `<table>: <reason>`; kept in `OUT/rejected/<name>/<table>/`.
    rejected_rows: dict[str, int] = field(default_factory=dict)

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
        if self.rejected_rows:
            detail = ", ".join(f"{reason}: {count:,}" for reason, count in self.rejected_rows.items())
            where = self.out.parent.parent / "rejected" / self.name
            parts.append(f"rejected rows {sum(self.rejected_rows.values()):,} ({detail}; set aside in {where})")
        return "; ".join(parts)


def output_root(out: str | os.PathLike[str]) -> Path:
    """The output folder of a run as an absolute path, checked before anything runs.

    Resolved once, early: a relative path then works for every engine (Flink's
    sinks take file URIs, which must be absolute). An empty name is refused (it
    would write into the current directory), and so is a path that is a file
    or runs through one.
    """
    text = os.fspath(out)
    if not text.strip():
        raise FeaturesqlError("the output folder is empty: name a folder ('.' for the current one)")
    path = Path(os.path.abspath(text))
    for folder in (path, *path.parents):
        if folder.exists():
            if not folder.is_dir():
                where = "is a file" if folder == path else f"runs through the file {folder}"
                raise FeaturesqlError(f"the output folder {path} {where}, not a folder")
            break
    return path


def check_writable(folder: Path) -> None:
    """Write and delete a probe file (OSError if that fails), so an unwritable folder fails before a long run."""
    try:
        descriptor, probe = tempfile.mkstemp(prefix=".featuresql-probe-", dir=folder)
    except OSError as err:
        # Name the folder, not the probe's random name.
        raise OSError(err.errno, err.strerror, str(folder)) from None
    os.close(descriptor)
    os.unlink(probe)


@contextmanager
def write_errors(target: Path) -> Iterator[None]:
    """A folder that cannot be written is one clear line (FeaturesqlError), not a traceback."""
    try:
        yield
    except OSError as err:
        raise FeaturesqlError(f"cannot write {target}: {os_error_text(err)}") from None


def os_error_text(err: OSError) -> str:
    """An OSError in one line: its reason and the path it concerns."""
    reason = err.strerror or str(err) or type(err).__name__
    where = f" ({err.filename})" if err.filename else ""
    return " ".join(f"{reason}{where}".split())


def create_dirs(path: Path) -> list[Path]:
    """`mkdir -p path`; returns the folders it created, deepest first (none are left if it fails)."""
    missing = list(itertools.takewhile(lambda p: not p.exists(), (path, *path.parents)))
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError:
        remove_empty(missing)
        raise
    return missing


def remove_empty(folders: list[Path]) -> None:
    """rmdir each folder, deepest first, stopping at the first that is not empty."""
    for folder in folders:
        try:
            folder.rmdir()
        except FileNotFoundError:
            continue
        except OSError:
            return


@contextmanager
def made_dirs(path: Path) -> Iterator[Path]:
    """Create `path` and its missing parents; if the block fails, remove those of them still empty.

    A failed run leaves no new empty folder behind (only folders it created
    itself, and only empty ones, so nothing a user had is ever removed)."""
    created = create_dirs(path)
    try:
        yield path
    except BaseException:
        remove_empty(created)
        raise


def staging_area(target: Path) -> Path:
    """Where runs writing `target` stage: `<parent>/.staging/<name>/`, beside `target` (see the module docstring)."""
    return target.parent / STAGING / target.name


@contextmanager
def staged_run(target: Path) -> Iterator[Path]:
    """A fresh staging folder for one run writing `target`, yielded under the target's lock.

    Creates `target` (and removes what it created if the run fails), finishes what
    a killed run left (`clean_stale_staging`), and removes the staging folder
    whatever happens. A folder that cannot be written is a FeaturesqlError.
    """
    area = staging_area(target)
    with write_errors(target), made_dirs(target), exclusive(target):
        clean_stale_staging(target)
        staging = area / uuid.uuid4().hex
        _make_fresh(staging)
        try:
            yield staging
        finally:
            shutil.rmtree(staging, ignore_errors=True)
            remove_empty([area, area.parent])


def _make_fresh(folder: Path) -> None:
    # Runs writing other targets beside ours remove `.staging` when they find it
    # empty; if one does so between our two mkdirs, create it again.
    for _ in range(5):
        try:
            folder.mkdir(parents=True)
            return
        except FileNotFoundError:
            continue
    folder.mkdir(parents=True)


def clean_stale_staging(target: Path) -> None:
    """Finish what a killed run left: drop its staging, restore any partition it had set aside.

    Call it only under the target's lock (`exclusive`): then whatever is staged
    for `target` belongs to a run that is gone. Folders inside `target` are what
    earlier versions staged there."""
    area = staging_area(target)
    holding = sorted(area.iterdir()) if area.is_dir() else []
    for stale in holding + sorted(target.glob(".staging-*")):
        if not stale.name.startswith(_REPLACED):
            shutil.rmtree(stale, ignore_errors=True)
    for replaced in [p for p in holding if p.name.startswith(_REPLACED)] + sorted(target.glob(".replaced-*")):
        # `replaced-<hex>-dt=YYYY-MM-DD`: the run died between its two renames.
        partition = target / replaced.name.split("-", 2)[-1]
        if partition.name.startswith(f"{PARTITION_COLUMN}=") and not partition.exists():
            replaced.rename(partition)
        else:
            shutil.rmtree(replaced, ignore_errors=True)


def write_partitions(con: duckdb.DuckDBPyConnection, query: str, time_column: str, days: list[date], target: Path) -> dict[date, int]:
    """Run `query` and store its rows by UTC day of `time_column`; returns rows per day."""
    with staged_run(target) as staging:
        day = _ident(PARTITION_COLUMN)
        relation = f"SELECT *, strftime({_ident(time_column)}, '%Y-%m-%d') AS {day} FROM ({query}) AS result"
        con.execute(
            f"COPY ({relation}) TO {_literal(str(staging))} (FORMAT parquet, PARTITION_BY ({day}), COMPRESSION zstd, "
            f"FILENAME_PATTERN 'part-{{i}}', FILE_EXTENSION '{STAGED_SUFFIX[1:]}', OVERWRITE_OR_IGNORE true)"
        )
        return publish_staged(staging, days, target, lambda folder: _count_rows(con, folder))


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
        staged = staging / day_folder(day)
        final = target / day_folder(day)
        if staged.exists():
            counts[day] = (count_rows or _parquet_rows)(staged)
            _name_as_parquet(staged)
        _swap(staged if staged.exists() else None, final, staging_area(target))
    return counts


def _name_as_parquet(partition: Path) -> None:
    """Give a staged partition's files their published names (`*.parquet`), just before its swap."""
    for path in partition.iterdir():
        if path.is_file() and not path.name.startswith((".", "_")) and path.suffix != ".parquet":
            stem = path.name.removesuffix(STAGED_SUFFIX)
            path.rename(path.with_name(stem + ".parquet"))


def _parquet_rows(folder: Path) -> int:
    # Footers only; engines other than DuckDB leave hidden in-progress files we skip.
    import pyarrow.parquet as pq

    return sum(
        pq.ParquetFile(path).metadata.num_rows
        for path in folder.iterdir()
        if path.is_file() and not path.name.startswith((".", "_"))
    )


def _swap(staged: Path | None, final: Path, holding: Path) -> None:
    """Put `staged` in place of `final`; readers never see the day missing or mixed.

    On Linux the two directories are exchanged in one atomic renameat2 call.
    Elsewhere it takes two renames; if the second fails the previous partition
    is put back, and a run killed between them is repaired by the next run
    (`clean_stale_staging`). A partition moved out of `final` waits in
    `holding` (the staging area, outside the output) until it is deleted.
    """
    if staged is None:
        if final.exists():
            doomed = holding / f"{_REPLACED}{uuid.uuid4().hex}-gone"
            final.rename(doomed)
            shutil.rmtree(doomed, ignore_errors=True)
        return
    if final.exists() and _exchange(staged, final):
        shutil.rmtree(staged, ignore_errors=True)  # now holds the previous partition
        return
    replaced = None
    if final.exists():
        replaced = holding / f"{_REPLACED}{uuid.uuid4().hex}-{final.name}"
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
    # Every file: staged files are not named `*.parquet` yet.
    row = con.execute(f"SELECT count(*) FROM read_parquet({_literal(str(folder) + '/*')})").fetchall()[0]
    return int(row[0])


#: The staging area's folder, beside each output folder (`staging_area`).
STAGING = ".staging"
#: What staged files are called until published: not `*.parquet`, so that not even
#: a glob over the whole `--out` folder (which holds the staging areas) reads them.
STAGED_SUFFIX = ".staged"
#: Prefix of a previous partition set aside in the staging area during a swap.
_REPLACED = "replaced-"
_DAY_FOLDER = re.compile(rf"^{PARTITION_COLUMN}=\d{{4}}-\d{{2}}-\d{{2}}$")


def day_folder(day: date) -> str:
    """The folder of one day's partition: `dt=YYYY-MM-DD`."""
    return f"{PARTITION_COLUMN}={day.isoformat()}"


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
