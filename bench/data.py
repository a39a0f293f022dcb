"""Benchmark datasets: the project's generator output plus a copy of the bench project.

A dataset lives in `bench/data/<size>-<skew>/`, laid out as a featuresql project
(`catalogs/`, `sql/`, `data/`), so every arm reads the very same Parquet files.
Generation is skipped when a dataset with the same arguments already exists.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import duckdb

from featuresql.datagen import generate, parse_size

BENCH_DIR = Path(__file__).resolve().parent
PROJECT_TEMPLATE = BENCH_DIR / "project"
DATA_ROOT = BENCH_DIR / "data"
START = datetime(2026, 1, 5)
DAYS = 7
SEED = 7
# One spine row per SPINE_EVERY impressions: issue 6 asks for 1M spine rows over 10M events.
SPINE_EVERY = 10
_MARKER = ".dataset.json"


@dataclass(frozen=True)
class Dataset:
    """A generated dataset and its bench project."""

    root: Path
    size: str
    skew: str
    impressions: int
    engagements: int
    spine: int

    @property
    def start(self) -> datetime:
        return START

    @property
    def end(self) -> datetime:
        return START + timedelta(days=DAYS)

    def table(self, name: str) -> str:
        """The Parquet glob of a table, as DuckDB and pandas take it."""
        return str(self.root / "data" / name / "*.parquet")

    @property
    def results(self) -> Path:
        return self.root / "results"


def prepare(size: str, skew: str = "default", root: Path = DATA_ROOT, progress: bool = True) -> Dataset:
    """The dataset for `size` and `skew`, generated if it is not there yet."""
    events = parse_size(size)
    folder = root / f"{size}-{skew}"
    wanted = {"events": events, "skew": skew, "days": DAYS, "seed": SEED, "spine_every": SPINE_EVERY}
    marker = folder / _MARKER
    # The project files are copied every time: edits to bench/project apply at once.
    for sub in ("catalogs", "sql"):
        shutil.rmtree(folder / sub, ignore_errors=True)
        shutil.copytree(PROJECT_TEMPLATE / sub, folder / sub)
    if marker.exists() and json.loads(marker.read_text()).get("args") == wanted:
        counts = json.loads(marker.read_text())["counts"]
    else:
        if progress:
            print(f"[bench] generating {size} events (skew {skew}) into {folder}", flush=True)
        marker.unlink(missing_ok=True)
        data = generate(folder / "data", events=events, days=DAYS, seed=SEED, start=START, skew=skew)
        spine = _write_spine(folder)
        counts = {"impressions": data.impressions, "engagements": data.engagements, "spine": spine}
        marker.write_text(json.dumps({"args": wanted, "counts": counts}, indent=2))
    (folder / "results").mkdir(exist_ok=True)
    return Dataset(folder, size, skew, counts["impressions"], counts["engagements"], counts["spine"])


def _write_spine(folder: Path) -> int:
    """A deterministic 1-in-SPINE_EVERY sample of impressions, malformed rows included."""
    target = folder / "data" / "spine"
    target.mkdir(parents=True, exist_ok=True)
    out = target / "part-0000.parquet"
    source = folder / "data" / "impressions" / "*.parquet"
    # hash() of the id, not row position: the sample does not depend on file order.
    duckdb.execute(
        # TIMESTAMP_MS, as the generator writes: the catalog says TIMESTAMP(3).
        f"COPY (SELECT * REPLACE (CAST(event_time AS TIMESTAMP_MS) AS event_time) "
        f"FROM read_parquet('{source}') WHERE hash(impression_id) % {SPINE_EVERY} = 0 "
        f"ORDER BY event_time NULLS LAST) TO '{out}' (FORMAT parquet, COMPRESSION snappy)"
    )
    return int(duckdb.sql(f"SELECT count(*) FROM read_parquet('{out}')").fetchall()[0][0])


def validate_project(n_features: int, root: Path = DATA_ROOT) -> Path:
    """A project of `n_features` feature files over the bench catalogs (workload 5).

    Each file is the bench feature with its own name, windows and aggregates, so
    the checks do real work per file rather than hitting one cached shape.
    """
    folder = root / f"validate-{n_features}"
    features = folder / "sql" / "features"
    if features.is_dir() and len(list(features.glob("*.sql"))) == n_features:
        return folder
    shutil.rmtree(folder, ignore_errors=True)
    shutil.copytree(PROJECT_TEMPLATE / "catalogs", folder / "catalogs")
    features.mkdir(parents=True)
    windows = ["10m", "1h", "6h", "1d", "7d", "lifetime"]
    for i in range(n_features):
        picked = ", ".join(windows[j] for j in range(len(windows)) if (i >> j) & 1) or "1h"
        limit = 1 + i % 20
        (features / f"f{i:04d}.sql").write_text(
            f"FEATURE f{i:04d} (\n  entity user_id,\n  windows ({picked}),\n  description 'generated {i}'\n);\n\n"
            f"SELECT\n  user_id,\n  COUNT(*) AS n{i},\n"
            f"  COUNT(*) FILTER (WHERE position <= {limit}) AS top{i},\n"
            f"  SUM(position) / NULLIF(COUNT(*), 0) AS avg{i},\n"
            f"  MAX(position) AS max{i},\n"
            f"  SECONDS_SINCE(MAX(event_time)) AS since{i}\n"
            f"FROM impressions\nWHERE position > {i % 3}\nGROUP BY user_id;\n"
        )
    return folder
