"""The atomic partition writer (featuresql/output.py): crashes never leave half partitions.

`write_partitions` stages a run beside its target, in `<parent>/.staging/<name>/<run>/`,
then swaps each day's `dt=YYYY-MM-DD` folder in with renames. These tests break it at chosen points
(exceptions from monkeypatched renames, and a child process that dies with
os._exit mid-run) and check what a reader would see afterwards.
"""

from __future__ import annotations

import pathlib
import shutil
import subprocess
import sys
import textwrap
from datetime import date
from pathlib import Path

import duckdb
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest

from featuresql import FeaturesqlError
from featuresql.output import clean_stale_staging, staging_area, write_partitions

D10, D11, D12 = date(2026, 1, 10), date(2026, 1, 11), date(2026, 1, 12)
DAYS = [D10, D11]


def rows_query(rows: list[tuple[int, str]]) -> str:
    values = ", ".join(f"({v}, TIMESTAMP '{ts}')" for v, ts in rows)
    return f"SELECT * FROM (VALUES {values}) AS t(v, event_time)"


FIRST = rows_query([(1, "2026-01-10 01:00:00"), (2, "2026-01-10 23:59:59.999"), (3, "2026-01-11 00:00:00")])
SECOND = rows_query([(10, "2026-01-10 05:00:00"), (11, "2026-01-11 06:00:00"), (12, "2026-01-11 07:00:00")])


def visible(target: Path) -> dict[str, list[int]]:
    """What a reader sees: `v` per visible dt= partition (hidden folders ignored)."""
    out: dict[str, list[int]] = {}
    for folder in sorted(target.glob("dt=*")):
        files = sorted(folder.glob("*.parquet"))
        assert files, f"visible partition {folder.name} has no files"
        out[folder.name] = sorted(v for f in files for v in pq.read_table(f).column("v").to_pylist())
    return out


def hidden(target: Path) -> list[str]:
    """Hidden entries in the target, and whatever runs left in its staging area."""
    inside = [p.name for p in target.iterdir() if p.name.startswith(".")]
    area = staging_area(target)
    staged = [f"staging/{p.name}" for p in area.iterdir()] if area.exists() else []
    return sorted(inside + staged)


_CON = duckdb.connect()  # one connection for the module: connecting costs more than these writes


def write(target: Path, query: str, days: list[date] = DAYS) -> dict[date, int]:
    return write_partitions(_CON, query, "event_time", days, target)


def test_layout_counts_and_no_leftovers(tmp_path: Path) -> None:
    target = tmp_path / "features" / "f"
    counts = write(target, FIRST)
    assert counts == {D10: 2, D11: 1}
    assert sorted(p.name for p in target.iterdir()) == ["dt=2026-01-10", "dt=2026-01-11"]
    assert all(list(p.glob("*.parquet")) for p in target.iterdir())
    assert visible(target) == {"dt=2026-01-10": [1, 2], "dt=2026-01-11": [3]}
    # the partition column lives in the folder name, not in the files
    assert pq.read_schema(target / "dt=2026-01-10" / "part-0.parquet").names == ["v", "event_time"]


def test_rerun_replaces_and_is_idempotent(tmp_path: Path) -> None:
    target = tmp_path / "t"
    write(target, FIRST)
    write(target, SECOND)
    assert visible(target) == {"dt=2026-01-10": [10], "dt=2026-01-11": [11, 12]}
    write(target, SECOND)
    assert visible(target) == {"dt=2026-01-10": [10], "dt=2026-01-11": [11, 12]}
    assert hidden(target) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t"]  # the staging area is gone too


def test_rerun_removes_a_day_that_now_has_no_rows(tmp_path: Path) -> None:
    target = tmp_path / "t"
    write(target, FIRST)
    counts = write(target, rows_query([(20, "2026-01-11 03:00:00")]))
    assert counts == {D11: 1}
    assert visible(target) == {"dt=2026-01-11": [20]}


def test_rerun_leaves_days_outside_its_range_alone(tmp_path: Path) -> None:
    target = tmp_path / "t"
    write(target, FIRST)
    write(target, rows_query([(30, "2026-01-12 03:00:00")]), days=[D12])
    assert visible(target) == {"dt=2026-01-10": [1, 2], "dt=2026-01-11": [3], "dt=2026-01-12": [30]}


def test_rows_outside_the_days_are_not_published(tmp_path: Path) -> None:
    target = tmp_path / "t"
    counts = write(target, FIRST, days=[D11])
    assert counts == {D11: 1}
    assert visible(target) == {"dt=2026-01-11": [3]}
    assert hidden(target) == []


def test_stale_staging_and_replaced_dirs_are_cleaned(tmp_path: Path) -> None:
    target = tmp_path / "t"
    write(target, FIRST)
    for stale in (target / ".staging-dead", target / ".replaced-dead", staging_area(target) / "dead",
                  staging_area(target) / "replaced-dead-gone"):
        (stale / "dt=2026-01-10").mkdir(parents=True)
        (stale / "dt=2026-01-10" / "part-0.parquet").write_bytes(b"half a file")
    write(target, SECOND)
    assert hidden(target) == []
    assert visible(target) == {"dt=2026-01-10": [10], "dt=2026-01-11": [11, 12]}


def test_clean_stale_staging_keeps_partitions(tmp_path: Path) -> None:
    (tmp_path / ".staging-1").mkdir()
    (tmp_path / ".replaced-2").mkdir()
    (tmp_path / "dt=2026-01-10").mkdir()
    clean_stale_staging(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dt=2026-01-10"]


def test_a_stale_staging_is_invisible_to_readers_of_the_output(tmp_path: Path) -> None:
    target = tmp_path / "t"
    write(target, FIRST)
    # what a killed run leaves behind: a complete staged copy in the staging area
    shutil.copytree(target / "dt=2026-01-10", staging_area(target) / "dead" / "dt=2026-01-10")
    dataset = ds.dataset(target, format="parquet", partitioning="hive")
    assert dataset.to_table().num_rows == 3
    con = duckdb.connect()
    for pattern in ("dt=*/*.parquet", "**/*.parquet", "**"):
        # DuckDB's recursive glob enters hidden folders: the staging area must lie outside the target.
        found = con.execute(f"SELECT count(*) FROM read_parquet('{target}/{pattern}')").fetchall()[0][0]
        assert found == 3, pattern


def test_legacy_staging_inside_the_target_is_cleaned(tmp_path: Path) -> None:
    target = tmp_path / "t"
    write(target, FIRST)
    (target / ".staging-old" / "dt=2026-01-10").mkdir(parents=True)
    shutil.copytree(target / "dt=2026-01-11", target / ".replaced-abc-dt=2026-01-11")
    shutil.rmtree(target / "dt=2026-01-11")  # an old version died between its two renames
    clean_stale_staging(target)
    assert hidden(target) == []
    assert visible(target) == {"dt=2026-01-10": [1, 2], "dt=2026-01-11": [3]}


def test_failed_query_leaves_previous_partitions_intact(tmp_path: Path) -> None:
    target = tmp_path / "t"
    write(target, FIRST)
    before = visible(target)
    failing = "SELECT v, CASE WHEN v = 12 THEN error('boom') ELSE event_time END AS event_time FROM (" + SECOND + ")"
    with pytest.raises(duckdb.Error, match="boom"):
        write(target, failing)
    assert visible(target) == before
    assert hidden(target) == []


def test_a_failed_first_run_leaves_no_empty_folder(tmp_path: Path) -> None:
    failing = "SELECT v, error('boom')::TIMESTAMP AS event_time FROM (" + FIRST + ")"
    with pytest.raises(duckdb.Error, match="boom"):
        write(tmp_path / "out" / "features" / "f", failing)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("where", ["/proc/featuresql-test", "/sys/featuresql-test", "FILE/sub"])
def test_an_unwritable_target_is_one_clear_error(tmp_path: Path, where: str) -> None:
    (tmp_path / "FILE").write_text("not a folder")
    target = Path(where.replace("FILE", str(tmp_path / "FILE")))
    with pytest.raises(FeaturesqlError) as caught:
        write(target / "features" / "f", FIRST)
    message = str(caught.value)
    assert message.startswith(f"cannot write {target}/features/f: ") and "\n" not in message, message


@pytest.fixture
def two_renames(monkeypatch: pytest.MonkeyPatch) -> None:
    """Force the portable publish path (two renames) instead of Linux's atomic exchange."""
    import featuresql.output as output

    monkeypatch.setattr(output, "_exchange", lambda a, b: False)


def test_linux_publishes_with_one_atomic_exchange(tmp_path: Path) -> None:
    import featuresql.output as output

    if not sys.platform.startswith("linux"):
        pytest.skip("renameat2 is Linux-only")
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    (a / "x").write_text("a")
    (b / "x").write_text("b")
    assert output._exchange(a, b)
    assert (a / "x").read_text() == "b" and (b / "x").read_text() == "a"


def _failing_rename(monkeypatch: pytest.MonkeyPatch, fail_on: int) -> None:
    """Make the `fail_on`-th publishing rename (staging/dt=... -> dt=...) raise."""
    real = pathlib.Path.rename
    seen = {"n": 0}

    def rename(self: Path, target: Path) -> Path:  # type: ignore[override]
        if self.parent.parent.parent.name == ".staging" and self.name.startswith("dt="):
            seen["n"] += 1
            if seen["n"] == fail_on:
                raise OSError("simulated crash while publishing")
        return real(self, target)

    monkeypatch.setattr(pathlib.Path, "rename", rename)


@pytest.mark.usefixtures("two_renames")
def test_failed_publish_keeps_the_previous_partition_visible(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "t"
    write(target, FIRST)
    _failing_rename(monkeypatch, fail_on=1)
    with pytest.raises(FeaturesqlError, match="simulated crash"):
        write(target, SECOND)
    assert visible(target) == {"dt=2026-01-10": [1, 2], "dt=2026-01-11": [3]}


@pytest.mark.usefixtures("two_renames")
def test_failed_publish_never_shows_a_partial_partition(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "t"
    write(target, FIRST)
    old = {"dt=2026-01-10": [1, 2], "dt=2026-01-11": [3]}
    new = {"dt=2026-01-10": [10], "dt=2026-01-11": [11, 12]}
    _failing_rename(monkeypatch, fail_on=2)
    with pytest.raises(FeaturesqlError, match="simulated crash"):
        write(target, SECOND)
    seen = visible(target)
    # Per partition: either the old or the new complete version.
    for name, values in seen.items():
        assert values in (old[name], new[name]), (name, values)
    assert seen["dt=2026-01-10"] == new["dt=2026-01-10"]  # the first day was published before the failure
    monkeypatch.undo()
    write(target, SECOND)
    assert visible(target) == new
    assert hidden(target) == []


_CHILD = textwrap.dedent("""
    import os, pathlib, sys
    from datetime import date
    import duckdb
    import featuresql.output as output

    target, query, crash_at = pathlib.Path(sys.argv[1]), sys.argv[2], sys.argv[3]
    real_rename, real_count = pathlib.Path.rename, output._count_rows

    def rename(self, dest):
        if crash_at == "between-renames" and pathlib.Path(dest).name.startswith("replaced-"):
            real_rename(self, dest)
            os._exit(9)  # killed after moving the old partition away, before moving the new one in
        return real_rename(self, dest)

    def count(con, folder):
        if crash_at == "after-copy":
            os._exit(9)  # killed after staging everything, before publishing anything
        return real_count(con, folder)

    real_exchange = output._exchange

    def exchange(a, b):
        if crash_at == "between-renames":
            return False  # take the portable two-rename path
        swapped = real_exchange(a, b)
        if crash_at == "after-exchange" and swapped:
            os._exit(9)  # killed after the atomic swap, before the old copy is deleted
        return swapped

    pathlib.Path.rename = rename
    output._count_rows = count
    output._exchange = exchange
    output.write_partitions(duckdb.connect(), query, "event_time", [date(2026, 1, 10), date(2026, 1, 11)], target)
""")


def _killed_run(target: Path, query: str, crash_at: str) -> None:
    proc = subprocess.run([sys.executable, "-c", _CHILD, str(target), query, crash_at], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 9, proc.stderr


@pytest.mark.slow
def test_killed_before_publishing_leaves_previous_partitions(tmp_path: Path) -> None:
    target = tmp_path / "t"
    write(target, FIRST)
    _killed_run(target, SECOND, "after-copy")
    assert visible(target) == {"dt=2026-01-10": [1, 2], "dt=2026-01-11": [3]}
    assert len(hidden(target)) == 1 and hidden(target)[0].startswith("staging/")  # left beside, not inside
    # Not even a recursive glob over the folder that holds the staging area reads it: staged
    # files are not named *.parquet until they are published.
    con = duckdb.connect()
    assert con.execute(f"SELECT count(*) FROM read_parquet('{tmp_path}/**/*.parquet')").fetchall()[0][0] == 3
    assert list(staging_area(target).rglob("*.staged"))
    write(target, SECOND)
    assert hidden(target) == []
    assert visible(target) == {"dt=2026-01-10": [10], "dt=2026-01-11": [11, 12]}


@pytest.mark.slow
def test_killed_after_an_atomic_exchange_shows_whole_partitions(tmp_path: Path) -> None:
    if not sys.platform.startswith("linux"):
        pytest.skip("renameat2 is Linux-only")
    target = tmp_path / "t"
    write(target, FIRST)
    _killed_run(target, SECOND, "after-exchange")
    # The first day was swapped in whole; the second was never touched.
    assert visible(target) == {"dt=2026-01-10": [10], "dt=2026-01-11": [3]}
    write(target, SECOND)
    assert visible(target) == {"dt=2026-01-10": [10], "dt=2026-01-11": [11, 12]}
    assert hidden(target) == []


@pytest.mark.slow
def test_killed_between_renames_recovers_on_rerun(tmp_path: Path) -> None:
    target = tmp_path / "t"
    write(target, FIRST)
    _killed_run(target, SECOND, "between-renames")
    for values in visible(target).values():
        assert values in ([1, 2], [3])  # never a partial or mixed partition
    write(target, SECOND)
    assert visible(target) == {"dt=2026-01-10": [10], "dt=2026-01-11": [11, 12]}
    assert hidden(target) == []
