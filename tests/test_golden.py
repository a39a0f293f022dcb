"""Golden files of the SQL the example project compiles to, and proof that it runs.

`tests/golden/compile/<name>.sql` holds

    Project(<repo root>).compile(name, "duckdb", start="2026-01-10", end="2026-01-12")

and `tests/golden/compile/flink/<name>.sql` the same for target "flink" (the
whole job: source DDL, sinks, one statement set)
for every feature and samples definition of the example project, with the
absolute project root replaced by `<root>`. Regenerate after an intended change:

    FEATURESQL_UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/test_golden.py

and review the diff of tests/golden/ like any other code change.
"""

from __future__ import annotations

import difflib
import os
from pathlib import Path

import duckdb
import pytest

from featuresql import Project
from featuresql.datagen import generate
from helpers import REPO_ROOT, copy_example_project

GOLDEN_DIR = Path(__file__).resolve().parent / "golden" / "compile"
START, END = "2026-01-10", "2026-01-12"
ROOT_TOKEN = "<root>"
UPDATE = os.environ.get("FEATURESQL_UPDATE_GOLDEN") == "1"

_EXAMPLE = Project(REPO_ROOT)
NAMES = _EXAMPLE.feature_names + _EXAMPLE.samples_names


TARGETS = ("duckdb", "flink")


def compiled(project: Project, name: str, target: str = "duckdb") -> str:
    return project.compile(name, target, start=START, end=END).replace(str(project.root), ROOT_TOKEN)


def golden_path(name: str, target: str = "duckdb") -> Path:
    return (GOLDEN_DIR if target == "duckdb" else GOLDEN_DIR / target) / f"{name}.sql"


def test_example_project_has_definitions_to_pin() -> None:
    assert "ctr" in NAMES and len(NAMES) >= 6, NAMES


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("name", NAMES)
def test_compiled_sql_matches_golden(name: str, target: str) -> None:
    actual = compiled(_EXAMPLE, name, target)
    path = golden_path(name, target)
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, encoding="utf-8")
        return
    assert path.exists(), (
        f"no golden file {path.relative_to(REPO_ROOT)}; create it with FEATURESQL_UPDATE_GOLDEN=1 pytest tests/test_golden.py"
    )
    expected = path.read_text(encoding="utf-8")
    if actual != expected:
        diff = "".join(difflib.unified_diff(
            expected.splitlines(keepends=True), actual.splitlines(keepends=True),
            fromfile=f"golden/{name}.sql", tofile=f"compiled {name}", n=2,
        ))
        pytest.fail(
            f"compiled SQL for {name} differs from the golden file (- golden, + now):\n{diff}\n"
            "If the change is intended: FEATURESQL_UPDATE_GOLDEN=1 pytest tests/test_golden.py, then review git diff tests/golden/",
            pytrace=False,
        )


def test_no_stale_golden_files() -> None:
    folders = [golden_path("x", target).parent for target in TARGETS]
    if UPDATE:
        for path in (p for folder in folders for p in folder.glob("*.sql")):
            if path.stem not in NAMES:
                path.unlink()
    stale = sorted(str(p.relative_to(GOLDEN_DIR)) for folder in folders for p in folder.glob("*.sql") if p.stem not in NAMES)
    assert not stale, f"golden files for definitions that no longer exist: {stale}"


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("name", NAMES)
def test_golden_is_root_independent(name: str, target: str) -> None:
    text = golden_path(name, target).read_text(encoding="utf-8")
    assert ROOT_TOKEN in text  # every scan reads project files through the root
    assert str(REPO_ROOT) not in text


# ---------------------------------------------------------------------------------------
# Golden SQL is executable
# ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tiny_project(tmp_path_factory: pytest.TempPathFactory) -> Project:
    root = copy_example_project(tmp_path_factory.mktemp("golden") / "project")
    generate(root / "data", events=5000)
    return Project(root)


@pytest.mark.slow
@pytest.mark.parametrize("name", NAMES)
def test_golden_sql_runs_in_duckdb(tiny_project: Project, name: str) -> None:
    sql = golden_path(name).read_text(encoding="utf-8").replace(ROOT_TOKEN, str(tiny_project.root))
    con = duckdb.connect()
    try:
        result = con.sql(sql).to_arrow_table()
    finally:
        con.close()
    expected = tiny_project.samples_table(name, START, END) if name in tiny_project.samples_names \
        else tiny_project.backfill_table(name, START, END)
    assert result.column_names == expected.column_names
    assert result.num_rows == expected.num_rows
    assert result.num_rows > 0, f"{name}: the golden SQL ran but produced no rows on the generated data"
