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
from kafka_support import unique
from stream_support import batch_rows, complete, kafka_project, files, kafka_samples, kept_events, sustained_rate

from featuresql import Project
from featuresql.compare import Comparison, compare, render

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


def _expected(root: Path, out: Path, tmp: Path, start: datetime, end: datetime, until: datetime) -> pa.Table:
    """DuckDB's samples over every replayed event less the rows the stream committed as late."""
    con = duckdb.connect()
    late = out / "late" / "ctr"
    paths = {
        "impressions": kept_events(con, root, "impressions",
                                    [late / "src_impressions", late / "spine_impressions", late / "label_impressions"],
                                    tmp / "kept" / "i.parquet"),
        "engagements": kept_events(con, root, "engagements", [late / "src_engagements"], tmp / "kept" / "e.parquet"),
    }
    return complete(batch_rows(root, "ctr", start, end, paths), until)


def _wait_identical(root: Path, out: Path, tmp: Path, bootstrap: str, topic: str, data: object, until: datetime,
                    process: subprocess.Popen[str], timeout: float) -> tuple[Comparison | None, float]:
    """Poll until the committed samples cover every complete spine row; (comparison, seconds waited)."""
    began = time.monotonic()
    result = None
    while time.monotonic() - began < timeout and process.poll() is None:
        time.sleep(4)
        batch = _expected(root, out, tmp, data.start, data.end, until)  # type: ignore[attr-defined]
        got = complete(kafka_samples(bootstrap, topic, batch.schema), until)
        if got.num_rows >= batch.num_rows:
            result = compare("ctr", batch, got.select(batch.column_names), batch.column_names[:IDENTITY])
            break
    return result, time.monotonic() - began


def _watermark_passed(root: Path, before: datetime) -> datetime:
    """The last spine time whose sample the watermark completed, for events before `before`.

    Every source must pass t + h: the slowest table (the sparsest: engagements)
    decides, at its latest event less the 5 s delay.
    """
    con = duckdb.connect()
    latest = min(
        con.execute(f"SELECT max(event_time) FROM read_parquet('{root}/data/{table}/*.parquet') "
                    f"WHERE event_time < TIMESTAMP '{before.isoformat(sep=' ')}'").fetchone()[0]
        for table in ("impressions", "engagements")
    )
    return latest - timedelta(seconds=5) - timedelta(minutes=10)


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
    root, data = kafka_project(tmp_path / "project", kafka_bootstrap, events=3000, days=2)
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
    deadline = time.monotonic() + 480  # a loaded 2-core machine needs minutes for the first samples
    committed = 0
    while time.monotonic() < deadline and stream.poll() is None and not committed:
        time.sleep(2)
        committed = kafka_samples(kafka_bootstrap, topic, pa.schema([("event_time", pa.timestamp("ms"))])).num_rows
    assert committed, f"no output committed before the kill: {_finish(stream)[1][-3000:]}"
    # Slow enough that most of the slice (events of both topics) comes after the last checkpoint
    # before the kill: a restored job emits only once new events move every source's watermark.
    feeding = _replay(root, cut_kill, cut_stop, rate=60)
    time.sleep(5)  # a few checkpoints into the slice: some of it committed, some read but not yet
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
    until = _watermark_passed(root, cut_stop)
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
    until = _watermark_passed(root, end)
    result, _ = _wait_identical(root, out, tmp_path / "b2", kafka_bootstrap, topic, data, until, final, 300)
    final.send_signal(signal.SIGINT)
    stdout, stderr = _finish(final)
    assert final.returncode == 0, stderr[-3000:]
    assert "resumed from savepoint" in stdout, stdout
    assert result is not None, f"the stream resumed from the savepoint did not catch up: {stderr[-3000:]}"
    assert result.ok, render(result)

    # The Parquet output went through the same kill, stop and resumes: also exactly once.
    batch = _expected(root, out, tmp_path / "b3", data.start, data.end, until)
    parquet = complete(pa.concat_tables([pq.read_table(f) for f in files(out / "samples" / "ctr") if "/dt=" in f]), until)
    written = compare("ctr", batch, parquet.select(batch.column_names), batch.column_names[:IDENTITY])
    assert written.ok, render(written)
    print(f"kill/resume/stop/resume: {result.batch_rows} samples identical in Kafka and Parquet; "
          f"{committed} committed before the kill; resumed job running after "
          f"{running.group(1) if running else '?'} s, caught up {caught_up:.0f} s after the restart; "
          f"after the savepoint it read {sustained_rate(stderr):,.0f} events/s while catching up")


def _committed_update_log(out: Path) -> pa.Table | None:
    parts = [f for f in files(out / "features" / "user_engagement") if "/dt=" in f]
    return pa.concat_tables([pq.read_table(f) for f in parts]) if parts else None


def _expected_update_log(root: Path, out: Path, tmp: Path, start: datetime, end: datetime, until: datetime) -> pa.Table:
    con = duckdb.connect()
    kept = kept_events(con, root, "engagements", [out / "late" / "user_engagement" / "src_engagements"], tmp / "e.parquet")
    return complete(batch_rows(root, "user_engagement", start, end, {"engagements": kept}), until)


def _wait_update_log(root: Path, out: Path, tmp: Path, data: object, until: datetime,
                     process: subprocess.Popen[str]) -> tuple[pa.Table, pa.Table] | None:
    """Poll until the committed update log covers DuckDB's up to `until`; (DuckDB's, committed) or None."""
    deadline = time.monotonic() + 480
    while time.monotonic() < deadline and process.poll() is None:
        time.sleep(3)
        got = _committed_update_log(out)
        want = _expected_update_log(root, out, tmp, data.start, data.end, until)  # type: ignore[attr-defined]
        if got is not None and complete(got, until).num_rows >= want.num_rows:
            return want, complete(got, until)
    return None


def test_a_resumed_stream_judges_late_events_as_if_it_never_stopped(tmp_path: Path, kafka_bootstrap: str) -> None:
    """A straggler, far older than the watermark before a stop, arrives first after the restart.

    Flink keeps no watermark in a savepoint: judged by CURRENT_WATERMARK, the
    straggler would pass as on time (no watermark yet) and then vanish in a
    window operator whose restored state has moved past it. The stream's own
    watermark (the running maximum of arrived times, kept in state) sets it
    aside as late, counted and written, and the update log stays DuckDB's.
    """
    root, data = kafka_project(tmp_path / "project", kafka_bootstrap, events=3000, days=1)
    folder = root / "data" / "engagements"
    events = pa.concat_tables([pq.read_table(f) for f in sorted(folder.glob("*.parquet"))])
    events = events.filter(pc.is_valid(events.column("event_time")))
    times = sorted(events.column("event_time").to_pylist())
    cut = times[len(times) * 2 // 3]
    before = events.filter(pc.less(events.column("event_time"), pa.scalar(cut, pa.timestamp("ms"))))
    # A copy of the last event before the cut, an hour older: far below the watermark, and its user has moved on.
    last = before.sort_by([("event_time", "descending")]).slice(0, 1)
    straggler_time = last.column("event_time")[0].as_py() - timedelta(hours=1, milliseconds=-7)
    assert straggler_time not in set(times)
    straggler = last.set_column(last.schema.get_field_index("event_time"), "event_time",
                                pa.array([straggler_time], last.schema.field("event_time").type))
    out = tmp_path / "out"
    topic_end = times[-1] + timedelta(milliseconds=1)

    assert _replay(root, times[0], cut).wait(timeout=300) == 0
    command = [*FSQL, "stream", "user_engagement", "--out", str(out), "--checkpoint-interval", "2 s",
               "--project", str(root)]
    stream = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV,
                              start_new_session=True)
    _wait_update_log(root, out, tmp_path / "w1", data, cut - timedelta(seconds=5), stream)
    stream.send_signal(signal.SIGINT)
    stdout, stderr = _finish(stream)
    assert stream.returncode == 0 and "savepoint" in stdout, stderr[-3000:]

    # While it is stopped: the straggler first, then the rest of the day.
    pq.write_table(straggler, folder / "zz-straggler.parquet")
    assert _replay(root, straggler_time, straggler_time + timedelta(milliseconds=1)).wait(timeout=300) == 0
    assert _replay(root, cut, topic_end).wait(timeout=300) == 0
    resumed = subprocess.Popen([*command, "--resume"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env=ENV, start_new_session=True)
    caught_up = _wait_update_log(root, out, tmp_path / "w2", data, times[-1] - timedelta(seconds=5), resumed)
    result = None
    if caught_up is not None:
        want, got = caught_up
        result = compare("user_engagement", want, got.select(want.column_names), ["user_id", "event_time"])
    resumed.send_signal(signal.SIGINT)
    stdout, stderr = _finish(resumed)
    assert resumed.returncode == 0, stderr[-3000:]
    assert result is not None, f"the resumed stream did not catch up: {stderr[-3000:]}"
    assert result.ok, render(result)
    late = pa.concat_tables([pq.read_table(f) for f in files(out / "late" / "user_engagement")])
    assert late.num_rows == 1, late.to_pylist()
    assert late.column("event_time")[0].as_py() == straggler_time
    assert late.column("__watermark")[0].as_py() >= straggler_time
