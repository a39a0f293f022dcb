"""Bad events in a Kafka stream: the job keeps running, every bad record is set aside once with its reason.

The engagements of a small generated dataset are replayed into a fresh topic; a
real `featuresql stream user_engagement` reads it; once its watermark has moved,
the topic is salted with one record of every kind of bad event, and a valid
event from long ago (late: at or below the watermark). The dead-letter files
must hold exactly the bad records (reason, topic, partition, offset, payload),
the run's last line must account for every message of the topic
(consumed = processed + late + rejected), and the committed update log must be
DuckDB's over the replayed events less the late ones (docs/semantics.md
sections 4 and 7).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from featuresql import Project
from featuresql.compare import compare, render
from kafka_support import consume_all, producer
from stream_support import accounting as _accounting, batch_rows, bound_topic, files as _files, kafka_project, kept_events as _kept_events

pytestmark = [pytest.mark.flink, pytest.mark.kafka]

FSQL = [sys.executable, "-m", "featuresql.cli"]


def _event(**changes: object) -> dict:
    event = {"user_id": "u_salt", "post_id": "p1", "author_id": "a1", "action": "click", "dwell_ms": 1200,
             "event_time": "2026-01-05 12:00:00.000"}
    event.update(changes)
    return event


def _json(event: dict, drop: str | None = None) -> bytes:
    return json.dumps({k: v for k, v in event.items() if k != drop}).encode()


#: (message value, the reason it must be rejected with); None: a tombstone (no value).
SALT: list[tuple[bytes | None, str]] = [
    (b"\x00\xffnot json at all", "malformed JSON"),
    (b'{"user_id": "u1", "post_id": "p', "malformed JSON"),
    (b"", "malformed JSON"),
    (None, "empty message"),
    (b"[1, 2, 3]", "not a JSON object"),
    (b'"just a string"', "not a JSON object"),
    (_json(_event(), drop="user_id"), "missing field user_id"),
    (_json(_event(), drop="event_time"), "missing field event_time"),
    (_json(_event(), drop="dwell_ms"), "missing field dwell_ms"),
    (_json(_event(dwell_ms="abc")), "wrong type for dwell_ms: BIGINT"),
    (_json(_event(dwell_ms=[1])), "wrong type for dwell_ms: BIGINT"),
    (_json(_event(user_id={"id": 1})), "wrong type for user_id: STRING"),
    (_json(_event(event_time="yesterday")), "wrong type for event_time: TIMESTAMP(3)"),
    (_json(_event(user_id=None)), "NULL key user_id"),
    (_json(_event(event_time=None)), "NULL event time"),
    (_json(_event(event_time="2200-01-01 00:00:00.000")), "event time too far in the future"),
]
#: A valid event from long before the replayed data: late once the watermark has moved, never rejected.
FAR_PAST = _json(_event(user_id="u_past", event_time="2025-06-01 08:00:00.000"))


def _expected_reason(value: bytes | None) -> str | None:
    """Why a message must be rejected (None: it is good): the salt's reasons, and the
    generated data's own malformed rows (a NULL user, sent by replay as a JSON null)."""
    for salt, reason in SALT:
        if value == salt:
            return reason
    event = json.loads(value)
    return "NULL key user_id" if event["user_id"] is None else None


def _rejected(folder: Path) -> list[dict]:
    files = _files(folder)
    return pa.concat_tables([pq.read_table(f) for f in files]).to_pylist() if files else []


def test_bad_records_go_to_the_dead_letter_folder_and_every_record_is_accounted_for(
    tmp_path: Path, kafka_bootstrap: str
) -> None:
    began = time.monotonic()
    root, data = kafka_project(tmp_path / "project", kafka_bootstrap, events=2000, days=2)
    topic = bound_topic(root, "engagements")
    replay = subprocess.run([*FSQL, "replay", "engagements", "--project", str(root)], capture_output=True, text=True,
                            timeout=300)
    assert replay.returncode == 0, replay.stderr[-3000:]

    out = tmp_path / "out"
    process = subprocess.Popen(
        [*FSQL, "stream", "user_engagement", "--out", str(out), "--checkpoint-interval", "2 s", "--project", str(root)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    target = out / "features" / "user_engagement"
    late_folder = out / "late" / "user_engagement" / "src_engagements"
    dead_letters = out / "rejected" / "user_engagement" / "engagements"
    con = duckdb.connect()
    latest = con.execute(f"SELECT max(event_time) FROM read_parquet('{root}/data/engagements/*.parquet')").fetchone()[0]
    passed = pa.scalar(latest - timedelta(seconds=5), pa.timestamp("ms"))
    result = None
    messages: list = []
    got_rejects: list[dict] = []
    try:
        deadline = time.monotonic() + 300
        # The watermark has moved once the first rows are committed.
        while time.monotonic() < deadline and process.poll() is None and not [f for f in _files(target) if "/dt=" in f]:
            time.sleep(2)
        assert process.poll() is None, process.communicate()[1][-3000:]
        salt = producer(kafka_bootstrap)
        for value, _ in SALT[:8]:
            salt.produce(topic, value)
        salt.produce(topic, FAR_PAST)
        for value, _ in SALT[8:]:
            salt.produce(topic, value)
        salt.flush(30)
        del salt
        messages = consume_all(kafka_bootstrap, topic)
        expected_rejects = sorted(
            (m.offset(), reason) for m in messages if (reason := _expected_reason(m.value())) is not None
        )
        while time.monotonic() < deadline and process.poll() is None:
            time.sleep(3)
            got_rejects = _rejected(dead_letters)
            late = _rejected(late_folder)
            if len(got_rejects) < len(expected_rejects) or not any(r["user_id"] == "u_past" for r in late):
                continue
            kept = _kept_events(con, root, "engagements", [late_folder], tmp_path / "b" / "e.parquet")
            batch = batch_rows(root, "user_engagement", data.start, data.end, {"engagements": kept})
            batch = batch.filter(pc.less_equal(batch.column("event_time"), passed))
            got_files = [f for f in _files(target) if "/dt=" in f]
            got = pa.concat_tables([pq.read_table(f) for f in got_files])
            got = got.filter(pc.less_equal(got.column("event_time"), passed))
            if got.num_rows >= batch.num_rows:
                result = compare("user_engagement", batch, got.select(batch.column_names), ["user_id", "event_time"])
                break
        # A poll of the metrics after everything was read, before stopping.
        time.sleep(5)
        running = process.poll() is None
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
        try:
            stdout, stderr = process.communicate(timeout=120)
        except subprocess.TimeoutExpired:
            process.kill()
            stdout, stderr = process.communicate()
    assert running, f"the job did not keep running through the bad records: {stderr[-3000:]}"
    assert result is not None, f"the stream did not catch up in time: {stderr[-3000:]}"
    assert result.ok, render(result)
    assert process.returncode == 0, stderr[-3000:]

    # Exactly the bad records, each once, with its reason and where it came from.
    assert sorted((r["offset"], r["reason"]) for r in got_rejects) == expected_rejects
    by_offset = {m.offset(): m.value() for m in messages}
    for row in got_rejects:
        assert row["topic"] == topic and row["partition"] == 0 and row["file"] is None
        assert row["timestamp"] is not None
        value = by_offset[row["offset"]]
        assert row["payload"] == value, row  # the message's bytes as they came
    assert {reason for _, reason in SALT} <= {r["reason"] for r in got_rejects}

    # consumed = processed + late + rejected, and each term is what the topic and the folders hold.
    consumed, processed, late, rejected = _accounting(stdout)
    late_rows = _rejected(late_folder)
    assert consumed == len(messages), (consumed, len(messages))
    assert rejected == len(expected_rejects)
    assert late == len(late_rows) and [r["user_id"] for r in late_rows].count("u_past") == 1
    assert consumed == processed + late + rejected
    print(f"dead letters: {len(messages)} messages = {processed} processed + {late} late + {rejected} rejected; "
          f"{result.batch_rows} rows identical to DuckDB; {time.monotonic() - began:.0f} s")
