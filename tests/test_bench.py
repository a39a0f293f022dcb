"""A smoke run of the benchmark harness (bench/, issue 6) at a tiny size.

Not a measurement: it proves that every DuckDB-side arm runs in its own
process, that the arms produce the same rows, and that the reports are
written. Feast is left out (it needs its own virtualenv, `make bench-feast`).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.run import main

pytestmark = pytest.mark.slow


def test_smoke_run_agrees_and_writes_reports(tmp_path: Path) -> None:
    results = main([
        "--size", "5k", "--repeat", "1", "--warmup", "0", "--validate-files", "10",
        "--arms", "floor,backfill,samples.featuresql,samples.duckdb_sql,samples.pandas,validate",
        "--data-dir", str(tmp_path / "data"), "--results-dir", str(tmp_path / "results"), "--name", "smoke",
    ])

    assert all(arm["status"] == "ok" for arm in results["arms"].values()), results["arms"]
    pairs = {(c["left"], c["right"]): c for c in results["checks"]}
    assert set(pairs) == {
        ("backfill.featuresql", "backfill.duckdb_sql"),
        ("samples.featuresql", "samples.duckdb_sql"),
        ("samples.featuresql", "samples.pandas"),
    }
    for check in pairs.values():
        assert check["agree"], check
        assert check["rows_left"] > 0

    written = json.loads((tmp_path / "results" / "smoke.json").read_text())
    assert written["ratios"]["backfill_featuresql_over_handwritten"] > 0
    assert written["machine"]["cores"] >= 1
    report = (tmp_path / "results" / "smoke.md").read_text()
    assert "| 1. backfill update log | backfill.featuresql |" in report
    assert "Not run: opt-in, `python -m bench --workload flink`" in report


@pytest.mark.flink
def test_flink_workload_arms_agree_with_each_other_and_duckdb(tmp_path: Path) -> None:
    """Workload 3 at a tiny size: both Flink arms finish, report start-up, and give DuckDB's rows."""
    results = main([
        "--workload", "flink", "--size", "2k", "--repeat", "1", "--warmup", "0",
        "--data-dir", str(tmp_path / "data"), "--results-dir", str(tmp_path / "results"), "--name", "smoke",
    ])

    assert set(results["arms"]) == {"flink.featuresql", "flink.handwritten_sql"}
    for arm in results["arms"].values():
        assert arm["status"] == "ok", arm
        assert arm["startup_seconds"] > 0 and arm["events"] > 0
    assert len(results["checks"]) == 2 and all(c["agree"] and c["rows_left"] > 0 for c in results["checks"]), results["checks"]
    assert results["ratios"]["flink_generated_over_handwritten"] > 0
    assert "| flink.featuresql |" in (tmp_path / "results" / "smoke.md").read_text()


def test_freshness_latency_matches_rows_by_user_and_event_time() -> None:
    """Workload 4's matching, without a broker: the first arrival of an event's row counts; no row is missing."""
    import numpy as np

    from bench.freshness import _key, _latencies

    sent = np.asarray([_key(1, 1_000), _key(2, 1_000), _key(1, 1_500)], dtype=np.int64)
    received = {
        "keys": np.asarray([_key(2, 1_000), _key(1, 1_000), _key(1, 1_000), _key(9, 1_000)], dtype=np.int64),
        "arrived": np.asarray([1_300, 2_000, 1_200, 1_100], dtype=np.int64),
    }

    latency, missing = _latencies(sent, received, "arrived")

    assert sorted(latency.tolist()) == [200, 300]  # user 1 at 1,000: its first arrival (1,200)
    assert missing == 1  # user 1 at 1,500 got no row


def test_freshness_settings_are_picked_by_name_and_an_unknown_name_is_an_error() -> None:
    from bench.freshness import SETTINGS, pick

    assert pick("") == SETTINGS
    assert [s.name for s in pick(f" {SETTINGS[-1].name}, {SETTINGS[0].name}")] == [SETTINGS[0].name, SETTINGS[-1].name]
    with pytest.raises(SystemExit, match="unknown freshness setting"):
        pick("wm0_ckpt0")


def test_backfill_into_files_agrees_and_the_sampled_check_still_catches_a_difference(tmp_path: Path) -> None:
    """The 100M form of workload 1 at a tiny size: both arms write day-partitioned Parquet
    folders, which are compared; a comparison of a sample of users still sees a changed value."""
    from bench import check

    results = main([
        "--workload", "backfill-files", "--size", "5k", "--repeat", "1", "--warmup", "0",
        "--data-dir", str(tmp_path / "data"), "--results-dir", str(tmp_path / "results"), "--name", "files",
    ])
    assert all(arm["status"] == "ok" for arm in results["arms"].values()), results["arms"]
    (compared,) = results["checks"]
    assert compared["agree"] and compared["rows_left"] > 1000 and compared["where"] == "true", compared
    assert results["ratios"]["backfill_files_featuresql_over_handwritten"] > 0

    ours = tmp_path / "data" / "5k-default" / "results" / "backfill_files.featuresql.parquet"
    assert ours.is_dir() and any(p.name.startswith("dt=") for p in ours.iterdir())
    sampled = "hash(user_id) % 2 = 0"
    assert check.compare(ours, ours.with_name("backfill_files.duckdb_sql.parquet"), ["user_id", "event_time"],
                         where=sampled).agree
    # One changed value in a sampled user's row must show.
    import duckdb

    changed = tmp_path / "changed.parquet"
    rows = f"read_parquet('{ours}/**/*.parquet', hive_partitioning = false)"
    duckdb.execute(
        f"COPY (WITH first AS (SELECT user_id, event_time FROM {rows} WHERE {sampled} ORDER BY ALL LIMIT 1) "
        f"SELECT r.* REPLACE (CASE WHEN f.user_id IS NULL THEN r.imps_7d ELSE r.imps_7d + 1 END AS imps_7d) "
        f"FROM {rows} r LEFT JOIN first f USING (user_id, event_time)) TO '{changed}'"
    )
    found = check.compare(ours, changed, ["user_id", "event_time"], columns=None, where=sampled)
    assert not found.agree and found.mismatched == {"imps_7d": 1}, found


def test_feast_join_rows_counts_every_earlier_row_of_the_user_ties_included(tmp_path: Path) -> None:
    """The size of Feast's range join, reported as what limits it, equals a brute-force count of
    (spine row, update-log row) pairs with the same user and log time <= spine time."""
    import itertools
    import random
    from datetime import timedelta

    import pyarrow as pa
    import pyarrow.parquet as pq

    from bench import check
    from bench.arms import END, START

    rng = random.Random(7)
    moments = [START + timedelta(minutes=m) for m in range(0, 60, 5)]  # few moments: many ties
    log = [(rng.choice(["a", "b", "c", None]), rng.choice(moments + [None])) for _ in range(60)]
    outside = [START - timedelta(days=1), END, END + timedelta(minutes=5)]  # Feast is not given these
    spine = [(rng.choice(["a", "b", "c", "d", None]), rng.choice(moments + outside)) for _ in range(60)]
    (tmp_path / "results").mkdir()
    (tmp_path / "data" / "spine").mkdir(parents=True)
    pq.write_table(pa.table({"user_id": [u for u, _ in log], "event_time": [t for _, t in log]}),
                   tmp_path / "results" / "backfill.featuresql.parquet")
    pq.write_table(pa.table({"user_id": [u for u, _ in spine], "event_time": [t for _, t in spine]}),
                   tmp_path / "data" / "spine" / "part.parquet")

    given = [(u, t) for u, t in spine if u is not None and START <= t < END]
    expected = sum(1 for (su, st), (lu, lt) in itertools.product(given, log)
                   if su == lu and lt is not None and lt <= st)

    assert expected > 0 and len(given) < len(spine)
    assert check.feast_join_rows(tmp_path) == (len(given), expected)


def test_duckdb_memory_limit_under_feast_reaches_the_feast_arm_only() -> None:
    from bench.arms import FEAST_DUCKDB_MEMORY_ENV
    from bench.run import Limits

    limits = Limits(memory_mb=100, feast_memory_mb=200, feast_duckdb_memory_mb=150)

    assert (limits.cap("samples.feast"), limits.cap("samples.featuresql")) == (200, 100)
    assert limits.env("samples.feast")[FEAST_DUCKDB_MEMORY_ENV] == "150"
    assert limits.env("samples.featuresql") is None
    assert Limits().env("samples.feast") is None  # as Feast ships
