"""The IPython extension, through IPython's own InteractiveShell.

Cells run as a user would run them (`shell.run_cell("%%featuresql ...")`), and
the tests read both what the cell returned (a `Report`) and what was printed:
expected problems are reports, never tracebacks.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from IPython.core.interactiveshell import InteractiveShell

from featuresql import Project
from featuresql.datagen import generate
from featuresql.definitions import FeatureDef
from featuresql.notebook.magics import FeaturesqlMagics, parse_entity
from featuresql.notebook.report import Report
from helpers import EVENTS_CATALOG, GOOD_FEATURE, copy_example_project, locate, write_project

CELL = """\
FEATURE user_likes (
  entity user_id,
  windows (1h, 1d)
);

SELECT
  user_id,
  COUNT(*) FILTER (WHERE action = 'like') AS likes,
  MAX(dwell_ms) AS longest_dwell
FROM engagements
GROUP BY user_id;
"""


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = copy_example_project(tmp_path_factory.mktemp("magics") / "project")
    generate(root / "data", events=20_000)
    return root


@pytest.fixture(scope="module")
def shell() -> InteractiveShell:
    shell = InteractiveShell.instance()
    result = shell.run_cell("%load_ext featuresql")
    assert result.success
    return shell


@pytest.fixture
def magics(shell: InteractiveShell, example: Path) -> Iterator[FeaturesqlMagics]:
    magics = shell.magics_manager.registry["FeaturesqlMagics"]
    assert isinstance(magics, FeaturesqlMagics)
    magics.project = Project(example)  # a fresh object: no cell definitions from other tests
    yield magics
    magics.project = None


def run(shell: InteractiveShell, capsys: pytest.CaptureFixture[str], source: str) -> Report:
    result = shell.run_cell(source)
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err, out + err
    assert result.error_in_exec is None and result.error_before_exec is None, (out, err)
    assert isinstance(result.result, Report), (result.result, out, err)
    return result.result


def cell(options: str, body: str) -> str:
    return f"%%featuresql {options}\n{body}"


def test_load_ext_registers_line_and_cell_magics(shell: InteractiveShell) -> None:
    assert "featuresql" in shell.magics_manager.magics["line"]
    assert "featuresql" in shell.magics_manager.magics["cell"]


def test_a_syntax_error_is_a_diagnostic_at_the_cell_line(shell: InteractiveShell, magics: FeaturesqlMagics, capsys: pytest.CaptureFixture[str]) -> None:
    body = CELL.replace("MAX(dwell_ms)", "MAX(dwell_ms")
    report = run(shell, capsys, cell("", body))
    assert not report.ok and report.preview is None
    assert [(d.path, d.code) for d in report.diagnostics] == [("<cell>", "FS001")]
    assert report.diagnostics[0].line in (locate(body, "MAX(")[0], locate(body, "MAX(")[0] + 1)
    page = report._repr_html_()
    assert "FS001" in page and f"cell line {report.diagnostics[0].line}" in page
    assert "&lt;cell&gt;" not in page  # the path is shown as "cell line N", escaped nowhere raw
    assert "user_likes" not in magics.project.feature_names


def test_an_unknown_column_points_at_it_with_a_caret(shell: InteractiveShell, magics: FeaturesqlMagics, capsys: pytest.CaptureFixture[str]) -> None:
    body = CELL.replace("MAX(dwell_ms)", "MAX(dwel_ms)")
    report = run(shell, capsys, cell("", body))
    (problem,) = report.diagnostics
    assert (problem.code, problem.line, problem.col) == ("FS102", *locate(body, "dwel_ms"))
    assert "did you mean dwell_ms?" in problem.message
    page = report._repr_html_()
    line_text = body.splitlines()[problem.line - 1]
    assert line_text.strip() in page and "\n" + " " * (problem.col - 1) + "^" in page
    assert "<cell>:" in repr(report)


def test_a_valid_cell_is_previewed_and_usable_later(shell: InteractiveShell, magics: FeaturesqlMagics, capsys: pytest.CaptureFixture[str]) -> None:
    report = run(shell, capsys, cell("--limit 5", CELL))
    assert report.ok and isinstance(report.definition, FeatureDef)
    assert report.preview is not None and report.preview.table.num_rows == 5
    assert report.preview.value_columns == ("likes_1h", "likes_1d", "longest_dwell_1h", "longest_dwell_1d")
    page = report._repr_html_()
    assert "likes_1h" in page and "null" in page  # rows and the summary
    # later cells, through the magic and through Python
    later = run(shell, capsys, "%featuresql preview user_likes --start 2026-01-10 --limit 3")
    assert later.preview is not None and later.preview.start.day == 10
    assert magics.project is not None and "user_likes" in magics.project.feature_names
    assert not (magics.project.root / "sql/features/user_likes.sql").exists()


def test_entity_range_and_plot_options(shell: InteractiveShell, magics: FeaturesqlMagics, capsys: pytest.CaptureFixture[str]) -> None:
    assert magics.project is not None
    user = magics.project.preview("user_engagement", limit=1).table.column("user_id")[0].as_py()
    report = run(shell, capsys, cell(f"--entity {user} --start 2026-01-11 --end 2026-01-12 --limit 50 --plot", CELL))
    assert report.preview is not None
    assert set(report.preview.table.column("user_id").to_pylist()) <= {user}
    assert report.preview.entity == {"user_id": (user,)}
    assert len(report.figures) == 1
    assert "data:image/png;base64," in report._repr_html_()


def test_no_preview_and_save(shell: InteractiveShell, magics: FeaturesqlMagics, capsys: pytest.CaptureFixture[str], tmp_path: Path, example: Path) -> None:
    import shutil

    root = shutil.copytree(example, tmp_path / "copy", ignore=shutil.ignore_patterns("data"))
    magics.project = Project(root)
    report = run(shell, capsys, cell("--save --no-preview", CELL))
    assert report.preview is None and report.notes == ["saved to sql/features/user_likes.sql"]
    assert (root / "sql/features/user_likes.sql").read_text() == CELL
    assert magics.project.features["user_likes"].file == "sql/features/user_likes.sql"


def test_samples_line_magic(shell: InteractiveShell, magics: FeaturesqlMagics, capsys: pytest.CaptureFixture[str]) -> None:
    report = run(shell, capsys, "%featuresql samples ctr --limit 100")
    assert report.preview is not None and report.preview.kind == "samples"
    assert report.preview.table.num_rows == 100
    assert "the first 100 row(s)" in report._repr_html_()
    wrong = run(shell, capsys, "%featuresql samples user_engagement")
    assert wrong.error == "unknown samples user_engagement; known samples: ctr"


def test_samples_cell_with_an_entity(shell: InteractiveShell, magics: FeaturesqlMagics, capsys: pytest.CaptureFixture[str]) -> None:
    assert magics.project is not None
    user = magics.project.preview("ctr", limit=1).table.column("user_id")[0].as_py()
    body = "SAMPLES exposure_rows (\n  spine impressions,\n  features (user_exposure)\n);\n"
    report = run(shell, capsys, cell(f"--entity user_id={user}", body))
    assert report.ok and report.preview is not None
    assert set(report.preview.table.column("user_id").to_pylist()) == {user}


def test_verify_before_it_exists_says_so(shell: InteractiveShell, magics: FeaturesqlMagics, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delattr(Project, "verify", raising=False)
    monkeypatch.setitem(sys.modules, "featuresql.verify", None)  # as if the module did not exist
    report = run(shell, capsys, "%featuresql verify ctr")
    assert report.error is None
    assert report.notes and "not part of this version" in report.notes[0]


def test_verify_calls_the_engine_when_there_is_one(shell: InteractiveShell, magics: FeaturesqlMagics, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []
    monkeypatch.setattr(Project, "verify", lambda self, name, **options: calls.append((name, options)) or "0 differences", raising=False)
    report = run(shell, capsys, "%featuresql verify ctr --start 2026-01-11")
    assert calls == [("ctr", {"start": "2026-01-11"})]
    assert report.value == "0 differences"


def test_validate_compile_and_usage(shell: InteractiveShell, magics: FeaturesqlMagics, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(shell, capsys, "%featuresql validate").notes == ["ok: 2 tables, 5 features, 1 samples"]
    compiled = run(shell, capsys, "%featuresql compile post_popularity")
    assert "featuresql backfill: post_popularity" in str(compiled.value)
    assert "<pre" in compiled._repr_html_()
    usage = run(shell, capsys, "%featuresql")
    assert "%%featuresql" in str(usage.value)


def test_bad_options_are_usage_errors_without_traceback(shell: InteractiveShell, magics: FeaturesqlMagics, capsys: pytest.CaptureFixture[str]) -> None:
    for source in ("%featuresql preview", "%featuresql frobnicate", cell("--limit many", CELL), "%featuresql preview ctr --limit 0"):
        shell.run_cell(source)
        out, err = capsys.readouterr()
        assert "UsageError" in out + err, source
        assert "Traceback" not in out + err, source


def test_project_errors_and_missing_data_are_reports(shell: InteractiveShell, magics: FeaturesqlMagics, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    broken = write_project(tmp_path / "broken", {"events": EVENTS_CATALOG}, {"f": GOOD_FEATURE.replace("amount", "amonut")})
    assert shell.run_cell(f"%featuresql project {broken}").result is magics.project
    report = run(shell, capsys, "%featuresql validate")
    assert [d.code for d in report.diagnostics] == ["FS102"]
    assert "SUM(amonut)" in report._repr_html_()  # the file's line, quoted
    # a cell in a project without data: checked, then one clear message
    clean = write_project(tmp_path / "clean", {"events": EVENTS_CATALOG})
    assert shell.run_cell(f"%featuresql project {clean}").result is magics.project
    report = run(shell, capsys, cell("", GOOD_FEATURE))
    assert report.definition is not None and "no data files" in (report.error or "")


def test_project_from_a_variable(shell: InteractiveShell, magics: FeaturesqlMagics, capsys: pytest.CaptureFixture[str], example: Path) -> None:
    mine = Project(example)
    shell.user_ns["mine"] = mine
    shell.run_cell("%featuresql project mine")
    capsys.readouterr()
    assert magics.project is mine
    run(shell, capsys, cell("--no-preview", CELL))
    assert "user_likes" in mine.feature_names


def test_use_shares_a_project_with_python(shell: InteractiveShell, magics: FeaturesqlMagics, example: Path) -> None:
    import featuresql.notebook

    mine = Project(example)
    featuresql.notebook.use(mine)
    assert magics.project is mine


def test_html_formatters_for_definitions_and_diagnostics(shell: InteractiveShell, magics: FeaturesqlMagics) -> None:
    assert magics.project is not None
    data, _ = shell.display_formatter.format(magics.project.features["user_engagement"])
    assert "text/html" in data and "10m, 1h, 1d, 7d, lifetime" in data["text/html"]
    data, _ = shell.display_formatter.format(magics.project.tables["impressions"])
    assert "(event time)" in data["text/html"]
    data, _ = shell.display_formatter.format(magics.project)
    assert "valid" in data["text/html"] and "user_engagement" in data["text/html"]


@pytest.mark.parametrize("values, expected", [
    (None, None),
    (["u1"], "u1"),
    (["u1", "u2"], ["u1", "u2"]),
    (["user_id=u1", "author_id=a1", "user_id=u2"], {"user_id": ["u1", "u2"], "author_id": ["a1"]}),
    (["a=b=c"], {"a": ["b=c"]}),
    (["x y=1"], "x y=1"),
])
def test_parse_entity(values: list[str] | None, expected: object) -> None:
    assert parse_entity(values) == expected
