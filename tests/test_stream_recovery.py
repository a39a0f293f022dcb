"""Exactly once through a hard kill and a graceful stop: `featuresql stream ctr` Kafka -> Kafka.

One stream of the example `ctr` samples job lives through three processes:

1. it starts while events are being replayed into the broker, and is killed
   with SIGKILL (the whole process group: Python and the mini-cluster's JVM)
   once it has committed some output and while events are still arriving;
2. `--resume` restores the newest checkpoint, reads the rest, and is stopped
   with SIGINT, which takes a savepoint;
3. more events are replayed, and `--resume` continues from the savepoint.

The samples topic, read with read_committed, must then equal DuckDB's samples
over the same events less the late ones the stream set aside (section 7) for
every spine row the watermark completed: a sample lost in the kill would be
missing, one written twice (replayed after the checkpoint) would be extra.
The Parquet output, committed by the same checkpoints, must equal it too.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from helpers import copy_example_project
from kafka_support import consume_all, unique
from test_replay import bind_topics
from test_stream_kafka import _files, _kept_events

from featuresql import Project
from featuresql.compare import Comparison, compare, render
from featuresql.datagen import generate

pytestmark = [pytest.mark.flink, pytest.mark.kafka]

FSQL = [sys.executable, "-m", "featuresql.cli"]
ENV = {**os.environ, "PYTHONUNBUFFERED": "1"}
IDENTITY = 6  # ctr's spine columns identify a sample (compare pairs rows by them)


def _stream(root: Path, out: Path, topic: str, *extra: str) -> subprocess.Popen[str]:
    # Its own process group, so that the kill takes the JVM down with Python.
    return subprocess.Popen(
        [*FSQL, "stream", "ctr", "--out", str(out), "--checkpoint-interval", "2 s", "--kafka-topic", topic,
         "--project", str(root), *extra],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV, start_new_session=True,
    )


def _replay(root: Path, start: datetime, end: datetime, rate: float = 0.0) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [*FSQL, "replay", "--project", str(root), "--start", start.isoformat(sep=" "), "--end", end.isoformat(sep=" "),
         "--rate", str(rate)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV,
    )


def _finish(process: subprocess.Popen[str], timeout: float = 180) -> tuple[str, str]:
    try:
        return process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        return process.communicate()


def _kafka_samples(bootstrap: str, topic: str, schema: pa.Schema) -> pa.Table:
    """The committed samples in the topic, typed like DuckDB's (JSON carries times as text)."""
    try:
        messages = consume_all(bootstrap, topic, timeout=20)
    except AssertionError:  # no topic yet: nothing committed
        return schema.empty_table()
    rows = [json.loads(m.value()) for m in messages if m.error() is None and m.value() is not None]
    for row in rows:
        for field in schema:
            if pa.types.is_timestamp(field.type) and row.get(field.name) is not None:
                row[field.name] = datetime.fromisoformat(row[field.name])
    return pa.Table.from_pylist(rows, schema=schema)


def _complete(table: pa.Table, until: datetime) -> pa.Table:
    return table.filter(pc.less_equal(table.column("event_time"), pa.scalar(until, pa.timestamp("ms"))))


def _expected(root: Path, out: Path, tmp: Path, start: datetime, end: datetime, until: datetime) -> pa.Table:
    """DuckDB's samples over every replayed event less the rows the stream committed as late."""
    con = duckdb.connect()
    late = out / "late" / "ctr"
    paths = {
        "impressions": _kept_events(con, root, "impressions",
                                    [late / "src_impressions", late / "spine_impressions", late / "label_impressions"],
                                    tmp / "kept" / "i.parquet"),
        "engagements": _kept_events(con, root, "engagements", [late / "src_engagements"], tmp / "kept" / "e.parquet"),
    }
    return _complete(Project(root).with_data(paths).samples_table("ctr", start, end), until)


def _wait_identical(root: Path, out: Path, tmp: Path, bootstrap: str, topic: str, data: object, until: datetime,
                    process: subprocess.Popen[str], timeout: float) -> tuple[Comparison | None, float]:
    """Poll until the committed samples cover every complete spine row; (comparison, seconds waited)."""
    began = time.monotonic()
    result = None
    while time.monotonic() - began < timeout and process.poll() is None:
        time.sleep(4)
        batch = _expected(root, out, tmp, data.start, data.end, until)  # type: ignore[attr-defined]
        got = _complete(_kafka_samples(bootstrap, topic, batch.schema), until)
        if got.num_rows >= batch.num_rows:
            result = compare("ctr", batch, got.select(batch.column_names), batch.column_names[:IDENTITY])
            break
    return result, time.monotonic() - began


def _group_gone(pgid: int, timeout: float = 30) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.2)
    return False


def test_kill_resume_stop_resume_is_exactly_once(tmp_path: Path, kafka_bootstrap: str) -> None:
    root = copy_example_project(tmp_path / "project")
    data = generate(root / "data", events=6000, days=2)
    bind_topics(root, impressions=unique("impressions"), engagements=unique("engagements"))
    for catalog in (root / "catalogs").glob("*.sql"):
        catalog.write_text(catalog.read_text().replace("'localhost:9092'", f"'{kafka_bootstrap}'"))
    # Three slices of event time: before the kill, around it (replayed while the job runs), after the stop.
    con = duckdb.connect()
    first, last = con.execute(
        f"SELECT min(event_time), max(event_time) FROM read_parquet('{root}/data/*/*.parquet')").fetchone()
    span = last - first
    cut_kill, cut_stop = first + span * 0.4, first + span * 0.8
    end = last + timedelta(milliseconds=1)
    topic = unique("ctr_samples")
    out = tmp_path / "out"

    # 1. Output is committed, then events arrive while the job runs: SIGKILL in the middle of them.
    assert _replay(root, first, cut_kill).wait(timeout=300) == 0
    stream = _stream(root, out, topic)
    deadline = time.monotonic() + 240
    committed = 0
    while time.monotonic() < deadline and stream.poll() is None and not committed:
        time.sleep(2)
        committed = _kafka_samples(kafka_bootstrap, topic, pa.schema([("event_time", pa.timestamp("ms"))])).num_rows
    assert committed, f"no output committed before the kill: {_finish(stream)[1][-3000:]}"
    feeding = _replay(root, cut_kill, cut_stop, rate=150)
    time.sleep(8)  # a few checkpoints into the slice: some of it committed, some read but not yet
    assert feeding.poll() is None, "the replay ended before the kill; the kill would not interrupt a running job"
    os.killpg(stream.pid, signal.SIGKILL)
    _finish(stream)  # reaped: a zombie would still count as a member of the group
    assert _group_gone(stream.pid), "the stream's JVM survived the kill"
    checkpoints = sorted((out / "_state" / "ctr" / "checkpoints").glob("*/chk-*/_metadata"))
    assert checkpoints, "the killed job left no completed checkpoint"

    # 2. Resume from the newest checkpoint while the rest of the slice arrives; stop with a savepoint.
    restarted = time.monotonic()
    resumed = _stream(root, out, topic, "--resume")
    assert feeding.wait(timeout=300) == 0, feeding.stderr.read()[-2000:] if feeding.stderr else ""
    until = cut_stop - timedelta(seconds=5) - timedelta(minutes=10)
    result, _ = _wait_identical(root, out, tmp_path / "b1", kafka_bootstrap, topic, data, until, resumed, 300)
    caught_up = time.monotonic() - restarted
    resumed.send_signal(signal.SIGINT)
    stdout, stderr = _finish(resumed)
    assert resumed.returncode == 0, stderr[-3000:]
    assert result is not None, f"the resumed stream did not catch up: {stderr[-3000:]}"
    assert result.ok, render(result)
    assert "resumed from checkpoint" in stdout, stdout
    running = re.search(r"running after ([0-9.]+) s", stdout)
    assert "savepoint" in stdout and "--resume" in stdout, stdout
    assert result.batch_rows > 100, "too few complete samples to mean anything"

    # 3. More events while the job is stopped; resume from the savepoint and read them.
    assert _replay(root, cut_stop, end).wait(timeout=300) == 0
    final = _stream(root, out, topic, "--resume")
    until = last - timedelta(seconds=5) - timedelta(minutes=10)
    result, _ = _wait_identical(root, out, tmp_path / "b2", kafka_bootstrap, topic, data, until, final, 300)
    final.send_signal(signal.SIGINT)
    stdout, stderr = _finish(final)
    assert final.returncode == 0, stderr[-3000:]
    assert "resumed from savepoint" in stdout, stdout
    assert result is not None, f"the stream resumed from the savepoint did not catch up: {stderr[-3000:]}"
    assert result.ok, render(result)

    # The Parquet output went through the same kill, stop and resumes: also exactly once.
    batch = _expected(root, out, tmp_path / "b3", data.start, data.end, until)
    parquet = _complete(pa.concat_tables([pq.read_table(f) for f in _files(out / "samples" / "ctr") if "/dt=" in f]), until)
    files = compare("ctr", batch, parquet.select(batch.column_names), batch.column_names[:IDENTITY])
    assert files.ok, render(files)
    print(f"kill/resume/stop/resume: {result.batch_rows} samples identical in Kafka and Parquet; "
          f"{committed} committed before the kill; resumed job running after "
          f"{running.group(1) if running else '?'} s, caught up {caught_up:.0f} s after the restart")
