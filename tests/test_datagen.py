"""Tests for the example dataset generator (featuresql.datagen)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from featuresql.datagen import GeneratedData, generate, parse_size

EVENTS = 20_000
DAYS = 7
START = datetime(2026, 1, 5)

# Spelled out here rather than imported, so a schema drift in the module fails.
IMPRESSIONS = pa.schema(
    [
        ("impression_id", pa.string()),
        ("user_id", pa.string()),
        ("post_id", pa.string()),
        ("author_id", pa.string()),
        ("position", pa.int32()),
        ("event_time", pa.timestamp("ms")),
    ]
)
ENGAGEMENTS = pa.schema(
    [
        ("user_id", pa.string()),
        ("post_id", pa.string()),
        ("author_id", pa.string()),
        ("action", pa.string()),
        ("dwell_ms", pa.int64()),
        ("event_time", pa.timestamp("ms")),
    ]
)


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, GeneratedData]:
    out = tmp_path_factory.mktemp("feed")
    return out, generate(out, events=EVENTS, days=DAYS, seed=7, start=START)


@pytest.fixture(scope="module")
def db(data: tuple[Path, GeneratedData]) -> duckdb.DuckDBPyConnection:
    out, _ = data
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute(f"CREATE VIEW imp AS SELECT * FROM read_parquet('{out}/impressions/*.parquet')")
    con.execute(f"CREATE VIEW eng AS SELECT * FROM read_parquet('{out}/engagements/*.parquet')")
    return con


def one(con: duckdb.DuckDBPyConnection, sql: str) -> object:
    row = con.execute(sql).fetchone()
    assert row is not None
    return row[0]


def part_files(out: Path) -> list[str]:
    return sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file())


def test_layout_and_schemas(data: tuple[Path, GeneratedData]) -> None:
    out, result = data
    imp_files = sorted((out / "impressions").glob("part-*.parquet"))
    eng_files = sorted((out / "engagements").glob("part-*.parquet"))
    assert len(imp_files) == DAYS and len(eng_files) == DAYS  # small size: one file per day
    assert sorted(result.files) == sorted(imp_files + eng_files)
    assert part_files(out) == sorted(str(p.relative_to(out)) for p in result.files)  # no temp files
    for path in imp_files:
        assert pq.read_schema(path).remove_metadata().equals(IMPRESSIONS)
        assert pq.ParquetFile(path).metadata.row_group(0).column(0).compression == "SNAPPY"
    for path in eng_files:
        assert pq.read_schema(path).remove_metadata().equals(ENGAGEMENTS)


def test_counts(data: tuple[Path, GeneratedData], db: duckdb.DuckDBPyConnection) -> None:
    _, result = data
    assert one(db, "SELECT count(*) FROM imp") == result.impressions
    assert one(db, "SELECT count(*) FROM eng") == result.engagements
    total = result.impressions + result.engagements
    assert abs(total - EVENTS) <= 0.03 * EVENTS
    assert 0.7 <= result.impressions / total <= 0.97
    ctr = one(db, "SELECT count(*) FILTER (WHERE action = 'click') FROM eng") / result.impressions
    assert 0.03 <= ctr <= 0.08
    assert result.start == START and result.end == START + timedelta(days=DAYS)


def test_values(db: duckdb.DuckDBPyConnection) -> None:
    assert one(db, "SELECT count(*) - count(DISTINCT impression_id) FROM imp") == 0
    assert one(db, "SELECT min(position) FROM imp") >= 1
    assert one(db, "SELECT max(position) FROM imp") <= 50
    actions = {r[0] for r in db.execute("SELECT DISTINCT action FROM eng").fetchall()}
    assert actions == {"click", "like", "repost", "comment", "spam"}
    # Clicks always carry a positive dwell; other actions sometimes lack one.
    assert one(db, "SELECT count(*) FROM eng WHERE action = 'click' AND NOT dwell_ms > 0") == 0
    assert one(db, "SELECT count(*) FROM eng WHERE action <> 'click' AND dwell_ms IS NULL") > 0
    # A post has exactly one author, in both tables.
    assert one(db, """
        SELECT count(*) FROM (
            SELECT post_id FROM (SELECT post_id, author_id FROM imp UNION SELECT post_id, author_id FROM eng)
            GROUP BY post_id HAVING count(DISTINCT author_id) > 1)
    """) == 0
    for column, prefix in [("user_id", "u"), ("post_id", "p"), ("author_id", "a")]:
        assert one(db, f"SELECT count(*) FROM imp WHERE NOT regexp_matches({column}, '^{prefix}[0-9]+$')") == 0
    assert one(db, "SELECT count(*) FROM imp WHERE NOT regexp_matches(impression_id, '^i[0-9]+$')") == 0
    # Skew: the busiest user has far more impressions than the median one.
    top, median = db.execute(
        "SELECT max(c), median(c) FROM (SELECT count(*) c FROM imp WHERE user_id IS NOT NULL GROUP BY user_id)"
    ).fetchone()
    assert top >= 20 * median


def test_times_within_range(db: duckdb.DuckDBPyConnection) -> None:
    for table in ("imp", "eng"):
        lo, hi = db.execute(f"SELECT min(event_time), max(event_time) FROM {table}").fetchone()
        assert START <= lo and hi < START + timedelta(days=DAYS)


def test_each_file_is_one_day(data: tuple[Path, GeneratedData]) -> None:
    out, _ = data
    for table in ("impressions", "engagements"):
        for day, path in enumerate(sorted((out / table).glob("part-*.parquet"))):
            times = pq.read_table(path, columns=["event_time"]).column(0).drop_null().to_pylist()
            assert min(times) >= START + timedelta(days=day)
            assert max(times) < START + timedelta(days=day + 1)


def test_clicks_follow_impressions(db: duckdb.DuckDBPyConnection) -> None:
    orphans = one(db, """
        SELECT count(*) FROM eng e
        WHERE action = 'click' AND user_id IS NOT NULL AND post_id IS NOT NULL AND event_time IS NOT NULL
          AND NOT EXISTS (SELECT 1 FROM imp i WHERE i.user_id = e.user_id AND i.post_id = e.post_id
                          AND i.event_time <= e.event_time)
    """)
    assert orphans == 0
    # Most clicks land within the 10-minute label horizon of an impression.
    within, clicks = db.execute("""
        SELECT count(*) FILTER (WHERE EXISTS (
                   SELECT 1 FROM imp i WHERE i.user_id = e.user_id AND i.post_id = e.post_id
                   AND e.event_time - INTERVAL 10 MINUTE <= i.event_time AND i.event_time < e.event_time)),
               count(*)
        FROM eng e WHERE action = 'click' AND user_id IS NOT NULL AND event_time IS NOT NULL
    """).fetchone()
    assert within >= 0.9 * clicks


def test_ties_exist(db: duckdb.DuckDBPyConnection) -> None:
    # Different users' events on the same millisecond.
    assert one(db, """
        SELECT count(*) FROM (SELECT event_time FROM imp WHERE event_time IS NOT NULL
                              GROUP BY event_time HAVING count(DISTINCT user_id) > 1)
    """) > 0
    # A user's impressions on the same millisecond (first screen of a feed load).
    assert one(db, """
        SELECT count(*) FROM (SELECT user_id, event_time FROM imp WHERE event_time IS NOT NULL
                              GROUP BY ALL HAVING count(*) > 1)
    """) > 0
    # A click on exactly the millisecond of another impression of the same user.
    assert one(db, """
        SELECT count(*) FROM eng e JOIN imp i USING (user_id, event_time) WHERE e.action = 'click'
    """) > 0
    # Whole-second timestamps are over-represented (truncated times).
    assert one(db, "SELECT count(*) FROM eng WHERE epoch_ms(event_time) % 1000 = 0") > 0
    assert one(db, "SELECT count(*) FROM imp WHERE epoch_ms(event_time) % 1000 = 0") > 0.005 * one(
        db, "SELECT count(*) FROM imp"
    )


def test_mostly_sorted_but_some_out_of_order(data: tuple[Path, GeneratedData]) -> None:
    out, _ = data
    for path in sorted((out / "impressions").glob("part-*.parquet")):
        times = [t for t in pq.read_table(path, columns=["event_time"]).column(0).to_pylist() if t is not None]
        # Rows that go back in time relative to the row before them.
        inversions = sum(1 for a, b in zip(times, times[1:]) if b < a)
        assert 0 < inversions <= 0.03 * len(times)


def test_malformed_rows(data: tuple[Path, GeneratedData], db: duckdb.DuckDBPyConnection) -> None:
    _, result = data
    bad_imp = one(db, "SELECT count(*) FROM imp WHERE user_id IS NULL OR event_time IS NULL")
    bad_eng = one(db, "SELECT count(*) FROM eng WHERE user_id IS NULL OR event_time IS NULL")
    assert bad_imp >= 1 and bad_eng >= 1
    assert bad_imp + bad_eng == result.malformed
    assert result.malformed <= 0.001 * EVENTS + 2
    # Nothing else is ever NULL.
    assert one(db, "SELECT count(*) FROM imp WHERE post_id IS NULL OR author_id IS NULL OR position IS NULL") == 0
    assert one(db, "SELECT count(*) FROM eng WHERE post_id IS NULL OR author_id IS NULL OR action IS NULL") == 0


def test_deterministic(tmp_path: Path, data: tuple[Path, GeneratedData]) -> None:
    out, result = data
    again = generate(tmp_path, events=EVENTS, days=DAYS, seed=7, start=START)
    assert part_files(tmp_path) == part_files(out)
    for name in part_files(out):
        assert (tmp_path / name).read_bytes() == (out / name).read_bytes(), name
    assert (again.impressions, again.engagements, again.malformed) == (
        result.impressions, result.engagements, result.malformed,
    )
    other = generate(tmp_path / "other", events=EVENTS, days=DAYS, seed=8, start=START)
    assert (other.files[0].read_bytes()) != (out / "impressions" / "part-0000.parquet").read_bytes()


def test_rerun_is_idempotent(tmp_path: Path) -> None:
    first = generate(tmp_path, events=5_000, days=3)
    snapshot = {name: (tmp_path / name).read_bytes() for name in part_files(tmp_path)}
    # Leftovers of an earlier, bigger run and of a killed run.
    (tmp_path / "impressions" / "part-0042.parquet").write_bytes(b"stale")
    (tmp_path / "engagements" / ".part-0001.parquet.tmp").write_bytes(b"half")
    second = generate(tmp_path, events=5_000, days=3)
    assert {name: (tmp_path / name).read_bytes() for name in part_files(tmp_path)} == snapshot
    assert second == first
    # A shorter run replaces a longer one completely.
    generate(tmp_path, events=5_000, days=1)
    assert part_files(tmp_path) == ["engagements/part-0000.parquet", "impressions/part-0000.parquet"]


def test_other_files_survive(tmp_path: Path) -> None:
    (tmp_path / "impressions").mkdir()
    keep = tmp_path / "impressions" / "README.txt"
    keep.write_text("not ours")
    generate(tmp_path, events=2_000, days=1)
    assert keep.read_text() == "not ours"


def test_progress_reports_each_file(tmp_path: Path) -> None:
    calls: list[int] = []
    result = generate(tmp_path, events=5_000, days=2, progress=calls.append)
    assert len(calls) == len(result.files) == 4
    assert sum(calls) == result.impressions + result.engagements


def test_start_handling(tmp_path: Path) -> None:
    aware = generate(tmp_path, events=2_000, days=1, start=datetime(2026, 3, 1, tzinfo=timezone.utc))
    assert aware.start == datetime(2026, 3, 1) and aware.end == datetime(2026, 3, 2)
    with pytest.raises(ValueError, match="midnight"):
        generate(tmp_path, events=2_000, days=1, start=datetime(2026, 3, 1, 12))
    with pytest.raises(ValueError, match="events"):
        generate(tmp_path, events=0)
    with pytest.raises(ValueError, match="days"):
        generate(tmp_path, days=0)


def test_tiny_sizes(tmp_path: Path) -> None:
    # Below 1000 events malformed rows are optional; nothing may crash on
    # (nearly) empty slices.
    result = generate(tmp_path, events=1, days=2)
    assert len(result.files) == 4
    for path in result.files:
        assert pq.read_table(path).num_rows >= 0


def _top_user_share(folder: Path) -> float:
    return duckdb.sql(
        f"SELECT max(n) / sum(n) FROM (SELECT count(*) AS n FROM read_parquet('{folder}/impressions/*.parquet') "
        "WHERE user_id IS NOT NULL GROUP BY user_id)"
    ).fetchall()[0][0]


def test_zipf_skew_makes_hot_keys(tmp_path: Path) -> None:
    # The benchmark variant concentrates traffic on a few keys; the default
    # stays mild (top user ~2.5%).
    generate(tmp_path / "default", events=EVENTS, days=1)
    generate(tmp_path / "zipf", events=EVENTS, days=1, skew="zipf")
    assert _top_user_share(tmp_path / "zipf") > 2 * _top_user_share(tmp_path / "default")
    with pytest.raises(ValueError, match="skew"):
        generate(tmp_path / "bad", events=EVENTS, skew="steep")


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("1m", 1_000_000),
        ("10m", 10_000_000),
        ("200k", 200_000),
        ("5000", 5_000),
        ("1M", 1_000_000),
        (" 2K ", 2_000),
        ("1.5m", 1_500_000),
        ("1_000", 1_000),
        ("1g", 1_000_000_000),
    ],
)
def test_parse_size(text: str, value: int) -> None:
    assert parse_size(text) == value


@pytest.mark.parametrize("text", ["", "m", "abc", "-5", "0", "0k", "1.5", "1.2345k", "1mb", "1e6", "10 m m"])
def test_parse_size_rejects(text: str) -> None:
    with pytest.raises(ValueError, match="size|whole number"):
        parse_size(text)
