"""`featuresql stream ctr` from Kafka: replayed events in, samples out, equal to DuckDB.

The example data is replayed into a real broker (`featuresql replay`, event-time
order), a real `featuresql stream ctr` process reads both topics (the catalogs'
Kafka bindings, nothing else changes), and its committed samples must equal
DuckDB's samples over the same events less the late ones the stream set aside,
for every spine row whose label the watermark has completed (t + h, section 7).
"""

from __future__ import annotations

import json
import os
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
from kafka_support import producer, unique
from stream_support import accounting, batch_rows, bound_topic, complete, kafka_project, files, kafka_samples, kept_events, rows_in, sustained_rate

from featuresql import Project
from featuresql.compare import compare, render

pytestmark = [pytest.mark.flink, pytest.mark.kafka]

FSQL = [sys.executable, "-m", "featuresql.cli"]
def test_stream_ctr_from_kafka_matches_duckdb(tmp_path: Path, kafka_bootstrap: str) -> None:
    root, data = kafka_project(tmp_path / "project", kafka_bootstrap, events=4000, days=2)
    assert Project(root).validate() == []
    replay = subprocess.run([*FSQL, "replay", "--project", str(root)], capture_output=True, text=True, timeout=300)
    assert replay.returncode == 0, replay.stderr[-3000:]
    # After the replay: an impression an hour after the first one, far below the watermark by the time it
    # arrives. Every role that reads impressions (events, spine, label points) sets it aside.
    con = duckdb.connect()
    found = con.execute(
        f"SELECT 'imp_straggler' AS impression_id, user_id, post_id, author_id, position, "
        f"strftime(event_time + INTERVAL 1 HOUR + INTERVAL 7 MILLISECOND, '%Y-%m-%d %H:%M:%S.%g') AS event_time "
        f"FROM read_parquet('{root}/data/impressions/*.parquet') WHERE event_time IS NOT NULL AND user_id IS NOT NULL "
        f"AND post_id IS NOT NULL AND author_id IS NOT NULL AND position IS NOT NULL ORDER BY event_time LIMIT 1"
    )
    straggler = dict(zip([d[0] for d in found.description], found.fetchone()))
    send = producer(kafka_bootstrap)
    send.produce(bound_topic(root, "impressions"), json.dumps(straggler).encode())
    assert send.flush(30) == 0

    out = tmp_path / "out"
    topic = unique("ctr_samples")
    began = time.monotonic()
    process = subprocess.Popen(
        [*FSQL, "stream", "ctr", "--out", str(out), "--checkpoint-interval", "2 s", "--kafka-topic", topic,
         "--project", str(root)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    latest = con.execute(
        f"SELECT least((SELECT max(event_time) FROM read_parquet('{root}/data/impressions/*.parquet')), "
        f"(SELECT max(event_time) FROM read_parquet('{root}/data/engagements/*.parquet')))"
    ).fetchone()[0]
    # A sample is out once both sources' watermarks pass t + 10 min: t <= latest - 5 s - 10 min.
    complete_until = latest - timedelta(seconds=5) - timedelta(minutes=10)
    target = out / "samples" / "ctr"
    result = None
    try:
        deadline = time.monotonic() + 420
        while time.monotonic() < deadline and process.poll() is None:
            time.sleep(5)
            got_files = [f for f in files(target) if "/dt=" in f]
            if not got_files:
                continue
            late = out / "late" / "ctr"
            paths = {
                "impressions": kept_events(con, root, "impressions", [late / "src_impressions", late / "spine_impressions",
                                                                        late / "label_impressions"], tmp_path / "b" / "i.parquet"),
                "engagements": kept_events(con, root, "engagements", [late / "src_engagements"], tmp_path / "b" / "e.parquet"),
            }
            batch = batch_rows(root, "ctr", data.start, data.end, paths)
            batch = batch.filter(pc.less_equal(batch.column("event_time"), pa.scalar(complete_until, pa.timestamp("ms"))))
            got = pa.concat_tables([pq.read_table(f) for f in got_files])
            got = got.filter(pc.less_equal(got.column("event_time"), pa.scalar(complete_until, pa.timestamp("ms"))))
            if got.num_rows >= batch.num_rows:
                result = compare("ctr", batch, got.select(batch.column_names), [c for c in batch.column_names[:6]])
                break
        caught_up = time.monotonic() - began
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
        try:
            stdout, stderr = process.communicate(timeout=120)
        except subprocess.TimeoutExpired:
            process.kill()
            stdout, stderr = process.communicate()
    assert result is not None, f"the stream did not catch up in time: {stderr[-3000:]}"
    assert result.ok, render(result)
    assert result.batch_rows > 100, "too few complete samples to mean anything"
    assert process.returncode == 0, stderr[-3000:]
    # The same samples went to the Kafka topic (exactly once; the graceful stop committed the rest).
    published = complete(kafka_samples(kafka_bootstrap, topic, batch.schema), complete_until)
    in_kafka = compare("ctr", batch, published.select(batch.column_names), batch.column_names[:6])
    assert in_kafka.ok, render(in_kafka)
    # Every record is accounted for once per table, although the job reads impressions in three roles
    # (events, spine, label points), each with its own late writer: late counts the events role's.
    consumed, processed, late_rows, rejected = accounting(stdout)
    late = out / "late" / "ctr"
    assert rows_in(late / "spine_impressions") >= 1, "the straggler was not set aside as a spine row"
    assert late_rows == rows_in(late / "src_impressions") + rows_in(late / "src_engagements") >= 1
    assert rejected == rows_in(out / "rejected" / "ctr")
    # Replay sends every row with an event time; the straggler is one more.
    sent = 1 + sum(con.execute(f"SELECT count(event_time) FROM read_parquet('{root}/data/{t}/*.parquet')").fetchone()[0]
                   for t in ("impressions", "engagements"))
    assert 0 < consumed <= sent and processed == consumed - late_rows - rejected
    rate = sustained_rate(stderr)
    print(f"ctr Kafka -> Kafka and Parquet: {result.batch_rows} samples identical to DuckDB, caught up after "
          f"{caught_up:.0f} s, read {rate:,.0f} events/s while catching up; consumed {consumed:,} of {sent:,} sent "
          f"= processed {processed:,} + late {late_rows:,} + rejected {rejected:,}")


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text)


def test_stream_feature_to_upsert_kafka_holds_the_latest_values_per_entity(tmp_path: Path, kafka_bootstrap: str) -> None:
    """Kafka in, upsert-kafka out (exactly once): the last committed message per user is
    DuckDB's last update-log row of that user, over the events less the late ones."""
    import json

    from kafka_support import consume_all

    root, data = kafka_project(tmp_path / "project", kafka_bootstrap, events=3000, days=2)
    replay = subprocess.run([*FSQL, "replay", "engagements", "--project", str(root)], capture_output=True, text=True, timeout=300)
    assert replay.returncode == 0, replay.stderr[-3000:]
    topic = unique("user_engagement")
    out = tmp_path / "out"
    process = subprocess.Popen(
        [*FSQL, "stream", "user_engagement", "--out", str(out), "--checkpoint-interval", "2 s", "--kafka-topic", topic,
         "--project", str(root)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    con = duckdb.connect()
    latest = con.execute(f"SELECT max(event_time) FROM read_parquet('{root}/data/engagements/*.parquet')").fetchone()[0]
    passed = pa.scalar(latest - timedelta(seconds=5), pa.timestamp("ms"))
    expected: dict[str, dict] = {}
    got: dict[str, dict] = {}
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and process.poll() is None:
            time.sleep(5)
            late = out / "late" / "user_engagement" / "src_engagements"
            kept = kept_events(con, root, "engagements", [late], tmp_path / "b" / "e.parquet")
            batch = batch_rows(root, "user_engagement", data.start, data.end, {"engagements": kept})
            batch = batch.filter(pc.less_equal(batch.column("event_time"), passed))
            expected = {}
            for row in batch.to_pylist():  # the last row per user (peers at one ms carry equal values)
                if row["user_id"] not in expected or row["event_time"] >= expected[row["user_id"]]["event_time"]:
                    expected[row["user_id"]] = row
            got = {}
            try:
                messages = consume_all(kafka_bootstrap, topic, timeout=10)
            except AssertionError:  # no topic yet: the sink has not committed a transaction
                continue
            for message in messages:
                if message.error() is None and message.value() is not None:
                    got[json.loads(message.key())["user_id"]] = json.loads(message.value())
            if set(got) == set(expected) and all(
                _time(got[u]["event_time"]) == expected[u]["event_time"] for u in expected
            ):
                break
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
        try:
            _, stderr = process.communicate(timeout=120)
        except subprocess.TimeoutExpired:
            process.kill()
            _, stderr = process.communicate()
    assert expected and set(got) == set(expected), (len(got), len(expected), stderr[-2000:])
    for user, row in expected.items():
        assert _time(got[user]["event_time"]) == row["event_time"], (user, got[user]["event_time"], row["event_time"])
        for column in ("events_lifetime", "clicks_1d", "authors_7d", "max_dwell_lifetime"):
            assert got[user][column] == row[column], (user, column, got[user][column], row[column])
        assert got[user]["click_rate_lifetime"] == pytest.approx(row["click_rate_lifetime"], rel=1e-9, nan_ok=True) \
            if row["click_rate_lifetime"] is not None else got[user]["click_rate_lifetime"] is None
