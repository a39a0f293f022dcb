"""The competitors, one module each. Stdlib only here: Feast's arm runs in its
own virtualenv, which has neither featuresql nor this repo's dependencies.

An arm is a function `arm(root) -> run`: it does untimed set-up for the
dataset at `root` (a bench project folder) and returns `run`, the timed part,
which returns the result as a pyarrow Table or a pandas DataFrame, or, for
results too large to hold in memory (the update log at 100M events is about
25 GB as Arrow), a `Written`: Parquet files the timed part wrote itself.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

#: arm name -> "module:function" under bench.arms. Names are <workload>.<competitor>.
ARMS: dict[str, str] = {
    "backfill.featuresql": "featuresql_arms:backfill",
    "backfill.duckdb_sql": "handwritten:backfill",
    # Workload 1 into day-partitioned Parquet files, as `featuresql backfill` writes them.
    "backfill_files.featuresql": "featuresql_arms:backfill_files",
    "backfill_files.duckdb_sql": "handwritten:backfill_files",
    "samples.featuresql": "featuresql_arms:samples",
    "samples.duckdb_sql": "handwritten:samples",
    "samples.pandas": "pandas_arm:samples",
    "samples.feast": "feast_arm:samples",
    "floor.duckdb_scan": "handwritten:floor",
    # Workload 3 (opt-in: `--workload flink`): a JVM and a mini-cluster per process.
    "flink.featuresql": "flink_arms:generated",
    "flink.handwritten_sql": "flink_arms:handwritten",
}

@dataclass(frozen=True)
class Written:
    """A result an arm wrote as Parquet files under `path` (a folder) during its timed run."""

    path: Path
    num_rows: int


#: `--feast-duckdb-memory-mb`, as the Feast arm's process sees it (bench/arms/feast_arm.py).
FEAST_DUCKDB_MEMORY_ENV = "BENCH_FEAST_DUCKDB_MEMORY_MB"

# The dataset's time range; bench/data.py writes the data with these.
START = datetime(2026, 1, 5)
END = datetime(2026, 1, 12)


def load(name: str) -> Callable[[Path], Callable[[], Any]]:
    module, function = ARMS[name].split(":")
    return getattr(importlib.import_module(f"bench.arms.{module}"), function)  # type: ignore[no-any-return]


def table(root: Path, name: str) -> str:
    """The Parquet glob of one of the dataset's tables."""
    return str(root / "data" / name / "*.parquet")


def update_log(root: Path) -> Path:
    """The bench feature's update log, as written by the backfill.featuresql arm (Feast's input)."""
    return root / "results" / "backfill.featuresql.parquet"
