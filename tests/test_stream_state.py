"""The state folder of `featuresql stream`: which snapshot --resume picks, and what it refuses.

Flink is not needed here: snapshots are folders with a `_metadata` file, laid out
as Flink writes them (tests/test_stream_recovery.py restores real ones).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from featuresql.diagnostics import FeaturesqlError
from featuresql.engines.flink_state import StreamState, fingerprint


def _snapshot(folder: Path, mtime: float) -> Path:
    folder.mkdir(parents=True)
    meta = folder / "_metadata"
    meta.write_bytes(b"x")
    os.utime(meta, (mtime, mtime))
    return folder


def test_fresh_state_gets_a_new_prefix_and_nothing_to_restore(tmp_path: Path) -> None:
    state = StreamState(tmp_path / "state")
    prefix, restored = state.open("ctr", "f1", resume=False)
    assert restored is None and prefix.startswith("featuresql-ctr-")
    assert StreamState(tmp_path / "other").open("ctr", "f1", resume=False)[0] != prefix


def test_resume_picks_the_newest_complete_snapshot_and_keeps_the_prefix(tmp_path: Path) -> None:
    state = StreamState(tmp_path / "state")
    prefix, _ = state.open("ctr", "f1", resume=False)
    state.remember("ctr", "f1", prefix)
    _snapshot(state.checkpoints / "job1" / "chk-3", 100)
    _snapshot(state.savepoints / "savepoint-aa-1", 200)
    newest = _snapshot(state.checkpoints / "job2" / "chk-7", 300)
    (state.checkpoints / "job2" / "chk-8").mkdir()  # in progress when the job died: no _metadata
    again, restored = state.open("ctr", "f1", resume=True)
    assert again == prefix  # the restored Kafka sink aborts what its predecessor left open
    assert restored is not None and restored.path == newest and restored.kind == "checkpoint"
    _snapshot(state.savepoints / "savepoint-bb-2", 400)
    assert state.open("ctr", "f1", resume=True)[1].kind == "savepoint"  # type: ignore[union-attr]


def test_a_fresh_start_over_existing_state_is_refused(tmp_path: Path) -> None:
    state = StreamState(tmp_path / "state")
    state.remember("ctr", "f1", "featuresql-ctr-x")
    _snapshot(state.checkpoints / "job1" / "chk-1", 100)
    with pytest.raises(FeaturesqlError, match="--resume"):
        state.open("ctr", "f1", resume=False)


def test_a_run_that_never_checkpointed_starts_fresh_with_its_old_prefix(tmp_path: Path) -> None:
    state = StreamState(tmp_path / "state")
    state.remember("ctr", "f1", "featuresql-ctr-kept")
    assert state.open("ctr", "f1", resume=False) == ("featuresql-ctr-kept", None)


def test_resume_needs_a_snapshot_of_the_same_job(tmp_path: Path) -> None:
    state = StreamState(tmp_path / "state")
    with pytest.raises(FeaturesqlError, match="no completed checkpoint"):
        state.open("ctr", "f1", resume=True)
    state.remember("ctr", "f1", "featuresql-ctr-x")
    _snapshot(state.checkpoints / "job1" / "chk-1", 100)
    with pytest.raises(FeaturesqlError, match="changed"):
        state.open("ctr", fingerprint("another job"), resume=True)
