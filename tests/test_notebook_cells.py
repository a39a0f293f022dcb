"""Definitions written in cells (`Project.define`) and saving them (`save_definition`).

A cell goes through the same path as a file; its diagnostics carry the path
`<cell>` and cell lines; a clean cell overrides a file of the same name.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from featuresql import FeaturesqlError, Project
from featuresql.definitions import FeatureDef, SamplesDef
from featuresql.notebook import save_definition
from featuresql.plan import AggregatePlan, SamplesPlan
from helpers import EVENTS_CATALOG, GOOD_FEATURE, SPINE_CATALOG, copy_example_project, locate, write_project

NEW_FEATURE = """\
FEATURE item_stats (
  entity item_id,
  windows (1h)
);
SELECT item_id, COUNT(*) AS item_events
FROM events
GROUP BY item_id;
"""

SAMPLES_CELL = """\
SAMPLES item_rows (
  spine spine,
  features (item_stats)
);
"""


@pytest.fixture
def project(tmp_path: Path) -> Project:
    root = write_project(tmp_path / "p", {"events": EVENTS_CATALOG, "spine": SPINE_CATALOG}, {"user_stats": GOOD_FEATURE})
    return Project(root)


def test_a_clean_cell_becomes_a_definition(project: Project) -> None:
    definition, diagnostics = project.define(NEW_FEATURE)
    assert diagnostics == []
    assert isinstance(definition, FeatureDef)
    assert (definition.name, definition.file, definition.entity) == ("item_stats", "<cell>", ("item_id",))
    assert project.feature_names == ["item_stats", "user_stats"]
    assert _feature(project, "item_stats").output_columns == ["item_events_1h"]
    assert project.cells == {"item_stats": NEW_FEATURE}
    assert project.validate() == []


@pytest.mark.parametrize("mistake, needle, code", [
    ("COUNT(*) AS item_events", "COUNT(* AS item_events", "FS001"),
    ("COUNT(*) AS item_events", "SUM(amonut) AS item_events", "FS102"),
    ("windows (1h)", "windows (1x)", "FS106"),
])
def test_a_cell_with_errors_changes_nothing_and_points_at_cell_lines(project: Project, mistake: str, needle: str, code: str) -> None:
    text = NEW_FEATURE.replace(mistake, needle)
    definition, diagnostics = project.define(text)
    assert definition is None
    assert [d.code for d in diagnostics] == [code]
    problem = diagnostics[0]
    assert problem.path == "<cell>"
    line, _ = locate(text, needle.split("(")[0] if code != "FS102" else "amonut")
    assert problem.line == line
    if code == "FS102":
        assert (problem.line, problem.col) == locate(text, "amonut")
        assert "did you mean amount?" in problem.message
    assert project.feature_names == ["user_stats"]
    assert project.cells == {}


def test_diagnostics_use_the_given_path(project: Project) -> None:
    _, diagnostics = project.define(NEW_FEATURE.replace("item_id, COUNT", "itemid, COUNT"), path="<cell 3>")
    assert {d.path for d in diagnostics} == {"<cell 3>"}


def test_text_that_is_no_definition(project: Project) -> None:
    definition, diagnostics = project.define("SELECT 1;")
    assert definition is None
    assert [(d.path, d.line, d.code) for d in diagnostics] == [("<cell>", 1, "FS003")]
    _, diagnostics = project.define("   \n")
    assert [d.code for d in diagnostics] == ["FS003"]


def test_a_cell_overrides_the_file_of_the_same_name_until_forgotten(project: Project) -> None:
    text = GOOD_FEATURE.replace("SUM(amount) AS total", "MAX(amount) AS biggest")
    definition, diagnostics = project.define(text)
    assert diagnostics == [] and definition is not None
    assert definition.file == "<cell>"
    assert _feature(project, "user_stats").output_columns == [
        "events_1h", "events_lifetime", "biggest_1h", "biggest_lifetime"
    ]
    assert "MAX(" in project.compile("user_stats")
    project.forget("USER_STATS")
    assert project.features["user_stats"].file == "sql/features/user_stats.sql"
    assert "total_1h" in _feature(project, "user_stats").output_columns


def test_a_cell_can_fix_a_broken_file(tmp_path: Path) -> None:
    broken = GOOD_FEATURE.replace("SUM(amount)", "SUM(amonut)")
    project = Project(write_project(tmp_path / "p", {"events": EVENTS_CATALOG}, {"user_stats": broken}))
    assert [d.code for d in project.validate()] == ["FS102"]
    definition, diagnostics = project.define(GOOD_FEATURE)
    assert definition is not None and diagnostics == []
    assert project.validate() == []
    _feature(project, "user_stats")  # no longer refused


def test_samples_cells_use_cell_features(project: Project) -> None:
    definition, _ = project.define(SAMPLES_CELL)
    assert definition is None  # item_stats does not exist yet
    project.define(NEW_FEATURE)
    definition, diagnostics = project.define(SAMPLES_CELL)
    assert diagnostics == []
    assert isinstance(definition, SamplesDef)
    assert project.samples_names == ["item_rows"]
    plan = project.plan("item_rows")
    assert isinstance(plan, SamplesPlan)
    assert [p.name for p in plan.features] == ["item_stats"] and plan.label is None


def test_a_cell_that_breaks_another_file_is_refused(tmp_path: Path) -> None:
    root = copy_example_project(tmp_path / "example")
    project = Project(root)
    # user_exposure already produces impressions_1h, which ctr attaches too.
    text = (root / "sql/features/user_engagement.sql").read_text().replace("AS events,", "AS impressions,")
    definition, diagnostics = project.define(text)
    assert definition is None
    assert {(d.path, d.code) for d in diagnostics} == {("sql/samples/ctr.sql", "FS109")}
    assert project.features["user_engagement"].file == "sql/features/user_engagement.sql"


def test_cells_use_the_projects_macros_and_variables(tmp_path: Path) -> None:
    root = copy_example_project(tmp_path / "example")
    project = Project(root, {"kind": "like"})
    text = """\
FEATURE post_likes (
  entity post_id,
  windows (1h)
);
SELECT post_id, {{ count_action('click') }} AS clicks, COUNT(*) FILTER (WHERE action = {{ kind }}) AS likes
FROM engagements
GROUP BY post_id;
"""
    definition, diagnostics = project.define(text)
    assert diagnostics == [] and definition is not None
    assert "'like'" in project.compile("post_likes")


def test_save_writes_the_file_that_defines_the_name(project: Project) -> None:
    text = GOOD_FEATURE.replace("SUM(amount) AS total", "MAX(amount) AS biggest")
    project.define(text)
    path = save_definition(project, "user_stats")
    assert path == project.root / "sql/features/user_stats.sql"
    assert path.read_text() == text
    assert project.cells == {}
    assert project.features["user_stats"].file == "sql/features/user_stats.sql"
    assert "biggest_1h" in _feature(project, "user_stats").output_columns


def test_save_writes_a_new_file_per_kind(project: Project) -> None:
    project.define(NEW_FEATURE)
    project.define(SAMPLES_CELL)
    assert save_definition(project, "item_stats") == project.root / "sql/features/item_stats.sql"
    assert save_definition(project, "item_rows") == project.root / "sql/samples/item_rows.sql"
    fresh = Project(project.root)
    assert fresh.validate() == []
    assert (fresh.feature_names, fresh.samples_names) == (["item_stats", "user_stats"], ["item_rows"])
    assert not list(project.root.rglob(".*.tmp"))


def test_save_needs_a_cell_definition(project: Project) -> None:
    with pytest.raises(FeaturesqlError, match="no cell defines user_stats"):
        save_definition(project, "user_stats")


def test_reload_keeps_cells(project: Project) -> None:
    project.define(NEW_FEATURE)
    project.reload()
    assert "item_stats" in project.feature_names


def _feature(project: Project, name: str) -> AggregatePlan:
    plan = project.plan(name)
    assert isinstance(plan, AggregatePlan)
    return plan
