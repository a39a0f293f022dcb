"""HTML reprs and plots (featuresql/notebook/html.py, plots.py)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pyarrow as pa
import pytest
from matplotlib.figure import Figure

from featuresql import Diagnostic, FeaturesqlError, Project
from featuresql.datagen import generate
from featuresql.notebook import html, plot_distributions, plot_entity
from featuresql.notebook.plots import raw_events
from featuresql.plan import AggregatePlan
from helpers import copy_example_project


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> Project:
    root = copy_example_project(tmp_path_factory.mktemp("display") / "project")
    generate(root / "data", events=20_000)
    return Project(root)


def test_diagnostics_table_quotes_the_cell_line_and_escapes() -> None:
    source = "FEATURE f (entity k, windows (1h));\nSELECT k, COUNT(<x>) AS n FROM t GROUP BY k;\n"
    problem = Diagnostic("<cell>", 2, 17, "FS102", "unknown column <x>")
    page = html.diagnostics_html([problem], {"<cell>": source})
    assert "cell line 2, col 17" in page
    assert "unknown column &lt;x&gt;" in page and "<x>" not in page
    assert "SELECT k, COUNT(&lt;x&gt;) AS n FROM t GROUP BY k;\n" + " " * 16 + "^" in page
    assert "1 error(s)" in page


def test_diagnostics_table_reads_files_below_the_root(tmp_path: Path) -> None:
    (tmp_path / "sql").mkdir()
    (tmp_path / "sql/f.sql").write_text("line one\nline two\n")
    problem = Diagnostic("sql/f.sql", 2, 6, "FS001", "syntax error", "warning")
    page = html.diagnostics_html([problem], root=tmp_path)
    assert "sql/f.sql:2:6" in page and "line two\n     ^" in page and "1 warning(s)" in page
    assert "no problems" in html.diagnostics_html([])
    # positions past the end of a file quote nothing rather than fail
    assert "<pre" not in html.diagnostics_html([Diagnostic("sql/f.sql", 9, 1, "FS001", "x")], root=tmp_path)


def test_values_are_formatted_for_reading() -> None:
    assert html.format_value(None).endswith("NULL</span>")
    assert html.format_value(1 / 3) == "0.333333"
    assert html.format_value(datetime(2026, 1, 11, 0, 0, 1, 5000)) == "2026-01-11 00:00:01.005"
    table = pa.table({"a": list(range(12)), "b": ["<i>"] * 12})
    page = html.arrow_html(table, max_rows=10)
    assert page.count("<tr>") == 11 and "2 more row(s)" in page and "&lt;i&gt;" in page


def test_project_and_definition_reprs(example: Project) -> None:
    page = example._repr_html_()
    assert "valid" in page and "engagements" in page and "user_author_affinity" in page and "ctr" in page
    feature = html.definition_html(example.features["post_popularity"])
    assert "post_popularity" in feature and "10m, 1h, 1d" in feature and "SELECT" in feature
    samples = html.definition_html(example.samples_defs["ctr"])
    assert "source engagements, horizon 10m, keys (user_id, post_id)" in samples


def test_distribution_plot_has_one_panel_per_numeric_column(example: Project) -> None:
    preview = example.preview("ctr", limit=300)
    figure = plot_distributions(preview, columns=["clicked", "position", "events_1d", "user_id"])
    visible = [ax for ax in figure.axes if ax.get_visible()]
    assert [ax.get_title().split(" (")[0] for ax in visible] == ["clicked", "position", "events_1d"]  # user_id is text
    assert html.figure_png(figure).startswith(b"\x89PNG")
    feature = example.preview("post_popularity", limit=300)
    every = plot_distributions(feature)  # the value columns by default
    assert len([ax for ax in every.axes if ax.get_visible()]) == len(feature.value_columns) == 15
    frame = plot_distributions(preview.to_pandas()[["position"]])
    assert [ax.get_title() for ax in frame.axes] == ["position"]


def test_entity_plot_shows_updates_and_raw_events(example: Project) -> None:
    preview = example.preview("user_engagement", limit=None)
    user = preview.to_pandas()["user_id"].value_counts().index[0]
    figure = plot_entity(example, "user_engagement", user, by="action")
    top, bottom = figure.axes
    assert len(top.get_lines()) == 5  # events_<window> for each of the five windows
    assert f"user_id = {user}" in top.get_title()
    plan = example.plan("user_engagement")
    assert isinstance(plan, AggregatePlan)
    events = raw_events(plan, example.root, {"user_id": (user,)}, preview.start, preview.end, by="action")
    updates = preview.table.filter(pa.compute.equal(preview.table.column("user_id"), user)).num_rows
    assert events.column("__kept").to_pylist().count(True) == updates  # every counted event is one update
    assert f"raw events in engagements: {events.num_rows}" in bottom.get_title()
    assert isinstance(figure, Figure)


def test_entity_plot_errors(example: Project) -> None:
    with pytest.raises(FeaturesqlError, match="needs an entity"):
        plot_entity(example, "user_engagement", None)
    with pytest.raises(FeaturesqlError, match="has no column nope"):
        plot_entity(example, "user_engagement", "u1", by="nope")
