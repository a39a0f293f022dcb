"""`featuresql verify` end to end on the example project: DuckDB and Flink agree, late events are reported."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from featuresql.cli import main
from featuresql.datagen import generate
from featuresql.engines import flink
from helpers import copy_example_project

pytestmark = pytest.mark.flink


def test_verify_example_project_slice(tmp_path: Path) -> None:
    flink.environment()  # the session's one JVM; the command runs in this process
    root = copy_example_project(tmp_path / "project")
    data = generate(root / "data", events=4000, days=2)
    end = f"{data.end:%Y-%m-%d}"
    result = CliRunner().invoke(
        main, ["verify", "user_engagement", "ctr", "--start", f"{data.end:%Y-%m-%d} 00:00:00".replace(end, f"{data.end.date().fromordinal(data.end.toordinal() - 1)}"),
               "--end", end, "--limit", "3000", "--project", str(root)],
    )
    assert result.exit_code == 0, result.output
    assert "verify: 2 of 2 definitions identical on DuckDB and Flink" in result.output
    assert "OK ctr" in result.output and "OK user_engagement" in result.output
    # The generator's data arrives a little out of order: Flink finds late rows, and says so.
    assert "late for Flink:" in result.output
    assert "clicked" in result.output  # the per-column table names the label column


def test_samples_on_flink_write_the_duckdb_layout_and_keep_late_rows(tmp_path: Path) -> None:
    flink.environment()
    root = copy_example_project(tmp_path / "project")
    data = generate(root / "data", events=3000, days=2)
    day = f"{data.end.date().fromordinal(data.end.toordinal() - 1)}"
    outputs = {}
    for engine in ("duckdb", "flink"):
        out = tmp_path / engine
        result = CliRunner().invoke(main, ["samples", "ctr", "--start", day, "--end", f"{data.end:%Y-%m-%d}",
                                           "--out", str(out), "--engine", engine, "--project", str(root)])
        assert result.exit_code == 0, result.output
        outputs[engine] = (out, result.output)
    import pyarrow.parquet as pq

    duck, flink_out = (pq.read_table(outputs[e][0] / "samples" / "ctr") for e in ("duckdb", "flink"))
    assert sorted(p.name for p in (outputs["flink"][0] / "samples" / "ctr").iterdir() if not p.name.startswith("_")) \
        == [f"dt={day}"]
    assert flink_out.column_names == duck.column_names
    # Flink's spine rows are DuckDB's less the spine rows that arrived late.
    late_spine = pq.read_table(outputs["flink"][0] / "late" / "ctr" / "spine_impressions").num_rows
    assert flink_out.num_rows == duck.num_rows - late_spine
    assert "late rows" in outputs["flink"][1] and "label rate" in outputs["flink"][1]
