"""Every diagnostic code, triggered by a crafted mistake, at an exact `path:line:col`.

Each test writes a tiny project into tmp_path (see tests/helpers.py) and asserts
the code and the source position of the diagnostic. Positions are computed with
`locate(text, needle)`, i.e. they point at the first character of the offending
token in the file as the user wrote it. `test_every_code_has_a_test` keeps the
list complete when codes are added to `featuresql.diagnostics.CODES`.

Tests marked `xfail(strict=True, reason="BUG: ...")` pin known bugs; they turn
into failures (XPASS) once the bug is fixed, so the marker can be removed.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from featuresql import Diagnostic, Project
from featuresql.diagnostics import CODES, render
from helpers import (
    EVENTS_CATALOG,
    GOOD_FEATURE,
    SPINE_CATALOG,
    copy_example_project,
    locate,
    write_project,
)

COVERED: set[str] = set()


def covers(*codes: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Record that a test triggers `codes` (checked by test_every_code_has_a_test)."""

    def mark(func: Callable[..., Any]) -> Callable[..., Any]:
        COVERED.update(codes)
        return func

    return mark


FEATURE_PATH = "sql/features/f.sql"
SAMPLES_PATH = "sql/samples/s.sql"
CATALOG_PATH = "catalogs/events.sql"

GOOD_SAMPLES = """\
SAMPLES s (
  spine spine,
  features (user_stats),
  label (source events, horizon 10m)
);

SELECT COUNT(*) FILTER (WHERE action = 'click') > 0 AS label
FROM events
GROUP BY user_id, item_id;
"""


def variant(base: str, old: str, new: str) -> str:
    assert old in base, f"{old!r} is not in the base text"
    return base.replace(old, new, 1)


def validate(
    root: Path,
    features: dict[str, str] | None = None,
    samples: dict[str, str] | None = None,
    catalogs: dict[str, str] | None = None,
    macros: dict[str, str] | None = None,
    variables: dict[str, str] | None = None,
) -> list[Diagnostic]:
    if catalogs is None:
        catalogs = {"events": EVENTS_CATALOG, "spine": SPINE_CATALOG}
    write_project(root, catalogs, features, samples, macros)
    return Project(root, variables).validate()


def expect(diagnostics: list[Diagnostic], *expected: tuple[str, str, int, int], exact: bool = True) -> None:
    """`expected` are (code, path, line, col); with `exact`, nothing else may be reported."""
    found = [(d.code, d.path, d.line, d.col) for d in diagnostics]
    shown = render(diagnostics) or "(no diagnostics)"
    for item in expected:
        assert item in found, f"expected {item[1]}:{item[2]}:{item[3]}: {item[0]}, got:\n{shown}"
    if exact:
        assert sorted(found) == sorted(expected), f"unexpected extra diagnostics:\n{shown}"


def at(code: str, path: str, text: str, needle: str, occurrence: int = 1) -> tuple[str, str, int, int]:
    return (code, path, *locate(text, needle, occurrence))


# ---------------------------------------------------------------------------------------
# Clean projects
# ---------------------------------------------------------------------------------------


def test_clean_project_has_no_diagnostics(tmp_path: Path) -> None:
    assert validate(tmp_path, {"f": GOOD_FEATURE}, {"s": GOOD_SAMPLES}) == []


def test_example_project_is_clean() -> None:
    project = Project(Path(__file__).resolve().parent.parent)
    assert project.validate() == []
    assert {"user_engagement", "post_popularity"} <= set(project.feature_names)
    assert "ctr" in project.samples_names


def test_every_code_has_a_test() -> None:
    missing = sorted(set(CODES) - COVERED)
    assert not missing, f"codes without a test in tests/test_diagnostics.py: {missing}"
    assert not COVERED - set(CODES), f"tests claim unknown codes: {sorted(COVERED - set(CODES))}"


# ---------------------------------------------------------------------------------------
# FS001 - FS003: reading files
# ---------------------------------------------------------------------------------------


@covers("FS001")
def test_fs001_syntax_error_in_query(tmp_path: Path) -> None:
    text = variant(GOOD_FEATURE, "COUNT(*) AS events", "COUNT(* AS events")
    # sqlglot reports where it gave up: at the AS that should have been a ')'.
    expect(validate(tmp_path, {"f": text}), at("FS001", FEATURE_PATH, text, "AS events"))


@covers("FS001")
def test_fs001_syntax_error_in_header(tmp_path: Path) -> None:
    text = variant(GOOD_FEATURE, "entity user_id,", "entity user_id,,")
    line, col = locate(text, ",,")
    expect(validate(tmp_path, {"f": text}), ("FS001", FEATURE_PATH, line, col + 1))  # the second comma


@covers("FS001")
def test_fs001_operator_missing_its_operand(tmp_path: Path) -> None:
    # `amount ?` is an operator without its right side. Pure sqlglot raises a
    # ParseError here; its compiled build (sqlglotc) a TypeError, which must still
    # become a diagnostic at the operator, never a traceback.
    text = variant(GOOD_FEATURE, "SUM(amount) AS total", "SUM(amount ?) AS total")
    expect(validate(tmp_path, {"f": text}), at("FS001", FEATURE_PATH, text, "?"))


@covers("FS005")
def test_fs005_file_not_utf8(tmp_path: Path) -> None:
    write_project(tmp_path, {"events": EVENTS_CATALOG})
    (tmp_path / FEATURE_PATH).write_bytes(b"\xff\xfeFEATURE")
    expect(Project(tmp_path).validate(), ("FS005", FEATURE_PATH, 1, 1))


@covers("FS005")
def test_fs005_link_out_of_the_project_is_not_read(tmp_path: Path) -> None:
    # A pull request can commit a symlink; validate must not read the machine through it.
    secret = tmp_path / "outside" / "id_rsa"
    secret.parent.mkdir()
    secret.write_text("SECRET-KEY-MATERIAL\n")
    root = tmp_path / "project"
    write_project(root, {"events": EVENTS_CATALOG})
    (root / FEATURE_PATH).symlink_to(secret)
    diagnostics = Project(root).validate()
    expect(diagnostics, ("FS005", FEATURE_PATH, 1, 1))
    assert "SECRET" not in render(diagnostics)


@covers("FS005")
def test_fs005_oversized_file_is_not_read(tmp_path: Path) -> None:
    write_project(tmp_path, {"events": EVENTS_CATALOG})
    (tmp_path / FEATURE_PATH).write_text("-- " + "x" * 10_000_001 + "\n")
    expect(Project(tmp_path).validate(), ("FS005", FEATURE_PATH, 1, 1))


@covers("FS004")
def test_fs004_template_reaching_python_internals(tmp_path: Path) -> None:
    text = variant(GOOD_FEATURE, "SUM(amount) AS total", "SUM(amount) AS total,\n  {{ cycler.__init__ }} AS x")
    expect(validate(tmp_path, {"f": text}), ("FS004", FEATURE_PATH, locate(text, "{{ cycler")[0], 1))


@pytest.mark.xfail(strict=True, reason="LIMITATION: parse/reader.py _token_error_position points at the end of the "
                   "tokenizer context (end of file), not at the unterminated quote")
@covers("FS001")
def test_fs001_unterminated_string_points_at_the_quote(tmp_path: Path) -> None:
    text = variant(GOOD_FEATURE, "SUM(amount) AS total", "SUM(amount) AS 'total")
    expect(validate(tmp_path, {"f": text}), at("FS001", FEATURE_PATH, text, "'total"))


@covers("FS001")
def test_fs001_unterminated_string_is_reported(tmp_path: Path) -> None:
    text = variant(GOOD_FEATURE, "SUM(amount) AS total", "SUM(amount) AS 'total")
    diagnostics = validate(tmp_path, {"f": text})
    assert [d.code for d in diagnostics] == ["FS001"]
    assert diagnostics[0].path == FEATURE_PATH


@covers("FS002")
def test_fs002_undefined_variable_reports_its_source_line(tmp_path: Path) -> None:
    text = variant(GOOD_FEATURE, "SUM(amount)", "SUM({{ column }})")
    diagnostics = validate(tmp_path, {"f": text})
    # Jinja knows lines, not columns.
    expect(diagnostics, ("FS002", FEATURE_PATH, locate(text, "{{ column }}")[0], 1))
    assert "--var" in diagnostics[0].message


@covers("FS002")
def test_fs002_jinja_syntax_error_reports_its_source_line(tmp_path: Path) -> None:
    text = variant(GOOD_FEATURE, "SUM(amount) AS total", "{% if %} SUM(amount) AS total")
    expect(validate(tmp_path, {"f": text}), ("FS002", FEATURE_PATH, locate(text, "{% if %}")[0], 1))


@covers("FS002")
def test_fs002_unknown_filter(tmp_path: Path) -> None:
    text = variant(GOOD_FEATURE, "SUM(amount)", "SUM({{ 'amount' | no_such_filter }})")
    expect(validate(tmp_path, {"f": text}), ("FS002", FEATURE_PATH, locate(text, "no_such_filter")[0], 1))


@covers("FS002")
def test_fs002_undefined_inside_a_macro_points_at_the_call(tmp_path: Path) -> None:
    macros = {"m": "{% macro cnt(a) -%}\nCOUNT(*) FILTER (WHERE action = '{{ a }}' AND {{ nope }})\n{%- endmacro %}\n"}
    text = variant(GOOD_FEATURE, "COUNT(*) AS events", "{{ cnt('click') }} AS events")
    expect(validate(tmp_path, {"f": text}, macros=macros), ("FS002", FEATURE_PATH, locate(text, "{{ cnt")[0], 1))


@covers("FS002")
def test_fs002_macro_file_syntax_error(tmp_path: Path) -> None:
    macros = {"bad": "{% macro x() %}\n{% if %}\n{% endmacro %}\n"}
    text = variant(GOOD_FEATURE, "SUM(amount)", "SUM({{ 'amount' }})")
    diagnostics = validate(tmp_path, {"f": text}, macros=macros)
    expect(diagnostics, ("FS002", "sql/macros/bad.sql", 2, 1), exact=False)


@covers("FS002")
def test_fs002_macro_file_syntax_error_reported_even_if_unused(tmp_path: Path) -> None:
    macros = {"bad": "{% macro x() %}\n{% if %}\n{% endmacro %}\n"}
    expect(validate(tmp_path, {"f": GOOD_FEATURE}, macros=macros), ("FS002", "sql/macros/bad.sql", 2, 1))


@covers("FS002")
def test_fs002_jinja_runtime_error_is_a_diagnostic(tmp_path: Path) -> None:
    text = variant(GOOD_FEATURE, "SUM(amount)", "SUM({{ 1 / 0 }})")
    expect(validate(tmp_path, {"f": text}), ("FS002", FEATURE_PATH, locate(text, "{{ 1 / 0 }}")[0], 1))


@covers("FS003")
def test_fs003_empty_file(tmp_path: Path) -> None:
    expect(validate(tmp_path, {"f": "-- nothing here yet\n"}), ("FS003", FEATURE_PATH, 1, 1))


@covers("FS003")
def test_fs003_header_without_query(tmp_path: Path) -> None:
    text = "FEATURE f (entity user_id, windows (1h));\n"
    expect(validate(tmp_path, {"f": text}), ("FS003", FEATURE_PATH, 1, 1))


@covers("FS003")
def test_fs003_two_queries(tmp_path: Path) -> None:
    text = GOOD_FEATURE + "\nSELECT user_id FROM events;\n"
    diagnostics = validate(tmp_path, {"f": text})
    assert [(d.code, d.line) for d in diagnostics] == [("FS003", locate(text, "SELECT user_id FROM")[0])]


@pytest.mark.xfail(strict=True, reason="LIMITATION: sqlglot keeps positions only for identifiers and "
                   "literals, not keywords, so `SELECT 1` is located at its `1` (1:8), not at SELECT (1:1)")
@covers("FS003")
def test_fs003_no_header_points_at_the_statement(tmp_path: Path) -> None:
    expect(validate(tmp_path, {"f": "SELECT 1;\n"}), ("FS003", FEATURE_PATH, 1, 1))


@covers("FS003")
def test_fs003_samples_query_without_label(tmp_path: Path) -> None:
    text = variant(GOOD_SAMPLES, "  label (source events, horizon 10m)\n", "  description 'x'\n")
    diagnostics = validate(tmp_path, {"f": GOOD_FEATURE}, {"s": text})
    assert [(d.code, d.path, d.line) for d in diagnostics] == [("FS003", SAMPLES_PATH, locate(text, "SELECT")[0])]


# ---------------------------------------------------------------------------------------
# FS101 - FS113: queries
# ---------------------------------------------------------------------------------------


@covers("FS101")
def test_fs101_unknown_table(tmp_path: Path) -> None:
    text = variant(GOOD_FEATURE, "FROM events", "FROM evnets")
    expect(validate(tmp_path, {"f": text}), at("FS101", FEATURE_PATH, text, "evnets"))


@covers("FS101")
def test_fs101_unknown_spine(tmp_path: Path) -> None:
    text = variant(GOOD_SAMPLES, "spine spine", "spine spien")
    expect(validate(tmp_path, {"f": GOOD_FEATURE}, {"s": text}), at("FS101", SAMPLES_PATH, text, "spien"), exact=False)


@covers("FS102")
def test_fs102_typo_in_column(tmp_path: Path) -> None:
    text = variant(GOOD_FEATURE, "SUM(amount)", "SUM(amonut)")
    diagnostics = validate(tmp_path, {"f": text})
    expect(diagnostics, at("FS102", FEATURE_PATH, text, "amonut"))
    assert "did you mean amount?" in diagnostics[0].message


@covers("FS102")
def test_fs102_wrong_table_qualifier(tmp_path: Path) -> None:
    text = variant(GOOD_FEATURE, "SUM(amount)", "SUM(other.amount)")
    diagnostics = validate(tmp_path, {"f": text})
    # Line only: the column is that of `amount`, not of `other.amount` (breadth-first position(), see FS111 below).
    assert [(d.code, d.path, d.line) for d in diagnostics] == [("FS102", FEATURE_PATH, locate(text, "other.amount")[0])]


@covers("FS102")
def test_fs102_in_label_query(tmp_path: Path) -> None:
    text = variant(GOOD_SAMPLES, "action = 'click'", "actoin = 'click'")
    expect(validate(tmp_path, {"f": GOOD_FEATURE}, {"s": text}), at("FS102", SAMPLES_PATH, text, "actoin"))


@covers("FS103")
def test_fs103_comparing_number_with_string(tmp_path: Path) -> None:
    text = variant(GOOD_FEATURE, "SUM(amount)", "COUNT(*) FILTER (WHERE amount = 'abc')")
    expect(validate(tmp_path, {"f": text}), at("FS103", FEATURE_PATH, text, "amount = 'abc'"))


@covers("FS103")
def test_fs103_comparing_text_with_number(tmp_path: Path) -> None:
    text = variant(GOOD_FEATURE, "SUM(amount)", "SUM(amount) FILTER (WHERE action = 1)")
    expect(validate(tmp_path, {"f": text}), at("FS103", FEATURE_PATH, text, "action = 1"))


@covers("FS103")
def test_fs103_where_comparison_is_reported_on_its_line(tmp_path: Path) -> None:
    text = variant(GOOD_FEATURE, "FROM events\n", "FROM events\nWHERE action = 1\n")
    expect(validate(tmp_path, {"f": text}), at("FS103", FEATURE_PATH, text, "action = 1"))


@covers("FS103")
def test_fs103_filter_must_be_boolean(tmp_path: Path) -> None:
    text = variant(GOOD_FEATURE, "SUM(amount)", "COUNT(*) FILTER (WHERE amount)")
    expect(validate(tmp_path, {"f": text}), at("FS103", FEATURE_PATH, text, "amount)"))


@covers("FS103")
def test_fs103_sum_of_text_points_at_sum(tmp_path: Path) -> None:
    text = variant(GOOD_FEATURE, "SUM(amount)", "SUM(action)")
    expect(validate(tmp_path, {"f": text}), at("FS103", FEATURE_PATH, text, "SUM(action)"))


@covers("FS103")
def test_fs103_sum_of_text_is_reported_on_its_line(tmp_path: Path) -> None:
    text = variant(GOOD_FEATURE, "SUM(amount)", "AVG(action)")
    diagnostics = validate(tmp_path, {"f": text})
    assert [(d.code, d.line) for d in diagnostics] == [("FS103", locate(text, "AVG(action)")[0])]


@covers("FS103")
def test_fs103_seconds_since_of_text_points_at_the_call(tmp_path: Path) -> None:
    text = variant(GOOD_FEATURE, "SUM(amount) AS total", "SECONDS_SINCE(MAX(action)) AS total")
    expect(validate(tmp_path, {"f": text}), at("FS103", FEATURE_PATH, text, "SECONDS_SINCE"))


@covers("FS104")
def test_fs104_bare_column(tmp_path: Path) -> None:
    text = variant(GOOD_FEATURE, "SUM(amount) AS total", "amount AS total")
    expect(validate(tmp_path, {"f": text}), at("FS104", FEATURE_PATH, text, "amount AS total"))


@covers("FS104")
def test_fs104_bare_column_in_arithmetic(tmp_path: Path) -> None:
    text = variant(GOOD_FEATURE, "SUM(amount) AS total", "SUM(amount) / amount AS total")
    expect(validate(tmp_path, {"f": text}), at("FS104", FEATURE_PATH, text, "amount AS total"))


@covers("FS105")
def test_fs105_group_by_is_not_the_entity(tmp_path: Path) -> None:
    text = variant(GOOD_FEATURE, "GROUP BY user_id", "GROUP BY user_id, item_id")
    expect(validate(tmp_path, {"f": text}), at("FS105", FEATURE_PATH, text, "user_id, item_id"))


@covers("FS105")
def test_fs105_group_by_expression(tmp_path: Path) -> None:
    text = variant(GOOD_FEATURE, "GROUP BY user_id", "GROUP BY lower(user_id)")
    diagnostics = validate(tmp_path, {"f": text})
    expect(diagnostics, at("FS105", FEATURE_PATH, text, "lower(user_id)"), exact=False)


@covers("FS106")
def test_fs106_bad_window_unit(tmp_path: Path) -> None:
    text = variant(GOOD_FEATURE, "1h, lifetime", "10x, lifetime")
    expect(validate(tmp_path, {"f": text}), at("FS106", FEATURE_PATH, text, "10x"))


@covers("FS106")
def test_fs106_zero_window(tmp_path: Path) -> None:
    text = variant(GOOD_FEATURE, "1h, lifetime", "1h, 0m")
    expect(validate(tmp_path, {"f": text}), at("FS106", FEATURE_PATH, text, "0m"))


@covers("FS106")
def test_fs106_same_window_twice(tmp_path: Path) -> None:
    text = variant(GOOD_FEATURE, "1h, lifetime", "1h, 60m")
    expect(validate(tmp_path, {"f": text}), at("FS106", FEATURE_PATH, text, "60m"))


@covers("FS106")
def test_fs106_no_window(tmp_path: Path) -> None:
    text = variant(GOOD_FEATURE, "windows (1h, lifetime)", "windows ()")
    expect(validate(tmp_path, {"f": text}), at("FS106", FEATURE_PATH, text, "windows"))


@covers("FS107")
def test_fs107_bad_horizon(tmp_path: Path) -> None:
    text = variant(GOOD_SAMPLES, "horizon 10m", "horizon 10x")
    expect(validate(tmp_path, {"f": GOOD_FEATURE}, {"s": text}), at("FS107", SAMPLES_PATH, text, "10x"))


@covers("FS107")
def test_fs107_negative_horizon(tmp_path: Path) -> None:
    text = variant(GOOD_SAMPLES, "horizon 10m", "horizon -10m")
    expect(validate(tmp_path, {"f": GOOD_FEATURE}, {"s": text}), at("FS107", SAMPLES_PATH, text, "-10m"))


@covers("FS107")
def test_fs107_lifetime_horizon(tmp_path: Path) -> None:
    text = variant(GOOD_SAMPLES, "horizon 10m", "horizon lifetime")
    expect(validate(tmp_path, {"f": GOOD_FEATURE}, {"s": text}), at("FS107", SAMPLES_PATH, text, "lifetime"))


@covers("FS107")
def test_fs107_missing_horizon(tmp_path: Path) -> None:
    text = variant(GOOD_SAMPLES, "source events, horizon 10m", "source events")
    expect(validate(tmp_path, {"f": GOOD_FEATURE}, {"s": text}), at("FS107", SAMPLES_PATH, text, "label"))


@covers("FS108")
def test_fs108_duplicate_feature(tmp_path: Path) -> None:
    diagnostics = validate(tmp_path, {"a": GOOD_FEATURE, "b": GOOD_FEATURE})
    expect(diagnostics, ("FS108", "sql/features/b.sql", 1, 1))
    assert "sql/features/a.sql" in diagnostics[0].message


@covers("FS108")
def test_fs108_samples_named_like_a_feature(tmp_path: Path) -> None:
    text = variant(GOOD_SAMPLES, "SAMPLES s", "SAMPLES user_stats")
    expect(validate(tmp_path, {"f": GOOD_FEATURE}, {"s": text}), ("FS108", SAMPLES_PATH, 1, 1))


@covers("FS108")
def test_fs108_duplicate_table(tmp_path: Path) -> None:
    diagnostics = validate(tmp_path, catalogs={"events": EVENTS_CATALOG, "more_events": EVENTS_CATALOG})
    expect(diagnostics, at("FS108", "catalogs/more_events.sql", EVENTS_CATALOG, "events"))


@covers("FS109")
def test_fs109_duplicate_output(tmp_path: Path) -> None:
    text = variant(GOOD_FEATURE, "SUM(amount) AS total", "SUM(amount) AS events")
    expect(validate(tmp_path, {"f": text}), at("FS109", FEATURE_PATH, text, "events", 2))


@covers("FS109")
def test_fs109_two_features_of_a_samples_produce_the_same_column(tmp_path: Path) -> None:
    other = variant(GOOD_FEATURE, "user_stats", "user_stats2")
    text = variant(GOOD_SAMPLES, "features (user_stats)", "features (user_stats, user_stats2)")
    diagnostics = validate(tmp_path, {"f": GOOD_FEATURE, "g": other}, {"s": text})
    assert {(d.code, d.path, d.line, d.col) for d in diagnostics} == {at("FS109", SAMPLES_PATH, text, "user_stats2")}
    assert any("events_1h" in d.message for d in diagnostics)


@covers("FS109")
def test_fs109_label_collides_with_a_feature_column(tmp_path: Path) -> None:
    text = variant(GOOD_SAMPLES, "AS label", "AS total_1h")
    diagnostics = validate(tmp_path, {"f": GOOD_FEATURE}, {"s": text})
    assert [(d.code, d.path) for d in diagnostics] == [("FS109", SAMPLES_PATH)]


@covers("FS110")
@pytest.mark.parametrize("call, needle", [
    ("SUM(random())", "random"),
    ("MAX(now())", "now"),
    ("MAX(current_timestamp())", "current_timestamp"),
    ("COUNT(DISTINCT uuid())", "uuid"),
])
def test_fs110_non_deterministic(tmp_path: Path, call: str, needle: str) -> None:
    text = variant(GOOD_FEATURE, "SUM(amount)", call)
    expect(validate(tmp_path, {"f": text}), at("FS110", FEATURE_PATH, text, needle))


@covers("FS111")
def test_fs111_negative_window(tmp_path: Path) -> None:
    text = variant(GOOD_FEATURE, "1h, lifetime", "-1h, lifetime")
    expect(validate(tmp_path, {"f": text}), at("FS111", FEATURE_PATH, text, "-1h"))


@covers("FS111")
def test_fs111_as_of_on_the_left(tmp_path: Path) -> None:
    text = variant(GOOD_FEATURE, "FROM events\n", "FROM events\nWHERE AS_OF() <= event_time\n")
    expect(validate(tmp_path, {"f": text}), at("FS111", FEATURE_PATH, text, "AS_OF() <= event_time"))


@covers("FS111")
def test_fs111_where_time_at_or_after_as_of_is_reported_on_its_line(tmp_path: Path) -> None:
    text = variant(GOOD_FEATURE, "FROM events\n", "FROM events\nWHERE event_time >= AS_OF()\n")
    diagnostics = validate(tmp_path, {"f": text})
    assert [(d.code, d.path, d.line) for d in diagnostics] == [("FS111", FEATURE_PATH, locate(text, "WHERE")[0])]


@covers("FS111")
def test_fs111_where_time_at_or_after_as_of_points_at_the_comparison(tmp_path: Path) -> None:
    text = variant(GOOD_FEATURE, "FROM events\n", "FROM events\nWHERE event_time >= AS_OF()\n")
    expect(validate(tmp_path, {"f": text}), at("FS111", FEATURE_PATH, text, "event_time >= AS_OF()"))


@covers("FS112")
def test_fs112_feature_reads_a_label_column(tmp_path: Path) -> None:
    text = variant(GOOD_FEATURE, "SUM(amount)", "COUNT(*) FILTER (WHERE clicked)")
    expect(validate(tmp_path, {"f": text}), at("FS112", FEATURE_PATH, text, "clicked"))


def test_label_query_may_read_a_label_column(tmp_path: Path) -> None:
    text = variant(GOOD_SAMPLES, "COUNT(*) FILTER (WHERE action = 'click') > 0", "COUNT(*) FILTER (WHERE clicked) > 0")
    assert validate(tmp_path, {"f": GOOD_FEATURE}, {"s": text}) == []


@covers("FS113")
@pytest.mark.parametrize("old, new, needle", [
    ("SUM(amount)", "SUM(foo(amount))", "foo"),
    ("SUM(amount) AS total", "SUM(amount) OVER () AS total", "SUM(amount) OVER"),
    ("SUM(amount)", "SUM(MAX(amount))", "MAX(amount)"),
    ("SUM(amount)", "STDDEV(amount)", "STDDEV"),
    ("SUM(amount) AS total", "SUM(amount)", "SUM(amount)"),
    ("SUM(amount)", "MAX(AS_OF())", "AS_OF"),
    ("COUNT(*) AS events", "*", "*"),
    ("SELECT\n", "SELECT DISTINCT\n", "user_id,\n  COUNT"),
    ("FROM events", "FROM events JOIN spine USING (user_id)", "events JOIN"),
])
def test_fs113_unsupported_construct(tmp_path: Path, old: str, new: str, needle: str) -> None:
    text = variant(GOOD_FEATURE, old, new)
    expect(validate(tmp_path, {"f": text}), at("FS113", FEATURE_PATH, text, needle))


@covers("FS113")
def test_fs113_order_by(tmp_path: Path) -> None:
    text = variant(GOOD_FEATURE, "GROUP BY user_id;", "GROUP BY user_id\nORDER BY user_id;")
    diagnostics = validate(tmp_path, {"f": text})
    assert [(d.code, d.line) for d in diagnostics] == [("FS113", locate(text, "ORDER BY")[0])]


# ---------------------------------------------------------------------------------------
# FS120 - FS122: headers
# ---------------------------------------------------------------------------------------


@covers("FS120")
def test_fs120_misspelled_property(tmp_path: Path) -> None:
    text = variant(GOOD_FEATURE, "windows (", "windws (")
    diagnostics = validate(tmp_path, {"f": text})
    # the misspelling itself, and the missing `windows` at the header
    expect(diagnostics, at("FS120", FEATURE_PATH, text, "windws"), ("FS120", FEATURE_PATH, 1, 1))


@covers("FS120")
def test_fs120_property_given_twice(tmp_path: Path) -> None:
    text = variant(GOOD_FEATURE, "entity user_id,", "entity user_id, entity user_id,")
    expect(validate(tmp_path, {"f": text}), at("FS120", FEATURE_PATH, text, "entity", 2))


@covers("FS120")
def test_fs120_description_must_be_a_string(tmp_path: Path) -> None:
    text = variant(GOOD_FEATURE, "windows (1h, lifetime)", "windows (1h, lifetime), description 42")
    expect(validate(tmp_path, {"f": text}), at("FS120", FEATURE_PATH, text, "42"))


@covers("FS120")
def test_fs120_label_source_differs_from_query(tmp_path: Path) -> None:
    text = variant(GOOD_SAMPLES, "source events", "source spine")
    diagnostics = validate(tmp_path, {"f": GOOD_FEATURE}, {"s": text})
    expect(diagnostics, at("FS120", SAMPLES_PATH, text, "events"), exact=False)


@covers("FS121")
def test_fs121_unknown_feature(tmp_path: Path) -> None:
    text = variant(GOOD_SAMPLES, "features (user_stats)", "features (user_stat)")
    diagnostics = validate(tmp_path, {"f": GOOD_FEATURE}, {"s": text})
    expect(diagnostics, at("FS121", SAMPLES_PATH, text, "user_stat"))
    assert "known: user_stats" in diagnostics[0].message


@covers("FS122")
def test_fs122_spine_lacks_the_feature_key(tmp_path: Path) -> None:
    feature = GOOD_FEATURE.replace("user_id", "action")  # keyed by a column the spine lacks
    expect(validate(tmp_path, {"f": feature}, {"s": GOOD_SAMPLES}), at("FS122", SAMPLES_PATH, GOOD_SAMPLES, "user_stats"))


@covers("FS122")
def test_fs122_spine_lacks_a_label_key(tmp_path: Path) -> None:
    text = variant(GOOD_SAMPLES, "GROUP BY user_id, item_id", "GROUP BY user_id, action")
    expect(validate(tmp_path, {"f": GOOD_FEATURE}, {"s": text}), at("FS122", SAMPLES_PATH, text, "action;"))


# ---------------------------------------------------------------------------------------
# FS130 - FS132: catalogs
# ---------------------------------------------------------------------------------------

WATERMARK_LINE = "  WATERMARK FOR event_time AS event_time - INTERVAL '5' SECOND\n"


@covers("FS130")
def test_fs130_missing_watermark(tmp_path: Path) -> None:
    text = variant(EVENTS_CATALOG, WATERMARK_LINE, "").replace("TIMESTAMP(3),", "TIMESTAMP(3)")
    expect(validate(tmp_path, catalogs={"events": text}), at("FS130", CATALOG_PATH, text, "events"))


@covers("FS130")
def test_fs130_watermark_on_a_text_column(tmp_path: Path) -> None:
    text = variant(EVENTS_CATALOG, "FOR event_time AS event_time", "FOR action AS action")
    expect(validate(tmp_path, catalogs={"events": text}), at("FS130", CATALOG_PATH, text, "action AS"))


@covers("FS130")
def test_fs130_watermark_on_an_unknown_column(tmp_path: Path) -> None:
    text = variant(EVENTS_CATALOG, "FOR event_time AS event_time", "FOR evt AS evt")
    expect(validate(tmp_path, catalogs={"events": text}), at("FS130", CATALOG_PATH, text, "evt AS"), exact=False)


@covers("FS130")
def test_fs130_watermark_adds_instead_of_subtracting(tmp_path: Path) -> None:
    text = variant(EVENTS_CATALOG, "event_time - INTERVAL", "event_time + INTERVAL")
    expect(validate(tmp_path, catalogs={"events": text}), at("FS130", CATALOG_PATH, text, "event_time + INTERVAL"))


@covers("FS130")
def test_fs130_watermark_without_for_is_a_diagnostic(tmp_path: Path) -> None:
    text = variant(EVENTS_CATALOG, "WATERMARK FOR event_time AS", "WATERMARK AS")
    diagnostics = validate(tmp_path, catalogs={"events": text})
    assert [d.code for d in diagnostics] in (["FS130"], ["FS001"])
    assert diagnostics[0].line == locate(text, "WATERMARK")[0]


@covers("FS131")
def test_fs131_unknown_option(tmp_path: Path) -> None:
    text = variant(EVENTS_CATALOG, "'format'", "'fromat'")
    expect(validate(tmp_path, catalogs={"events": text}), at("FS131", CATALOG_PATH, text, "'fromat'"))


@covers("FS131")
def test_fs131_unknown_format(tmp_path: Path) -> None:
    text = variant(EVENTS_CATALOG, "'format' = 'parquet'", "'format' = 'orc'")
    expect(validate(tmp_path, catalogs={"events": text}), at("FS131", CATALOG_PATH, text, "'orc'"))


@covers("FS131")
def test_fs131_label_column_is_not_a_column(tmp_path: Path) -> None:
    text = variant(EVENTS_CATALOG, "'label_columns' = 'clicked'", "'label_columns' = 'clikced'")
    expect(validate(tmp_path, catalogs={"events": text}), at("FS131", CATALOG_PATH, text, "'clikced'"))


@covers("FS131")
def test_fs131_missing_path(tmp_path: Path) -> None:
    text = variant(EVENTS_CATALOG, "'path' = 'data/events/*.parquet', ", "")
    expect(validate(tmp_path, catalogs={"events": text}), at("FS131", CATALOG_PATH, text, "events"))


@covers("FS131")
def test_fs131_stream_options_are_allowed(tmp_path: Path) -> None:
    text = variant(EVENTS_CATALOG, "'format' = 'parquet'", "'format' = 'parquet', " + KAFKA_BINDING)
    assert validate(tmp_path, catalogs={"events": text}) == []


@covers("FS132")
def test_fs132_duplicate_column(tmp_path: Path) -> None:
    text = variant(EVENTS_CATALOG, "  item_id    VARCHAR,\n", "  item_id    VARCHAR,\n  item_id    VARCHAR,\n")
    expect(validate(tmp_path, catalogs={"events": text}), at("FS132", CATALOG_PATH, text, "item_id", 2))


@covers("FS132")
def test_fs132_two_tables_in_one_file(tmp_path: Path) -> None:
    text = EVENTS_CATALOG + "CREATE TABLE other (a INT);\n"
    diagnostics = validate(tmp_path, catalogs={"events": text})
    assert [(d.code, d.path, d.line) for d in diagnostics] == [("FS132", CATALOG_PATH, 1)]


@covers("FS132")
def test_fs132_create_table_as_select(tmp_path: Path) -> None:
    text = "CREATE TABLE events AS SELECT 1 AS a;\n"
    diagnostics = validate(tmp_path, catalogs={"events": text})
    assert [(d.code, d.path, d.line) for d in diagnostics] == [("FS132", CATALOG_PATH, 1)]


@covers("FS132")
def test_fs132_column_without_type(tmp_path: Path) -> None:
    text = variant(EVENTS_CATALOG, "  item_id    VARCHAR,\n", "  item_id,\n")
    expect(validate(tmp_path, catalogs={"events": text}), at("FS132", CATALOG_PATH, text, "item_id"))


# ---------------------------------------------------------------------------------------
# FS133 - FS136: stream bindings ('stream.*' options)
# ---------------------------------------------------------------------------------------

KAFKA_BINDING = ("'stream.connector' = 'kafka', 'stream.topic' = 'events', 'stream.format' = 'json',\n"
                 "  'stream.bootstrap' = 'localhost:9092'")
SASL_BINDING = ("'stream.sasl.mechanism' = 'SCRAM-SHA-512', 'stream.sasl.username.env' = 'KAFKA_USER',\n"
                "  'stream.sasl.password.env' = 'KAFKA_PASSWORD'")


def streamed(binding: str) -> str:
    """EVENTS_CATALOG with `binding` added to its WITH options."""
    return variant(EVENTS_CATALOG, "'label_columns' = 'clicked')", "'label_columns' = 'clicked',\n  " + binding + ")")


def test_full_kafka_binding_with_sasl_is_clean(tmp_path: Path) -> None:
    text = streamed(KAFKA_BINDING + ",\n  'stream.group' = 'g1', 'stream.startup' = 'group',\n  " + SASL_BINDING)
    assert validate(tmp_path, catalogs={"events": text}) == []


@covers("FS133")
def test_fs133_unknown_stream_option_points_at_the_key(tmp_path: Path) -> None:
    text = streamed(KAFKA_BINDING + ", 'stream.topik' = 'x'")
    diagnostics = validate(tmp_path, catalogs={"events": text})
    expect(diagnostics, at("FS133", CATALOG_PATH, text, "'stream.topik'"))
    assert "did you mean 'stream.topic'" in diagnostics[0].message


@covers("FS134")
def test_fs134_kafka_binding_without_topic(tmp_path: Path) -> None:
    text = streamed(KAFKA_BINDING.replace("'stream.topic' = 'events', ", ""))
    diagnostics = validate(tmp_path, catalogs={"events": text})
    expect(diagnostics, at("FS134", CATALOG_PATH, text, "'stream.connector'"))
    assert "stream.topic" in diagnostics[0].message


@covers("FS134")
def test_fs134_kafka_binding_without_bootstrap(tmp_path: Path) -> None:
    text = streamed(KAFKA_BINDING.replace(",\n  'stream.bootstrap' = 'localhost:9092'", ""))
    diagnostics = validate(tmp_path, catalogs={"events": text})
    expect(diagnostics, at("FS134", CATALOG_PATH, text, "'stream.connector'"))
    assert "stream.bootstrap" in diagnostics[0].message


@covers("FS134")
def test_fs134_topic_without_the_kafka_connector(tmp_path: Path) -> None:
    text = streamed("'stream.topic' = 'events'")
    expect(validate(tmp_path, catalogs={"events": text}), at("FS134", CATALOG_PATH, text, "'stream.topic'"))


@covers("FS134")
def test_fs134_sasl_mechanism_without_a_password_variable(tmp_path: Path) -> None:
    text = streamed(KAFKA_BINDING + ",\n  " + SASL_BINDING.replace(",\n  'stream.sasl.password.env' = 'KAFKA_PASSWORD'", ""))
    diagnostics = validate(tmp_path, catalogs={"events": text})
    expect(diagnostics, at("FS134", CATALOG_PATH, text, "'stream.sasl.mechanism'"))
    assert "stream.sasl.password.env" in diagnostics[0].message


@covers("FS134")
def test_fs134_credentials_without_a_mechanism(tmp_path: Path) -> None:
    text = streamed(KAFKA_BINDING + ",\n  " + SASL_BINDING.replace("'stream.sasl.mechanism' = 'SCRAM-SHA-512', ", ""))
    expect(validate(tmp_path, catalogs={"events": text}),
           at("FS134", CATALOG_PATH, text, "'stream.sasl.username.env'"),
           at("FS134", CATALOG_PATH, text, "'stream.sasl.password.env'"))


@pytest.mark.parametrize("old, new, needle", [
    ("'stream.format' = 'json'", "'stream.format' = 'avro'", "'avro'"),
    ("'stream.connector' = 'kafka'", "'stream.connector' = 'pulsar'", "'pulsar'"),
    ("'localhost:9092'", "'localhost'", "'localhost'"),
    ("'localhost:9092'", "'a:9092,b:99999'", "'a:9092,b:99999'"),
    ("'stream.topic' = 'events'", "'stream.topic' = 'my events'", "'my events'"),
    ("'stream.format' = 'json'", "'stream.format' = 'json', 'stream.startup' = 'beginning'", "'beginning'"),
    ("'stream.format' = 'json'", "'stream.format' = 'json', 'stream.group' = ''", "''"),
])
@covers("FS135")
def test_fs135_bad_stream_value_points_at_the_value(tmp_path: Path, old: str, new: str, needle: str) -> None:
    text = streamed(variant(KAFKA_BINDING, old, new))
    diagnostics = validate(tmp_path, catalogs={"events": text})
    expect(diagnostics, at("FS135", CATALOG_PATH, text, needle))
    # The position shows the value; the message never repeats it (it could be a misplaced secret).
    if needle not in ("''", "'localhost'"):  # (the message's own example is 'localhost:9092')
        assert needle.strip("'") not in diagnostics[0].message


@covers("FS135")
def test_fs135_bad_sasl_mechanism_and_protocol(tmp_path: Path) -> None:
    binding = variant(SASL_BINDING, "'SCRAM-SHA-512'", "'GSSAPI'") + ", 'stream.security.protocol' = 'SSL'"
    text = streamed(KAFKA_BINDING + ",\n  " + binding)
    expect(validate(tmp_path, catalogs={"events": text}),
           at("FS135", CATALOG_PATH, text, "'GSSAPI'"), at("FS135", CATALOG_PATH, text, "'SSL'"))


@covers("FS135")
def test_fs135_env_option_needs_a_variable_name_and_never_echoes_the_value(tmp_path: Path) -> None:
    text = streamed(KAFKA_BINDING + ",\n  " + variant(SASL_BINDING, "'KAFKA_PASSWORD'", "'s3cr3t-Pa55!'"))
    diagnostics = validate(tmp_path, catalogs={"events": text})
    expect(diagnostics, at("FS135", CATALOG_PATH, text, "'s3cr3t-Pa55!'"))
    assert "s3cr3t" not in render(diagnostics) and "s3cr3t" not in render(diagnostics, "json")


@pytest.mark.parametrize("key", ["stream.sasl.password", "stream.sasl.username", "stream.sasl.jaas.config",
                                 "properties.sasl.jaas.config", "password"])
@covers("FS136")
def test_fs136_literal_secret_is_rejected_without_echoing_it(tmp_path: Path, key: str) -> None:
    text = streamed(KAFKA_BINDING + f",\n  '{key}' = 'hunter2'")
    diagnostics = validate(tmp_path, catalogs={"events": text})
    expect(diagnostics, at("FS136", CATALOG_PATH, text, f"'{key}'"))
    assert "environment variable" in diagnostics[0].message
    for fmt in ("text", "json", "github"):
        assert "hunter2" not in render(diagnostics, fmt)


def test_bad_stream_binding_keeps_the_table_for_batch_features(tmp_path: Path) -> None:
    # Only the binding is reported: features on the table are still checked, with no FS101 cascade.
    text = streamed("'stream.connector' = 'kafka'")
    diagnostics = validate(tmp_path, {"f": GOOD_FEATURE}, catalogs={"events": text, "spine": SPINE_CATALOG})
    assert sorted(d.code for d in diagnostics) == ["FS134", "FS134"]


# ---------------------------------------------------------------------------------------
# All problems at once
# ---------------------------------------------------------------------------------------


def test_errors_in_many_files_are_all_reported(tmp_path: Path) -> None:
    catalog = variant(EVENTS_CATALOG, "'format'", "'fromat'")
    good_catalog = variant(EVENTS_CATALOG, "CREATE TABLE events", "CREATE TABLE events2").replace("'clicked'", "'clicked'")
    f1 = variant(GOOD_FEATURE, "FROM events", "FROM events2").replace("SUM(amount)", "SUM(amonut)")
    f2 = variant(GOOD_FEATURE, "user_stats", "other").replace("FROM events", "FROM events2").replace("1h, lifetime", "10x")
    f3 = variant(GOOD_FEATURE, "user_stats", "third").replace("FROM events", "FROM events2").replace("SUM(amount)", "SUM(random())")
    samples = variant(GOOD_SAMPLES, "features (user_stats)", "features (user_stat)")
    diagnostics = validate(
        tmp_path,
        {"a": f1, "b": f2, "c": f3},
        {"s": samples},
        catalogs={"events": catalog, "events2": good_catalog, "spine": SPINE_CATALOG},
    )
    got = {(d.code, d.path) for d in diagnostics}
    assert {
        ("FS131", CATALOG_PATH),
        ("FS102", "sql/features/a.sql"),
        ("FS106", "sql/features/b.sql"),
        ("FS110", "sql/features/c.sql"),
        ("FS121", SAMPLES_PATH),
    } <= got, render(diagnostics)
    assert diagnostics == sorted(diagnostics)


def test_header_and_query_errors_in_one_file_are_both_reported(tmp_path: Path) -> None:
    text = variant(GOOD_FEATURE, "1h, lifetime", "10x").replace("SUM(amount)", "SUM(amonut)")
    expect(validate(tmp_path, {"f": text}), at("FS106", FEATURE_PATH, text, "10x"), at("FS102", FEATURE_PATH, text, "amonut"))


def test_several_query_errors_in_one_file_are_all_reported(tmp_path: Path) -> None:
    text = (
        "FEATURE f (entity user_id, windows (1h));\n"
        "SELECT user_id,\n"
        "  SUM(amonut) AS a,\n"
        "  MAX(now()) AS b,\n"
        "  amount AS c,\n"
        "  COUNT(*) FILTER (WHERE clicked) AS d\n"
        "FROM events GROUP BY user_id;\n"
    )
    expect(
        validate(tmp_path, {"f": text}),
        at("FS102", FEATURE_PATH, text, "amonut"),
        at("FS110", FEATURE_PATH, text, "now"),
        at("FS104", FEATURE_PATH, text, "amount AS c"),
        at("FS112", FEATURE_PATH, text, "clicked"),
    )


# ---------------------------------------------------------------------------------------
# Jinja and macros keep source positions
# ---------------------------------------------------------------------------------------


def test_error_after_a_multi_line_macro_call_reports_the_source_line(tmp_path: Path) -> None:
    macros = {"m": "{% macro two() -%}\nCOUNT(*) AS x1,\n  COUNT(*) AS x2\n{%- endmacro %}\n"}
    text = variant(GOOD_FEATURE, "COUNT(*) AS events", "{{ two() }}").replace("SUM(amount)", "SUM(amonut)")
    expect(validate(tmp_path, {"f": text}, macros=macros), at("FS102", FEATURE_PATH, text, "amonut"))


def test_error_after_a_for_loop_reports_the_source_line(tmp_path: Path) -> None:
    text = variant(
        GOOD_FEATURE,
        "  COUNT(*) AS events,\n",
        "  {% for a in ['click', 'like', 'share'] %}\n"
        "  COUNT(*) FILTER (WHERE action = '{{ a }}') AS n_{{ a }},\n"
        "  {% endfor %}\n",
    ).replace("SUM(amount)", "SUM(amonut)")
    expect(validate(tmp_path, {"f": text}), at("FS102", FEATURE_PATH, text, "amonut"))


def test_syntax_error_after_a_macro_call_reports_the_source_line(tmp_path: Path) -> None:
    macros = {"m": "{% macro cnt(a) -%}\nCOUNT(*)\n  FILTER (WHERE action = '{{ a }}')\n{%- endmacro %}\n"}
    text = variant(GOOD_FEATURE, "COUNT(*) AS events", "{{ cnt('click') }} AS events").replace("SUM(amount)", "SUM(amount")
    diagnostics = validate(tmp_path, {"f": text}, macros=macros)
    assert [(d.code, d.line) for d in diagnostics] == [("FS001", locate(text, "SUM(amount")[0])]


def test_example_macro_file_keeps_lines(tmp_path: Path) -> None:
    root = copy_example_project(tmp_path / "p")
    path = root / "sql/features/post_popularity.sql"
    text = path.read_text().replace("SECONDS_SINCE(MAX(event_time))", "SECONDS_SINCE(MAX(event_tme))")
    path.write_text(text)
    line = text.count("\n", 0, text.index("event_tme")) + 1
    col = text.index("event_tme") - text.rfind("\n", 0, text.index("event_tme"))
    assert line > 9  # after the {{ count_action(...) }} calls
    expect(Project(root).validate(), ("FS102", "sql/features/post_popularity.sql", line, col))


def test_var_values_render_as_quoted_literals(tmp_path: Path) -> None:
    text = variant(GOOD_FEATURE, "FROM events\n", "FROM events\nWHERE action = {{ act }}\n")
    write_project(tmp_path, {"events": EVENTS_CATALOG}, {"f": text})
    project = Project(tmp_path, {"act": "x' OR '1'='1"})
    assert project.validate() == []
    where = project.features["user_stats"].query.args["where"].sql()
    assert where == "WHERE action = 'x'' OR ''1''=''1'"


# ---------------------------------------------------------------------------------------
# Malformed input never raises
# ---------------------------------------------------------------------------------------

_FRAGMENTS = [
    "FEATURE", "SAMPLES", "SELECT", "FROM", "GROUP BY", "WHERE", "COUNT(*)", "AS", "events", "user_id", "amount",
    "entity", "windows", "(", ")", ",", ";", "1h", "-", "lifetime", "FILTER", "(WHERE", "AS_OF()", "SECONDS_SINCE(",
    "OVER", "'x'", "\n", "{{", "}}", "{%", "%}", "label", "source", "horizon", "spine", "features", "*", "=", "10x",
    "CREATE TABLE", "WATERMARK FOR", "INTERVAL", "WITH", "event_time", "'path'", "TIMESTAMP(3)", "--", "/*", "\"",
]
_TOKEN_SOUP = st.lists(st.sampled_from(_FRAGMENTS), max_size=30).map(" ".join)
_HEADER = "FEATURE f (entity user_id, windows (1h));\n"


@pytest.fixture(scope="module")
def fuzz_root() -> Any:
    root = Path(tempfile.mkdtemp(prefix="featuresql-fuzz-"))
    write_project(root, {"events": EVENTS_CATALOG, "spine": SPINE_CATALOG}, {"g": GOOD_FEATURE})
    yield root
    shutil.rmtree(root, ignore_errors=True)


def _validate_text(root: Path, folder: str, text: str) -> list[Diagnostic]:
    path = root / folder / "x.sql"
    path.write_text(text, encoding="utf-8")
    try:
        return Project(root).validate()
    finally:
        path.unlink()


@settings(max_examples=50, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    folder=st.sampled_from(["sql/features", "sql/samples", "catalogs"]),
    text=st.one_of(st.text(max_size=200), _TOKEN_SOUP, _TOKEN_SOUP.map(lambda t: _HEADER + t)),
)
def test_malformed_files_give_diagnostics_never_exceptions(fuzz_root: Path, folder: str, text: str) -> None:
    logging.getLogger("sqlglot").setLevel(logging.ERROR)  # "falling back to Command" warnings
    diagnostics = _validate_text(fuzz_root, folder, text)
    assert isinstance(diagnostics, list)
    for d in diagnostics:
        assert d.code in CODES
        assert d.line >= 1 and d.col >= 1
        assert d.path == f"{folder}/x.sql" or d.path.startswith(("catalogs/", "sql/"))


def test_count_without_argument_is_a_diagnostic(tmp_path: Path) -> None:
    text = variant(GOOD_FEATURE, "COUNT(*)", "COUNT()")
    diagnostics = validate(tmp_path, {"f": text})
    assert [d.code for d in diagnostics] and all(d.line == locate(text, "COUNT()")[0] for d in diagnostics)


# ---------------------------------------------------------------------------------------
# Hostile syntax (issue 14): each once crashed validate or compile, or gave an impossible position
# ---------------------------------------------------------------------------------------


def _compiles_everywhere(root: Path) -> None:
    project = Project(root)
    for name in [*project.feature_names, *project.samples_names]:
        for target in ("duckdb", "flink"):
            assert project.compile(name, target)


@covers("FS106")
@pytest.mark.parametrize("window", ["3000000d", "36501d", "106751991167d", "1" + "0" * 5000 + "d"])
def test_fs106_window_longer_than_dates_can_say(tmp_path: Path, window: str) -> None:
    text = variant(GOOD_FEATURE, "1h, lifetime", f"1h, {window}")
    diagnostics = validate(tmp_path, {"f": text})
    expect(diagnostics, at("FS106", FEATURE_PATH, text, window[:5]))
    assert "longer than 36500d" in diagnostics[0].message and len(diagnostics[0].message) < 200


@covers("FS107")
def test_fs107_horizon_longer_than_dates_can_say(tmp_path: Path) -> None:
    text = variant(GOOD_SAMPLES, "horizon 10m", "horizon 3000000d")
    expect(validate(tmp_path, {"f": GOOD_FEATURE}, {"s": text}), at("FS107", SAMPLES_PATH, text, "3000000d"))


def test_longest_window_and_horizon_compile(tmp_path: Path) -> None:
    feature = variant(GOOD_FEATURE, "1h, lifetime", "1h, 36500d")
    samples = variant(GOOD_SAMPLES, "horizon 10m", "horizon 36500d")
    assert validate(tmp_path, {"user_stats": feature}, {"s": samples}) == []
    _compiles_everywhere(tmp_path)


@covers("FS113")
@pytest.mark.parametrize("aggregate, message", [
    ("COUNT(DISTINCT)", "COUNT(DISTINCT) needs an argument"),
    ("COUNT(DISTINCT item_id, action)", "COUNT takes one argument"),
    ("COUNT(*, 1)", "COUNT takes one argument"),
    ("COUNT(DISTINCT *)", "COUNT(DISTINCT *) is not supported"),
    ("SUM(DISTINCT amount)", "SUM(DISTINCT ...) is not supported"),
    ("MAX(*)", "MAX(*) is not supported"),
])
def test_fs113_aggregate_arguments(tmp_path: Path, aggregate: str, message: str) -> None:
    text = variant(GOOD_FEATURE, "SUM(amount) AS total", f"{aggregate} AS total")
    diagnostics = validate(tmp_path, {"f": text}, {"s": GOOD_SAMPLES})
    expect(diagnostics, at("FS113", FEATURE_PATH, text, aggregate))
    assert message in diagnostics[0].message


@covers("FS113")
@pytest.mark.parametrize("make", [
    lambda: "SUM(" + "(" * 1000 + "amount" + ")" * 1000 + ")",        # brackets
    lambda: "SUM(" + "ABS(" * 600 + "amount" + ")" * 600 + ")",       # calls
    lambda: "SUM(" + "- " * 2000 + "amount)",                          # unary operators, no brackets
    lambda: "SUM(" + "CASE WHEN amount > 0 THEN " * 300 + "amount" + " END" * 300 + ")",
    lambda: "SUM(amount" + " + amount - 1" * 3000 + ")",              # a chain of two operators
])
def test_fs113_nesting_too_deep(tmp_path: Path, make: Callable[[], str]) -> None:
    text = variant(GOOD_FEATURE, "SUM(amount)", make())
    diagnostics = validate(tmp_path, {"f": text})
    assert [d.code for d in diagnostics] == ["FS113"], render(diagnostics)
    assert "levels deep" in diagnostics[0].message and diagnostics[0].line == locate(text, "AS total")[0]


def test_deep_but_allowed_nesting_compiles(tmp_path: Path) -> None:
    # Chains of one operator are read without recursion at any length; 90 nested calls are allowed.
    text = variant(GOOD_FEATURE, "SUM(amount) AS total",
                   "SUM(" + "ABS(" * 90 + "amount" + ")" * 90 + ") AS total, SUM(amount" + " + amount" * 3000 + ") AS chain")
    text = variant(text, "FROM events\n", "FROM events\nWHERE " + " OR ".join(f"action = 'a{i}'" for i in range(2000)) + "\n")
    assert validate(tmp_path, {"user_stats": text}) == []
    _compiles_everywhere(tmp_path)


@covers("FS103")
def test_fs103_text_compared_with_a_negative_number(tmp_path: Path) -> None:
    text = variant(GOOD_FEATURE, "FROM events\n", "FROM events\nWHERE action <> -5\n")
    expect(validate(tmp_path, {"f": text}), at("FS103", FEATURE_PATH, text, "action <> -5"))


@covers("FS120")
def test_position_of_a_dollar_before_the_last_newline(tmp_path: Path) -> None:
    # sqlglot's tokenizer put `$y` of this one-line file at line 2, column -4.
    write_project(tmp_path, {"events": EVENTS_CATALOG}, samples={"s": "SAMPLES c(features(y,$y),\n"}, dedent=False)
    diagnostics = Project(tmp_path).validate()
    assert diagnostics and all(d.line == 1 and 1 <= d.col <= 26 for d in diagnostics), render(diagnostics)


@covers("FS001")
def test_fs001_tokenizer_error_is_one_line(tmp_path: Path) -> None:
    text = variant(GOOD_FEATURE, "FROM events", "FROM 'events\n\nmore text")
    diagnostics = validate(tmp_path, {"f": text})
    assert [d.code for d in diagnostics] == ["FS001"]
    assert "\n" not in str(diagnostics[0]) and "unclosed quote" in diagnostics[0].message


@pytest.mark.parametrize("separator", ["\r", "\u2028", "\x85", "\x0c"])
def test_positions_count_lines_at_newline_only(tmp_path: Path, separator: str) -> None:
    # A bare \r or U+2028 is not a line break to sqlglot; positions must agree with it and stay in the file.
    text = variant(GOOD_FEATURE, "  COUNT(*) AS events,\n", f"  COUNT(*) AS events,{separator}  SUM(amonut) AS x,\n")
    diagnostics = validate(tmp_path, {"f": text})
    assert [d.code for d in diagnostics] == ["FS102"], render(diagnostics)
    lines = (tmp_path / FEATURE_PATH).read_text(encoding="utf-8").split("\n")
    d = diagnostics[0]
    assert lines[d.line - 1][d.col - 1:].startswith("amonut"), (d, lines[d.line - 1])


def test_table_alias_is_typed_and_compiles(tmp_path: Path) -> None:
    # `FROM t AS e` once left every column untyped, so the Flink job could not be written.
    text = variant(GOOD_FEATURE, "FROM events", "FROM events AS e")
    text = variant(text, "SUM(amount) AS total", "SUM(e.amount) AS total, SECONDS_SINCE(MAX(event_time)) AS quiet")
    assert validate(tmp_path, {"user_stats": text}, {"s": GOOD_SAMPLES}) == []
    _compiles_everywhere(tmp_path)
    bad = variant(text, "SUM(e.amount)", "SUM(e.action)")
    expect(validate(tmp_path, {"user_stats": bad}, {"s": GOOD_SAMPLES}), at("FS103", FEATURE_PATH.replace("f.sql", "user_stats.sql"), bad, "SUM(e.action)"), exact=False)


@covers("FS001")
def test_fs001_header_list_never_closed(tmp_path: Path) -> None:
    text = "FEATURE f (entity user_id, windows (1h),;\nSELECT user_id, COUNT(*) AS n FROM events GROUP BY user_id;\n"
    write_project(tmp_path, {"events": EVENTS_CATALOG}, {"f": text}, dedent=False)
    diagnostics = Project(tmp_path).validate()
    assert [(d.code, d.line) for d in diagnostics] == [("FS001", 1)], render(diagnostics)
    assert "Expected ')'" in diagnostics[0].message


def test_byte_order_mark_is_not_sql(tmp_path: Path) -> None:
    write_project(tmp_path, {"events": EVENTS_CATALOG})
    (tmp_path / "sql" / "features" / "user_stats.sql").write_bytes(b"\xef\xbb\xbf" + GOOD_FEATURE.encode())
    assert Project(tmp_path).validate() == []


@covers("FS113")
@pytest.mark.parametrize("old, new, message", [
    ("SUM(amount) AS total", "COALESCE(amount, 0) FILTER (WHERE action = 'x') AS total", "FILTER (WHERE ...) applies to an aggregate"),
    ("SUM(amount) AS total", "SUM(amount) FILTER (WHERE action = ?) AS total", "query parameters are not supported"),
])
def test_fs113_filter_on_a_non_aggregate_and_parameters(tmp_path: Path, old: str, new: str, message: str) -> None:
    text = variant(GOOD_FEATURE, old, new)
    diagnostics = validate(tmp_path, {"f": text})
    assert [d.code for d in diagnostics] == ["FS113"] and message in diagnostics[0].message, render(diagnostics)


@covers("FS103")
def test_fs103_aggregate_input_of_unknown_type(tmp_path: Path) -> None:
    # It ran on DuckDB, then Flink's samples job could not declare the input's type.
    text = variant(GOOD_FEATURE, "SUM(amount) AS total", "MIN(NULL) AS total")
    expect(validate(tmp_path, {"f": text}), at("FS103", FEATURE_PATH, text, "MIN(NULL)"))  # NULL itself keeps no position
