"""What a run must never do to a user's data or outputs: found in review, pinned here.

Real DuckDB runs on tiny Parquet files written in each test (and CSV files, and
one Flink run).
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner, Result
from helpers import EVENTS_CATALOG, GOOD_FEATURE, SPINE_CATALOG, write_project

from featuresql import FeaturesqlError, Project

SAMPLES = """\
SAMPLES s (spine spine, features (user_stats), label (source events, horizon 10m));
SELECT COUNT(*) FILTER (WHERE action = 'click') > 0 AS clicked_next
FROM events
GROUP BY user_id, item_id;
"""
T0 = datetime(2026, 1, 10, 12)


def _events(root: Path, unit: str = "ms") -> None:
    rows = {
        "user_id": ["u1", "u1", "u2", None],
        "item_id": ["i1", "i1", "i2", "i1"],
        "action": ["view", "click", "click", "click"],
        "amount": [1, 2, 3, 4],
        "clicked": [False, True, True, True],
        "event_time": [T0, T0.replace(minute=5), T0, T0],
    }
    table = pa.table(rows).cast(pa.schema([
        ("user_id", pa.string()), ("item_id", pa.string()), ("action", pa.string()), ("amount", pa.int64()),
        ("clicked", pa.bool_()), ("event_time", pa.timestamp(unit)),
    ]))
    (root / "data" / "events").mkdir(parents=True, exist_ok=True)
    pq.write_table(table, root / "data" / "events" / "part-0.parquet")


def _spine(root: Path) -> None:
    table = pa.table({
        "user_id": ["u1", None, "u2"],
        "item_id": ["i1", "i1", "i2"],
        "event_time": pa.array([T0.replace(minute=1), T0.replace(minute=1), T0.replace(minute=1)], pa.timestamp("ms")),
    })
    (root / "data" / "spine").mkdir(parents=True, exist_ok=True)
    pq.write_table(table, root / "data" / "spine" / "part-0.parquet")


def _project(root: Path, samples: str = SAMPLES, spine: str = SPINE_CATALOG) -> Project:
    write_project(root, {"events": EVENTS_CATALOG, "spine": spine}, {"user_stats": GOOD_FEATURE}, {"s": samples})
    _events(root)
    _spine(root)
    return Project(root)


def test_partial_day_writes_are_refused_and_leave_partitions_alone(tmp_path: Path) -> None:
    project = _project(tmp_path)
    out = tmp_path / "out"
    project.backfill(["user_stats"], "2026-01-10", "2026-01-11", out)
    before = pq.read_table(out / "features" / "user_stats").num_rows
    with pytest.raises(FeaturesqlError, match="not midnight"):
        project.backfill(["user_stats"], "2026-01-10 12:00", "2026-01-10 13:00", out)
    with pytest.raises(FeaturesqlError, match="not midnight"):
        project.samples("s", "2026-01-10", "2026-01-10 18:00", out)
    assert pq.read_table(out / "features" / "user_stats").num_rows == before == 3
    # A slice is still available as a table, which replaces nothing.
    assert project.backfill_table("user_stats", "2026-01-10 12:00", "2026-01-10 12:01").num_rows == 2


@pytest.mark.parametrize(
    ("where", "text"),
    [
        ("spine column", None),
        ("label alias", SAMPLES.replace("AS clicked_next", "AS dt")),
    ],
)
def test_dt_is_reserved_for_partitions(tmp_path: Path, where: str, text: str | None) -> None:
    spine = SPINE_CATALOG.replace("  item_id    VARCHAR,\n", "  item_id    VARCHAR,\n  dt VARCHAR,\n") if text is None else SPINE_CATALOG
    project = _project(tmp_path, samples=text or SAMPLES, spine=spine)
    codes = [(d.code, "dt is reserved" in d.message) for d in project.validate()]
    assert ("FS109", True) in codes, (where, project.validate())


def test_nanosecond_timestamps_from_pandas_are_read(tmp_path: Path) -> None:
    project = _project(tmp_path)
    _events(tmp_path, unit="ns")
    log = project.backfill_table("user_stats", "2026-01-10", "2026-01-11")
    assert log.schema.field("event_time").type == pa.timestamp("ms")
    assert sorted(log.column("events_1h").to_pylist()) == [1, 1, 2]


def test_samples_summary_counts_null_keys_and_rates_only_boolean_labels(tmp_path: Path) -> None:
    project = _project(tmp_path)
    summary = project.samples("s", "2026-01-10", "2026-01-11", tmp_path / "out")
    assert summary.rows == 3
    # u1/i1 clicks at 12:05, within 10 minutes of 12:01; u2 clicked before; the NULL-key row has no label.
    assert summary.label_rate == pytest.approx(1 / 2)
    assert summary.null_key_rows == {"NULL user_id": 1, "NULL user_id, item_id": 1}
    assert "kept with NULL features" in summary.describe()

    counting = SAMPLES.replace("COUNT(*) FILTER (WHERE action = 'click') > 0 AS clicked_next", "COUNT(*) AS next_events")
    other = _project(tmp_path / "counting", samples=counting)
    assert other.samples("s", "2026-01-10", "2026-01-11", tmp_path / "out2").label_rate is None


def test_a_feature_without_aggregates_is_a_diagnostic(tmp_path: Path) -> None:
    feature = GOOD_FEATURE.replace("  COUNT(*) AS events,\n  SUM(amount) AS total\n", "  AS_OF() AS t\n")
    write_project(tmp_path, {"events": EVENTS_CATALOG}, {"user_stats": feature})
    assert [d.code for d in Project(tmp_path).validate()] == ["FS113"]


def test_a_second_run_on_the_same_output_waits_its_turn(tmp_path: Path) -> None:
    from featuresql.output import exclusive

    target = tmp_path / "out" / "features" / "user_stats"
    target.mkdir(parents=True)
    project = _project(tmp_path)
    with exclusive(target):  # another run holds the folder
        with pytest.raises(FeaturesqlError, match="another featuresql run"):
            project.backfill(["user_stats"], "2026-01-10", "2026-01-11", tmp_path / "out")
    assert list(target.iterdir()) == []
    project.backfill(["user_stats"], "2026-01-10", "2026-01-11", tmp_path / "out")
    assert [p.name for p in target.iterdir()] == ["dt=2026-01-10"]


def test_spine_and_feature_keys_must_share_a_type(tmp_path: Path) -> None:
    spine = SPINE_CATALOG.replace("  user_id    VARCHAR,", "  user_id    BIGINT,")
    write_project(tmp_path, {"events": EVENTS_CATALOG, "spine": spine}, {"user_stats": GOOD_FEATURE}, {"s": SAMPLES})
    found = [(d.code, d.path) for d in Project(tmp_path).validate()]
    assert ("FS122", "sql/samples/s.sql") in found and all(code == "FS122" for code, _ in found), found


# ---------------------------------------------------------------------------------------
# Output folders through the real command line (issue 14)
# ---------------------------------------------------------------------------------------


def _cli(*args: str) -> Result:
    from featuresql.cli import main

    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def _rows(folder: Path) -> int:
    return duckdb.connect().execute(f"SELECT count(*) FROM read_parquet('{folder}/**/*.parquet')").fetchall()[0][0]


def test_a_relative_out_works(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _project(tmp_path / "p")
    monkeypatch.chdir(tmp_path)
    for command in (["backfill"], ["samples", "s"]):
        result = _cli(*command, "--project", "p", "--start", "2026-01-10", "--end", "2026-01-11", "--out", "rel/out")
        assert result.exit_code == 0, result.output
    assert _rows(tmp_path / "rel" / "out" / "features" / "user_stats") == 3
    assert _rows(tmp_path / "rel" / "out" / "samples" / "s") == 3


def test_a_folder_that_fails_at_write_time_is_one_line_and_exit_1(tmp_path: Path) -> None:
    _project(tmp_path / "p")
    out = tmp_path / "out"
    (out / "features").mkdir(parents=True)
    (out / "features" / "user_stats").write_text("a file where the feature's folder goes")
    result = _cli("backfill", "--project", str(tmp_path / "p"), "--start", "2026-01-10", "--end", "2026-01-11", "--out", str(out))
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert lines == [f"error: cannot write {out}/features/user_stats: File exists ({out}/features/user_stats)"], result.stderr


def test_a_run_in_progress_is_invisible_to_readers_of_the_output(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import featuresql.output as output

    _project(tmp_path / "p")
    out = tmp_path / "out"
    args = ["--project", str(tmp_path / "p"), "--start", "2026-01-10", "--end", "2026-01-11", "--out", str(out)]
    assert _cli("backfill", *args).exit_code == 0
    published = _rows(out)
    seen: dict[str, int] = {}
    publish = output.publish_staged

    def read_then_publish(staging: Path, *rest: object, **kwargs: object) -> object:
        # The run has staged everything and published nothing: what do readers see?
        assert any(p.is_file() for p in staging.rglob("*"))
        seen["out"], seen["target"] = _rows(out), _rows(out / "features" / "user_stats")
        return publish(staging, *rest, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(output, "publish_staged", read_then_publish)
    assert _cli("backfill", *args).exit_code == 0
    assert seen == {"out": published, "target": published} and published == 3
    assert [p.name for p in out.rglob(".*")] == []  # nothing left beside the output either


@pytest.mark.flink
def test_a_relative_out_works_on_flink(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _project(tmp_path / "p")
    monkeypatch.chdir(tmp_path)
    for command, folder in ((["backfill"], "features/user_stats"), (["samples", "s"], "samples/s")):
        result = _cli(*command, "--project", "p", "--start", "2026-01-10", "--end", "2026-01-11", "--out", "rel",
                      "--engine", "flink")
        assert result.exit_code == 0, result.output
        # Which rows Flink keeps (late ones are set aside) is docs/semantics.md section 7's business;
        # here: they are where the relative folder says, as many as the summary reports.
        reported = int(re.search(r": (\d+) rows", result.stdout).group(1))
        assert _rows(tmp_path / "rel" / folder) == reported > 0, result.stdout
    assert [p.name for p in (tmp_path / "rel").rglob(".*")] == []  # no staging left


# ---------------------------------------------------------------------------------------
# CSV sources with quoting problems (issue 14): rejected with a reason, never re-keyed
# ---------------------------------------------------------------------------------------

CSV_CATALOG = EVENTS_CATALOG.replace("'data/events/*.parquet', 'format' = 'parquet'", "'data/events/*.csv', 'format' = 'csv'")
CSV_HEADER = "user_id,item_id,action,amount,clicked,event_time\n"


def _csv_project(root: Path, rows: str, header: str = CSV_HEADER) -> Path:
    write_project(root, {"events": CSV_CATALOG}, {"user_stats": GOOD_FEATURE})
    (root / "data" / "events").mkdir(parents=True)
    (root / "data" / "events" / "part-0.csv").write_text(header + rows)
    return root


def _backfill_csv(root: Path, *more: str) -> Result:
    return _cli("backfill", "--project", str(root), "--start", "2026-01-10", "--end", "2026-01-11",
                "--out", str(root / "out"), *more)


def _users(root: Path) -> list[str]:
    found = duckdb.connect().execute(
        f"SELECT DISTINCT user_id FROM read_parquet('{root}/out/features/user_stats/*/*.parquet') ORDER BY 1"
    ).fetchall()
    return [row[0] for row in found]


def _rejected(root: Path) -> list[tuple]:
    return duckdb.connect().execute(
        f"SELECT reason, parse_filename(file), line, payload FROM read_parquet('{root}/out/rejected/user_stats/events/*.parquet') "
        "ORDER BY line"
    ).fetchall()


def test_a_stray_quote_never_moves_an_event_to_another_key(tmp_path: Path) -> None:
    root = _csv_project(tmp_path, (
        "u1,i1,view,1,false,2026-01-10 12:00:00\n"
        '"u29046,i1,click,2,true,2026-01-10 12:01:00\n'
        "u2,i2,click,3,true,2026-01-10 12:02:00\n"
    ))
    result = _backfill_csv(root)
    assert result.exit_code == 0, result.output
    assert _users(root) == ["u1"]  # never '"u29046'
    # The quote opens a value that runs to the end of the file: those lines are one rejected row.
    assert "rejected rows 1 (events: malformed CSV: stray or unclosed quote: 1; set aside in " in result.stdout
    assert _rejected(root) == [(
        "malformed CSV: stray or unclosed quote", "part-0.csv", 3,
        '"u29046,i1,click,2,true,2026-01-10 12:01:00\nu2,i2,click,3,true,2026-01-10 12:02:00\n',
    )]


def test_malformed_csv_rows_are_counted_with_their_reasons_and_set_aside(tmp_path: Path) -> None:
    root = _csv_project(tmp_path, (
        "u1,i1,view,1,false,2026-01-10 12:00:00\n"
        "u2,i1,view,x,false,2026-01-10 12:01:00\n"        # line 3: not a number
        "u3,i1,view,1,false,2026-01-10 12:02:00,extra\n"  # line 4: a field too many
        "u4,i1,view,1,false\n"                            # line 5: no event_time
        '"u,5",i1,view,1,false,2026-01-10 12:03:00\n'     # quoted as CSV quotes: read
        '"u""6",i1,view,1,false,2026-01-10 12:04:00\n'
    ))
    result = _backfill_csv(root)
    assert result.exit_code == 0, result.output
    assert _users(root) == ['u"6', "u,5", "u1"]
    assert [(reason, line) for reason, _, line, _ in _rejected(root)] == [
        ("wrong type for amount: BIGINT", 3), ("malformed CSV: too many fields", 4), ("missing field event_time", 5),
    ]
    assert "rejected rows 3 (" in result.stdout and "feature user_stats: 3 rows" in result.stdout
    # From Python there is no folder to set them aside in: a warning says what was left out.
    with pytest.warns(UserWarning, match="could not be read were left out: 1 events: wrong type for amount"):
        assert Project(root).backfill_table("user_stats", "2026-01-10", "2026-01-11").num_rows == 3
    # A rerun on mended data replaces the rejected rows of the last run.
    (root / "data" / "events" / "part-0.csv").write_text(CSV_HEADER + "u1,i1,view,1,false,2026-01-10 12:00:00\n")
    result = _backfill_csv(root)
    assert result.exit_code == 0 and "rejected" not in result.stdout, result.output
    assert not (root / "out" / "rejected" / "user_stats" / "events").exists()


def test_a_csv_header_that_does_not_match_the_catalog_is_one_line(tmp_path: Path) -> None:
    # Swapped columns would be read by position: item ids as user ids.
    root = _csv_project(tmp_path, "i1,u1,view,1,false,2026-01-10 12:00:00\n",
                        header="item_id,user_id,action,amount,clicked,event_time\n")
    result = _backfill_csv(root)
    assert result.exit_code == 1
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("error: catalogs/events.sql: the header of ") and "CSV columns are read by position" in line
    assert not (root / "out").exists()


def test_an_unreadable_csv_is_one_line_with_its_file(tmp_path: Path) -> None:
    # Line ends that change within a file: DuckDB's reader stops with no line to point at.
    root = _csv_project(tmp_path, 'u1,i1,view,1,false,2026-01-10 12:00:00\r\n"u2,i1,view,1,false,2026-01-10 12:01:00\r\n')
    result = _backfill_csv(root)
    assert result.exit_code == 1
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("error: DuckDB failed while running the job: ") and line.endswith("part-0.csv)"), line


def test_flink_refuses_csv_in_one_line(tmp_path: Path) -> None:
    # Flink reads Parquet only (issue 18): it says so before a JVM starts.
    root = _csv_project(tmp_path, "u1,i1,view,1,false,2026-01-10 12:00:00\n")
    result = _backfill_csv(root, "--engine", "flink")
    assert result.exit_code == 1
    (line,) = result.stderr.strip().splitlines()
    assert "the Flink engine reads Parquet" in line and "format csv" in line
    assert not (root / "out").exists()


def test_samples_read_csv_sources_the_same_way(tmp_path: Path) -> None:
    root = _csv_project(tmp_path, (
        "u1,i1,view,1,false,2026-01-10 12:00:00\n"
        '"u1,i1,click,2,true,2026-01-10 12:05:00\n'  # a stray quote: rejected, not a click of '"u1'
    ))
    write_project(root, {"spine": SPINE_CATALOG}, samples={"s": SAMPLES})
    _spine(root)
    result = _cli("samples", "s", "--project", str(root), "--start", "2026-01-10", "--end", "2026-01-11",
                  "--out", str(root / "out"))
    assert result.exit_code == 0, result.output
    assert "rejected rows 1 (events: malformed CSV: stray or unclosed quote: 1; " in result.stdout
    assert (root / "out" / "rejected" / "s" / "events" / "part-0.parquet").exists()
    rows = pq.read_table(root / "out" / "samples" / "s").to_pylist()
    assert {(r["user_id"], r["events_lifetime"], r["clicked_next"]) for r in rows} == {
        ("u1", 1, False), (None, None, None), ("u2", 0, False),
    }
