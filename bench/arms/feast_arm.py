"""Feast `get_historical_features` with its DuckDB offline store (runs in bench/.feast-venv).

Feast has no windows: its point-in-time join gives, per entity row at time t,
the latest feature row with timestamp <= t. So it is given precomputed rows:
the bench feature's per-event update log, exactly as featuresql's backfill
wrote it (`results/backfill.featuresql.parquet`, 32 columns, one row per
event). Entity rows are the spine rows with a user and a time in range.

Timed: reading the spine, the point-in-time join, the result as a DataFrame.
Untimed set-up: the feature repo, its registry and `apply`.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pandas as pd

from bench.arms import END, FEAST_DUCKDB_MEMORY_ENV, START, table, update_log

PREFIXES = ["imps", "top_imps", "deep_imps", "pos_sum", "pos_avg", "pos_min", "pos_max", "top_share"]
WINDOWS = ["10m", "1h", "1d", "7d"]
SPILL_LIMIT_GB = 40
_YAML = """project: bench
registry: {registry}
provider: local
offline_store:
  type: duckdb
online_store:
  type: sqlite
  path: {online}
entity_key_serialization_version: 3
"""


def feature_names() -> list[str]:
    return [f"{p}_{w}" for p in PREFIXES for w in WINDOWS]


def samples(root: Path) -> Callable[[], pd.DataFrame]:
    from feast import Entity, FeatureStore, FeatureView, Field, FileSource, ValueType
    from feast.types import Float64, Int32, Int64

    repo = root / "feast_repo"
    shutil.rmtree(repo, ignore_errors=True)
    repo.mkdir(parents=True)
    (repo / "feature_store.yaml").write_text(_YAML.format(registry=repo / "registry.db", online=repo / "online.db"))
    store = FeatureStore(repo_path=str(repo))
    user = Entity(name="user", join_keys=["user_id"], value_type=ValueType.STRING)
    dtype = {"pos_avg": Float64, "top_share": Float64, "pos_min": Int32, "pos_max": Int32}
    view = FeatureView(
        name="bench_user",
        entities=[user],
        # Longer than the data: the reference it is compared with has no TTL either.
        ttl=timedelta(days=3650),
        schema=[Field(name=n, dtype=dtype.get(n.rsplit("_", 1)[0], Int64)) for n in feature_names()],
        source=FileSource(path=str(update_log(root)), timestamp_field="event_time"),
    )
    store.apply([user, view])
    import ibis

    # Feast's DuckDB offline store runs on ibis's default backend (an in-memory DuckDB), which
    # spills to `.tmp` in the working directory: here, a folder of the dataset instead, emptied
    # first (a run stopped at the RSS cap leaves its files behind), and bounded, because a full
    # disk would stop every other process on the machine, not just this arm.
    backend = ibis.get_backend()
    spill = root / "feast_spill"
    shutil.rmtree(spill, ignore_errors=True)
    backend.raw_sql(f"SET temp_directory = '{spill}'")
    backend.raw_sql(f"SET max_temp_directory_size = '{SPILL_LIMIT_GB}GB'")
    # Unset, DuckDB may take 80% of RAM before it spills, so the range join meets the RSS cap first.
    if os.environ.get(FEAST_DUCKDB_MEMORY_ENV):
        backend.raw_sql(f"SET memory_limit = '{os.environ[FEAST_DUCKDB_MEMORY_ENV]}MB'")
    refs = [f"bench_user:{n}" for n in feature_names()]

    def run() -> pd.DataFrame:
        spine = pd.read_parquet(Path(table(root, "spine")).parent, columns=["impression_id", "user_id", "event_time"])
        spine = spine[
            spine.user_id.notna() & spine.event_time.notna()
            & (spine.event_time >= pd.Timestamp(START)) & (spine.event_time < pd.Timestamp(END))
        ].rename(columns={"event_time": "event_timestamp"})
        return store.get_historical_features(entity_df=spine, features=refs).to_df()

    return run


def profile(root: Path, out: Path) -> None:
    """Run the Feast arm once with DuckDB's profiler on; its plan tree (operators, rows,
    seconds) for the last query, the point-in-time join, is written to `out`."""
    import ibis

    run = samples(root)
    backend = ibis.get_backend()
    backend.raw_sql("SET enable_profiling = 'query_tree'")
    backend.raw_sql(f"SET profiling_output = '{out}'")
    run()
    backend.raw_sql("SET enable_profiling = 'no_output'")


if __name__ == "__main__":
    import sys

    # bench/.feast-venv/bin/python -m bench.arms.feast_arm profile DATASET_ROOT OUT.txt
    if len(sys.argv) != 4 or sys.argv[1] != "profile":
        raise SystemExit("usage: python -m bench.arms.feast_arm profile DATASET_ROOT OUT")
    profile(Path(sys.argv[2]), Path(sys.argv[3]))
