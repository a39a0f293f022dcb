"""featuresql through its public API (`Project.backfill_table`, `Project.samples_table`, `Project.backfill`).

Timed: everything featuresql does for the call (loading and checking the
project, checking the data files, compiling, DuckDB, Arrow result).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa

from bench.arms import END, START, Written

FEATURE = "bench_user"
SAMPLES = "bench_samples"


def backfill(root: Path) -> Callable[[], pa.Table]:
    from featuresql import Project

    return lambda: Project(root).backfill_table(FEATURE, START, END)


def backfill_files(root: Path) -> Callable[[], Written]:
    """`featuresql backfill bench_user --out ...`: the update log into day partitions, atomically."""
    from featuresql import Project

    out = root / "results" / ".backfill_files.featuresql"

    def run() -> Written:
        (summary,) = Project(root).backfill([FEATURE], START, END, out)
        return Written(out / "features" / FEATURE, summary.rows)

    shutil.rmtree(out, ignore_errors=True)
    return run


def samples(root: Path) -> Callable[[], pa.Table]:
    from featuresql import Project

    return lambda: Project(root).samples_table(SAMPLES, START, END)
