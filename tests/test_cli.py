"""The `featuresql` command line: exit codes, output formats, and the whole loop end to end.

Fast checks go through click's CliRunner; the end-to-end tests (marked `slow`)
run `python -m featuresql` in a subprocess on a copy of the example project with
20,000 generated events.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner, Result

from featuresql import Project
from featuresql.cli import main
from featuresql.diagnostics import CODES
from helpers import EVENTS_CATALOG, GOOD_FEATURE, REPO_ROOT, copy_example_project, locate, write_project

START, END = "2026-01-10", "2026-01-12"
DAY_DIR = re.compile(r"^dt=\d{4}-\d{2}-\d{2}$")


def cli(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def no_traceback(result: Result | subprocess.CompletedProcess) -> None:
    text = (result.stdout or "") + (result.stderr or "")
    assert "Traceback" not in text, text


@pytest.fixture
def broken(tmp_path: Path) -> Path:
    feature = GOOD_FEATURE.replace("SUM(amount)", "SUM(amonut)")
    return write_project(tmp_path / "broken", {"events": EVENTS_CATALOG}, {"f": feature})


@pytest.fixture
def clean(tmp_path: Path) -> Path:
    return write_project(tmp_path / "clean", {"events": EVENTS_CATALOG}, {"f": GOOD_FEATURE})


# ---------------------------------------------------------------------------------------
# validate: exit codes and formats
# ---------------------------------------------------------------------------------------


def test_validate_clean_exits_0(clean: Path) -> None:
    result = cli("validate", "--project", str(clean))
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "ok: 1 tables, 1 features, 0 samples"


def test_validate_example_project_exits_0() -> None:
    result = cli("validate", "--project", str(REPO_ROOT))
    assert result.exit_code == 0, result.output


def test_validate_errors_exit_1_with_positions(broken: Path) -> None:
    result = cli("validate", "--project", str(broken))
    assert result.exit_code == 1
    line, col = locate(GOOD_FEATURE.replace("SUM(amount)", "SUM(amonut)"), "amonut")
    assert result.stdout.splitlines() == [
        f"sql/features/f.sql:{line}:{col}: FS102 unknown column amonut in table events; did you mean amount?"
    ]
    assert result.stderr.strip() == "1 error(s)"


@pytest.mark.parametrize("args", [
    ["--format", "xml"],
    ["--project", "/no/such/dir"],
    ["--var", "novalue"],
    ["--var", "1x=2"],
    ["--no-such-option"],
])
def test_validate_usage_errors_exit_2(clean: Path, args: list[str]) -> None:
    result = cli("validate", *(args if "--project" in args else ["--project", str(clean), *args]))
    assert result.exit_code == 2, result.output
    no_traceback(result)


def test_validate_json(broken: Path, clean: Path) -> None:
    result = cli("validate", "--project", str(broken), "--format", "json")
    assert result.exit_code == 1
    items = json.loads(result.stdout)
    assert items == [{
        "path": "sql/features/f.sql", "line": 9, "col": 7, "code": "FS102",
        "message": "unknown column amonut in table events; did you mean amount?", "severity": "error",
    }]
    ok = cli("validate", "--project", str(clean), "--format", "json")
    assert ok.exit_code == 0
    assert json.loads(ok.stdout) == []


def test_validate_github(broken: Path, clean: Path) -> None:
    result = cli("validate", "--project", str(broken), "--format", "github")
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        "::error file=sql/features/f.sql,line=9,col=7,title=FS102::unknown column amonut in table events; did you mean amount?"
    ]
    ok = cli("validate", "--project", str(clean), "--format", "github")
    assert ok.exit_code == 0 and ok.stdout.strip() == ""


def test_validate_github_escapes_newlines_and_percent() -> None:
    from featuresql.diagnostics import Diagnostic, render

    # A message that quotes source keeps it on one line (line breaks shown escaped), in every format.
    diagnostic = Diagnostic("a.sql", 1, 2, "FS001", "50% of\nthe\r\u2028file")
    assert str(diagnostic) == "a.sql:1:2: FS001 50% of\\nthe\\r\\u2028file"
    line = render([diagnostic], "github")
    assert line == "::error file=a.sql,line=1,col=2,title=FS001::50%25 of\\nthe\\r\\u2028file"


@pytest.mark.slow
def test_validate_prints_only_diagnostics(tmp_path: Path) -> None:
    write_project(tmp_path, {"events": EVENTS_CATALOG, "zz": "CREATE TABLE t (4 ) 9 r\n"})
    proc = subprocess.run([sys.executable, "-m", "featuresql", "validate", "--project", str(tmp_path)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1
    assert proc.stderr.strip() == "1 error(s)", proc.stderr


def test_list_shows_tables_features_and_samples() -> None:
    result = cli("list", "--project", str(REPO_ROOT))
    assert result.exit_code == 0, result.output
    kinds = {line.split()[0] + " " + line.split()[1] for line in result.stdout.splitlines()}
    assert {"table impressions", "table engagements", "feature user_engagement", "samples ctr"} <= kinds


def test_codes_lists_every_code() -> None:
    result = cli("codes")
    assert result.exit_code == 0
    assert [line.split()[0] for line in result.stdout.splitlines()] == list(CODES)


# ---------------------------------------------------------------------------------------
# compile and unknown names
# ---------------------------------------------------------------------------------------


def test_compile_prints_the_project_sql() -> None:
    result = cli("compile", "user_engagement", "--project", str(REPO_ROOT), "--start", START, "--end", END)
    assert result.exit_code == 0, result.output
    assert result.stdout == Project(REPO_ROOT).compile("user_engagement", "duckdb", START, END)
    assert "read_parquet(" in result.stdout


@pytest.mark.parametrize("command", [
    ["compile", "nope"],
    ["backfill", "nope", "--start", START, "--end", END, "--out", "OUT"],
    ["samples", "nope", "--start", START, "--end", END, "--out", "OUT"],
])
def test_unknown_name_exits_1_listing_known_names(command: list[str], tmp_path: Path) -> None:
    command = [c.replace("OUT", str(tmp_path / "out")) for c in command]
    result = cli(*command, "--project", str(REPO_ROOT))
    assert result.exit_code == 1
    no_traceback(result)
    assert "nope" in result.stderr
    known = ["ctr"] if command[0] == "samples" else ["user_engagement", "author_reach", "user_exposure"]
    for name in known:
        assert name in result.stderr, result.stderr
    assert not (tmp_path / "out").exists()


def test_compile_broken_project_exits_1_with_diagnostics(broken: Path) -> None:
    result = cli("compile", "user_stats", "--project", str(broken))
    assert result.exit_code == 1
    no_traceback(result)
    assert "sql/features/f.sql:9:7: FS102" in result.stderr


@pytest.mark.parametrize("start, end", [("nope", END), (END, START), (START, START)])
def test_bad_range_exits_1(start: str, end: str) -> None:
    result = cli("compile", "ctr", "--project", str(REPO_ROOT), "--start", start, "--end", end)
    assert result.exit_code == 1
    no_traceback(result)
    assert result.stderr.startswith("error: ")


def test_var_is_quoted_in_compiled_sql(tmp_path: Path) -> None:
    feature = GOOD_FEATURE.replace("FROM events\n", "FROM events\nWHERE action = {{ act }} AND amount > {{ n }}\n")
    write_project(tmp_path, {"events": EVENTS_CATALOG}, {"f": feature})
    result = cli("compile", "user_stats", "--project", str(tmp_path), "--var", "act=x' OR '1'='1", "--var", "n=42")
    assert result.exit_code == 0, result.output
    assert "(action = 'x'' OR ''1''=''1' AND amount > 42)" in result.stdout
    # numbers render bare, so a number for a text column is a type error, not a silent string
    numeric = cli("compile", "user_stats", "--project", str(tmp_path), "--var", "act=42", "--var", "n=1")
    assert numeric.exit_code == 1
    assert "FS103 comparing text with the number 42" in numeric.stderr


def test_missing_var_is_a_diagnostic(tmp_path: Path) -> None:
    feature = GOOD_FEATURE.replace("FROM events\n", "FROM events\nWHERE action = {{ act }}\n")
    write_project(tmp_path, {"events": EVENTS_CATALOG}, {"f": feature})
    result = cli("validate", "--project", str(tmp_path))
    assert result.exit_code == 1
    assert "sql/features/f.sql:11:1: FS002 'act' is undefined: pass it with --var NAME=VALUE" in result.stdout


# ---------------------------------------------------------------------------------------
# End to end: generate, backfill, samples (subprocess, python -m featuresql)
# ---------------------------------------------------------------------------------------


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "featuresql", *args], capture_output=True, text=True, cwd=cwd, timeout=300)


def ok(proc: subprocess.CompletedProcess) -> subprocess.CompletedProcess:
    assert proc.returncode == 0, f"exit {proc.returncode}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
    return proc


def partitions(folder: Path) -> dict[str, list[str]]:
    """dt folder -> parquet files in it, asserting nothing else lives there."""
    layout = {}
    for entry in sorted(folder.iterdir()):
        assert DAY_DIR.match(entry.name), f"unexpected entry {entry} (staging left behind?)"
        files = sorted(p.name for p in entry.iterdir())
        assert files and all(f.endswith(".parquet") for f in files), (entry, files)
        layout[entry.name] = files
    return layout


def all_rows(folder: Path) -> list[tuple]:
    con = duckdb.connect()
    rows = con.execute(f"SELECT * FROM read_parquet('{folder}/dt=*/*.parquet', hive_partitioning = true) ORDER BY ALL").fetchall()
    con.close()
    return rows


def hidden_entries(out: Path) -> list[Path]:
    return [p for p in out.rglob(".*")]


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = copy_example_project(tmp_path_factory.mktemp("e2e") / "project")
    proc = ok(run("generate", "--size", "20000", "--out", str(root / "data")))
    assert "generated" in proc.stdout
    return root


def copy_of(example: Path, dest: Path) -> Path:
    shutil.copytree(example, dest)
    return dest


@pytest.mark.slow
def test_backfill_and_samples_layout_and_idempotence(example: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    project = Project(example)
    first = ok(run("backfill", "--project", str(example), "--start", START, "--end", END, "--out", str(out)))
    assert "backfill:" in first.stdout
    features_dir = out / "features"
    assert sorted(p.name for p in features_dir.iterdir()) == project.feature_names
    before = {}
    for name in project.feature_names:
        layout = partitions(features_dir / name)
        assert list(layout) == ["dt=2026-01-10", "dt=2026-01-11"], (name, layout)
        before[name] = all_rows(features_dir / name)
        assert before[name], name
    # each row sits in the partition of its event day
    con = duckdb.connect()
    misplaced = con.execute(
        f"SELECT count(*) FROM read_parquet('{features_dir}/*/dt=*/*.parquet', hive_partitioning = true) "
        "WHERE strftime(event_time, '%Y-%m-%d') <> CAST(dt AS VARCHAR)"
    ).fetchall()[0][0]
    assert misplaced == 0

    ok(run("samples", "ctr", "--project", str(example), "--start", START, "--end", END, "--out", str(out)))
    samples_dir = out / "samples" / "ctr"
    assert list(partitions(samples_dir)) == ["dt=2026-01-10", "dt=2026-01-11"]
    samples_before = all_rows(samples_dir)
    schema = pq.read_schema(next(samples_dir.glob("dt=2026-01-10/*.parquet")))
    spine = [c.name for c in project.tables["impressions"].columns]
    assert schema.names[: len(spine)] == spine
    assert schema.names[-1] == "clicked"
    for column in ("events_10m", "impressions_lifetime", "post_clicks_1h", "author_fans_7d", "ua_clicks_lifetime"):
        assert column in schema.names

    # rerun: same rows, no staging left anywhere
    ok(run("backfill", "--project", str(example), "--start", START, "--end", END, "--out", str(out)))
    ok(run("samples", "ctr", "--project", str(example), "--start", START, "--end", END, "--out", str(out)))
    for name in project.feature_names:
        assert all_rows(features_dir / name) == before[name], name
    assert all_rows(samples_dir) == samples_before
    assert hidden_entries(out) == []


@pytest.mark.slow
def test_missing_data_is_one_clear_error(example: Path, tmp_path: Path) -> None:
    root = copy_of(example, tmp_path / "p")
    for part in (root / "data" / "engagements").glob("*.parquet"):
        part.unlink()
    for command in (["backfill", "user_engagement"], ["samples", "ctr"]):
        proc = run(*command, "--project", str(root), "--start", START, "--end", END, "--out", str(tmp_path / "out"))
        assert proc.returncode == 1, proc.stdout + proc.stderr
        no_traceback(proc)
        errors = [line for line in proc.stderr.splitlines() if line.strip()]
        assert len(errors) == 1, proc.stderr
        assert "catalogs/engagements.sql" in errors[0]
        assert "data/engagements/*.parquet" in errors[0]
    assert not (tmp_path / "out" / "features" / "user_engagement").exists()


@pytest.mark.slow
def test_parquet_type_mismatch_is_one_clear_error(example: Path, tmp_path: Path) -> None:
    root = copy_of(example, tmp_path / "p")
    part = sorted((root / "data" / "engagements").glob("*.parquet"))[0]
    con = duckdb.connect()
    con.execute(
        f"COPY (SELECT * REPLACE (CAST(dwell_ms AS VARCHAR) AS dwell_ms) FROM read_parquet('{part}')) "
        f"TO '{part}.new' (FORMAT parquet)"
    )
    con.close()
    Path(f"{part}.new").replace(part)
    out = tmp_path / "out"
    proc = run("backfill", "user_engagement", "--project", str(root), "--start", START, "--end", END, "--out", str(out))
    assert proc.returncode == 1, proc.stdout + proc.stderr
    no_traceback(proc)
    errors = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(errors) == 1, proc.stderr
    message = errors[0]
    for needle in ("catalogs/engagements.sql", "dwell_ms", "data/engagements", "BIGINT", "VARCHAR"):
        assert needle in message, message
    assert not out.exists() or not any(out.rglob("*.parquet"))


@pytest.mark.slow
def test_parquet_file_missing_a_column_is_one_clear_error(example: Path, tmp_path: Path) -> None:
    root = copy_of(example, tmp_path / "p")
    part = sorted((root / "data" / "engagements").glob("*.parquet"))[-1]
    con = duckdb.connect()
    con.execute(f"COPY (SELECT * EXCLUDE (dwell_ms) FROM read_parquet('{part}')) TO '{part}.new' (FORMAT parquet)")
    con.close()
    Path(f"{part}.new").replace(part)
    proc = run("backfill", "user_engagement", "--project", str(root), "--start", START, "--end", END, "--out", str(tmp_path / "out"))
    assert proc.returncode == 1, proc.stdout + proc.stderr
    no_traceback(proc)
    assert "catalogs/engagements.sql" in proc.stderr and "dwell_ms" in proc.stderr


@pytest.mark.slow
def test_var_injection_stays_a_literal(example: Path, tmp_path: Path) -> None:
    root = copy_of(example, tmp_path / "p")
    (root / "sql" / "features" / "action_users.sql").write_text(
        "FEATURE action_users (entity user_id, windows (1d));\n"
        "SELECT user_id, COUNT(*) AS n_action\n"
        "FROM engagements\n"
        "WHERE action = {{ act }}\n"
        "GROUP BY user_id;\n"
    )
    args = ["action_users", "--project", str(root), "--start", START, "--end", END]
    injected = ok(run("backfill", *args, "--out", str(tmp_path / "a"), "--var", "act=x' OR '1'='1"))
    assert "action_users: 0 rows" in injected.stdout, injected.stdout
    clicks = ok(run("backfill", *args, "--out", str(tmp_path / "b"), "--var", "act=click"))
    count = int(re.search(r"action_users: ([\d,]+) rows", clicks.stdout).group(1).replace(",", ""))
    con = duckdb.connect()
    expected = con.execute(
        f"SELECT count(*) FROM read_parquet('{root}/data/engagements/*.parquet') WHERE action = 'click' "
        f"AND user_id IS NOT NULL AND event_time >= TIMESTAMP '{START}' AND event_time < TIMESTAMP '{END}'"
    ).fetchall()[0][0]
    assert count == expected > 0


@pytest.mark.slow
def test_newcomer_loop(example: Path, tmp_path: Path) -> None:
    root = copy_of(example, tmp_path / "p")
    feature = (
        "FEATURE user_likes (\n"
        "  entity user_id,\n"
        "  windows (1h, 1d)\n"
        ");\n"
        "\n"
        "SELECT\n"
        "  user_id,\n"
        "  COUNT(*) FILTER (WHERE acton = 'like') AS likes\n"
        "FROM engagements\n"
        "GROUP BY user_id;\n"
    )
    path = root / "sql" / "features" / "user_likes.sql"
    path.write_text(feature)
    samples = root / "sql" / "samples" / "ctr.sql"
    samples.write_text(samples.read_text().replace("user_author_affinity)", "user_author_affinity, user_likes)"))

    proc = run("validate", "--project", str(root))
    assert proc.returncode == 1
    line, col = locate(feature, "acton")
    assert proc.stdout.splitlines() == [
        f"sql/features/user_likes.sql:{line}:{col}: FS102 unknown column acton in table engagements; did you mean action?"
    ], proc.stdout
    no_traceback(proc)

    path.write_text(feature.replace("acton", "action"))
    ok(run("validate", "--project", str(root)))
    out = tmp_path / "out"
    ok(run("samples", "ctr", "--project", str(root), "--start", START, "--end", END, "--out", str(out)))
    table = pq.read_table(out / "samples" / "ctr" / "dt=2026-01-11")
    assert {"likes_1h", "likes_1d"} <= set(table.column_names)
    assert table.num_rows > 0


# ---------------------------------------------------------------------------------------
# Odd and unwritable output folders; the backstop for everything else (issue 14)
# ---------------------------------------------------------------------------------------


def one_error_line(result: Result) -> str:
    """The run failed with exactly one line on stderr, and no traceback."""
    no_traceback(result)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    return lines[0]


@pytest.mark.parametrize("engine", ["duckdb", "flink"])
@pytest.mark.parametrize("command", [["backfill"], ["samples", "s"]])
@pytest.mark.parametrize(("out", "says"), [
    ("", "the output folder is empty"),
    ("FILE", "is a file, not a folder"),
    ("FILE/sub", "runs through the file"),
    ("/proc/featuresql-x", "cannot create it: No such file or directory"),
    ("/sys/featuresql-x", "cannot create it: "),
    ("/proc", "cannot write there: "),
])
def test_an_odd_or_unwritable_out_is_one_line_and_exit_2(
    clean: Path, tmp_path: Path, engine: str, command: list[str], out: str, says: str
) -> None:
    (tmp_path / "FILE").write_text("a file, not a folder")
    out = out.replace("FILE", str(tmp_path / "FILE"))
    before = sorted(p.name for p in tmp_path.iterdir())
    result = cli(*command, "--project", str(clean), "--start", START, "--end", END, "--out", out, "--engine", engine)
    assert result.exit_code == 2, result.output
    line = one_error_line(result)
    assert line.startswith("error: --out ") and says in line, line
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # nothing created


def test_a_failed_run_leaves_no_new_folder(clean: Path, tmp_path: Path) -> None:
    out = tmp_path / "new" / "out"
    result = cli("backfill", "user_stats", "--project", str(clean), "--start", START, "--end", END, "--out", str(out))
    assert result.exit_code == 1  # the project has no data
    assert "has no data files" in one_error_line(result)
    assert not (tmp_path / "new").exists()


def test_other_writing_commands_check_their_folders(clean: Path, tmp_path: Path) -> None:
    (tmp_path / "FILE").write_text("")
    for args in (["generate", "--size", "1k"], ["stream", "user_stats", "--project", str(clean)]):
        result = cli(*args, "--out", str(tmp_path / "FILE"))
        assert result.exit_code == 2, result.output
        assert "is a file, not a folder" in one_error_line(result)
    result = cli("stream", "user_stats", "--project", str(clean), "--out", str(tmp_path / "o"), "--state", "")
    assert result.exit_code == 2
    assert one_error_line(result).startswith("error: --state '': the output folder is empty")


def test_an_unexpected_exception_is_one_line_and_exit_2(clean: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("a bug\nover two lines")

    monkeypatch.setattr(Project, "backfill", broken)
    args = ["backfill", "--project", str(clean), "--start", START, "--end", END, "--out", str(tmp_path / "out")]
    monkeypatch.delenv("FEATURESQL_DEBUG", raising=False)
    result = cli(*args)
    assert result.exit_code == 2
    assert one_error_line(result) == (
        "featuresql: internal error: RuntimeError: a bug; over two lines (set FEATURESQL_DEBUG=1 for the traceback)"
    )
    assert not (tmp_path / "out").exists()
    monkeypatch.setenv("FEATURESQL_DEBUG", "1")
    debug = cli(*args)
    assert debug.exit_code == 2
    assert "Traceback" in debug.stderr and "in broken" in debug.stderr
    assert debug.stderr.strip().splitlines()[-1] == "featuresql: internal error: RuntimeError: a bug; over two lines"


def test_a_featuresql_error_message_is_one_line(clean: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from featuresql.diagnostics import FeaturesqlError

    def failing(*args: object, **kwargs: object) -> None:
        raise FeaturesqlError("DuckDB said\n  something long\n\nwith advice")

    monkeypatch.setattr(Project, "compile", failing)
    result = cli("compile", "user_stats", "--project", str(clean))
    assert result.exit_code == 1
    assert one_error_line(result) == "error: DuckDB said; something long; with advice"


def test_usage_errors_stay_clicks(clean: Path) -> None:
    result = cli("backfill", "--project", str(clean), "--start", START, "--end", END)
    assert result.exit_code == 2
    no_traceback(result)
    assert "Missing option '--out'" in result.stderr
