"""featuresql through its public API (`Project.backfill_table`, `Project.samples_table`).

Timed: everything featuresql does for the call (loading and checking the
project, checking the data files, compiling, DuckDB, Arrow result).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pyarrow as pa

from bench.arms import END, START

FEATURE = "bench_user"
SAMPLES = "bench_samples"


def backfill(root: Path) -> Callable[[], pa.Table]:
    from featuresql import Project

    return lambda: Project(root).backfill_table(FEATURE, START, END)


def samples(root: Path) -> Callable[[], pa.Table]:
    from featuresql import Project

    return lambda: Project(root).samples_table(SAMPLES, START, END)
