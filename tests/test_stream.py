"""`featuresql stream`: an unbounded Flink job over folders that keep receiving files.

A real `featuresql stream` process runs on a copy of the example project; the
second day's file arrives after the job started. The committed output must be
exactly the batch engine's update log over the events less the late ones the
stream set aside, for every event the watermark has passed (a stream emits an
event's row once the watermark passes its time, docs/semantics.md section 7).
Ctrl-C stops it cleanly.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from featuresql import Project
from featuresql.compare import compare
from featuresql.datagen import generate
from featuresql.engines import ENGINES
from helpers import copy_example_project

pytestmark = pytest.mark.flink

FSQL = [sys.executable, "-m", "featuresql.cli"]


def _committed(folder: Path) -> pa.Table | None:
    files = [p for p in folder.glob("dt=*/*") if p.is_file() and not p.name.startswith((".", "_"))]
    if not files:
        return None
    tables = [pq.read_table(f) for f in files]
    return pa.concat_tables(tables)


def _late(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file() and not p.name.startswith((".", "_"))]


def _watch_folders(root: Path) -> None:
    """Drop the example catalogs' Kafka bindings: this stream watches the tables' folders."""
    for catalog in (root / "catalogs").glob("*.sql"):
        text = re.sub(r",\s*(--[^\n]*\n\s*)?'stream\.[\w.]+'\s*=\s*'[^']*'", "", catalog.read_text())
        assert "stream." not in text, text
        catalog.write_text(text)


def test_stream_picks_up_new_files_and_matches_batch(tmp_path: Path) -> None:
    root = copy_example_project(tmp_path / "project")
    _watch_folders(root)
    assert Project(root).validate() == []
    generate(root / "data", events=3000, days=2)
    held = sorted((root / "data" / "engagements").glob("*.parquet"))[-1]
    later = tmp_path / held.name
    held.rename(later)  # the second day arrives while the stream runs
    out = tmp_path / "out"
    process = subprocess.Popen(
        [*FSQL, "stream", "user_engagement", "--out", str(out), "--checkpoint-interval", "2 s", "--project", str(root)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    target = out / "features" / "user_engagement"
    try:
        deadline = time.monotonic() + 240
        while _committed(target) is None and time.monotonic() < deadline and process.poll() is None:
            time.sleep(2)
        assert process.poll() is None, process.communicate()[1][-3000:]
        first = _committed(target)
        assert first is not None and first.num_rows > 0, "the stream committed nothing from the first file"
        later.rename(root / "data" / "engagements" / held.name)

        # Everything the watermark has passed: events up to the latest time minus the 5 s delay.
        con = duckdb.connect()
        latest = con.execute(f"SELECT max(event_time) FROM read_parquet('{root}/data/engagements/*.parquet')").fetchone()[0]
        expected_rows = None
        while time.monotonic() < deadline and process.poll() is None:
            time.sleep(3)
            got = _committed(target)
            late_files = _late(out / "late" / "user_engagement")
            late = pq.read_table(late_files[0]) if late_files else None
            events = con.execute(
                f"SELECT user_id, post_id, author_id, action, dwell_ms, event_time FROM read_parquet('{root}/data/engagements/*.parquet') "
                + (f"EXCEPT ALL SELECT user_id, post_id, author_id, action, dwell_ms, CAST(event_time AS TIMESTAMP) "
                   f"FROM read_parquet({[str(p) for p in late_files]})" if late_files else "")
            ).to_arrow_table()
            batch_dir = tmp_path / "batch"
            batch_dir.mkdir(exist_ok=True)
            pq.write_table(events, batch_dir / "events.parquet")
            plan = Project(root).plan("user_engagement").reading({"engagements": str(batch_dir / "events.parquet")})
            batch = ENGINES["duckdb"].table(plan, root, "2026-01-01", "2026-02-01")
            passed = pa.compute.less_equal(batch.column("event_time"), pa.scalar(latest - __import__("datetime").timedelta(seconds=5), pa.timestamp("ms")))
            batch = batch.filter(passed)
            expected_rows = batch.num_rows
            if got is not None and got.num_rows >= expected_rows:
                got = got.select(batch.column_names)
                result = compare("user_engagement", batch, got, ["user_id", "event_time"])
                assert result.ok, result
                assert late is None or late.num_rows < events.num_rows
                break
        else:
            pytest.fail(f"the stream did not catch up: expected {expected_rows} rows; {process.communicate()[1][-3000:]}")
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
        try:
            stdout, stderr = process.communicate(timeout=120)
        except subprocess.TimeoutExpired:
            process.kill()
            stdout, stderr = process.communicate()
    assert process.returncode == 0, stderr[-3000:]
    assert "stream user_engagement: stopped" in stdout
    assert "events" in stderr and "output rows" in stderr  # the live line
