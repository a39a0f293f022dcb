"""Jinja rendering (featuresql/templating.py): --var quoting and the map back to source lines."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
import sqlglot
from hypothesis import given, settings
from hypothesis import strategies as st

from featuresql.parse.dialect import FeatureSQL
from featuresql.templating import RenderedSource, SqlLiteral, TemplateRenderer, _line_map

# ---------------------------------------------------------------------------------------
# --var values are SQL literals
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("raw, rendered", [
    ("click", "'click'"),
    ("42", "42"),
    ("-7", "-7"),
    ("3.25", "3.25"),
    ("1e5", "'1e5'"),
    ("", "''"),
    ("x' OR '1'='1", "'x'' OR ''1''=''1'"),
    ("'; DROP TABLE t; --", "'''; DROP TABLE t; --'"),
])
def test_sql_literal(raw: str, rendered: str) -> None:
    text, diagnostics = TemplateRenderer(None, {"v": raw}).render("a.sql", "{{ v }}")
    assert diagnostics == [] and text is not None
    assert text.text == rendered
    assert SqlLiteral(raw).raw == raw


_VALUES = st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=40)


_CON = duckdb.connect()


@settings(max_examples=200, deadline=None)
@given(_VALUES)
def test_any_var_value_stays_one_literal(raw: str) -> None:
    """Through the real path (render, sqlglot parse, DuckDB SQL), a value is one literal equal to itself."""
    rendered, diagnostics = TemplateRenderer(None, {"v": raw}).render("a.sql", "SELECT {{ v }} AS v")
    assert diagnostics == [] and rendered is not None
    query = sqlglot.parse_one(rendered.text, dialect=FeatureSQL)
    assert len(query.expressions) == 1
    value = query.expressions[0].this
    assert isinstance(value, (sqlglot.exp.Literal, sqlglot.exp.Neg)), repr(query)
    got = _CON.execute(query.sql(dialect="duckdb")).fetchall()[0][0]
    if rendered.text.startswith("SELECT '"):
        assert got == raw
    else:
        assert float(got) == float(raw)


# ---------------------------------------------------------------------------------------
# Rendering and source positions
# ---------------------------------------------------------------------------------------


def test_plain_file_is_not_rendered() -> None:
    renderer = TemplateRenderer(None)
    rendered, diagnostics = renderer.render("a.sql", "SELECT '{not jinja}'\n")
    assert diagnostics == [] and rendered is not None and rendered.exact
    assert rendered.text == "SELECT '{not jinja}'\n"
    assert rendered.source_position(1, 5) == (1, 5)


def test_vars_render_quoted_and_raw_is_for_logic(tmp_path: Path) -> None:
    renderer = TemplateRenderer(tmp_path / "none", {"act": "it's", "n": "3"})
    source = "a = {{ act }}, b = {{ n }}, d = {{ n | int + 1 }}{% if act.raw == \"it's\" %}, e{% endif %}\n"
    rendered, diagnostics = renderer.render("a.sql", source)
    assert diagnostics == []
    assert rendered is not None
    assert rendered.text == "a = 'it''s', b = 3, d = 4, e\n"
    # Turned into text any other way, a value could lose its quotes: refused.
    for spelling in ("{{ act.raw | upper }}", "{{ act ~ '' }}", "{{ act.raw }}", "{{ '%s' % act }}"):
        rendered, diagnostics = renderer.render("a.sql", spelling)
        assert rendered is None and [d.code for d in diagnostics] == ["FS004"], spelling


def test_ident_filter_quotes_an_identifier(tmp_path: Path) -> None:
    renderer = TemplateRenderer(None, {"col": 'a"b; DROP'})
    rendered, diagnostics = renderer.render("a.sql", "SELECT {{ col | ident }} FROM t\n")
    assert diagnostics == [] and rendered is not None
    assert rendered.text == 'SELECT "a""b; DROP" FROM t\n'
    assert sqlglot.parse_one(rendered.text, dialect=FeatureSQL).expressions[0].name == 'a"b; DROP'


def test_macros_are_global(tmp_path: Path) -> None:
    (tmp_path / "m.sql").write_text("{% macro twice(x) %}{{ x }} + {{ x }}{% endmacro %}\n")
    renderer = TemplateRenderer(tmp_path)
    rendered, diagnostics = renderer.render("a.sql", "SELECT {{ twice('a') }}\n")
    assert diagnostics == [] and rendered is not None
    assert rendered.text == "SELECT a + a\n"


def test_line_map_after_multi_line_expansion() -> None:
    source = "a\n{{ block }}\nb\nc\n"
    rendered = "a\nx1\nx2\nx3\nb\nc\n"
    # Lines end at \\n only (as sqlglot counts them): the text after the last one is a line too.
    assert _line_map(source, rendered) == (1, 2, 2, 2, 3, 4, 5)


def test_line_map_after_removed_lines() -> None:
    source = "a\n{% if false %}\nhidden\n{% endif %}\nb\n"
    rendered = "a\n\nb\n"
    mapping = _line_map(source, rendered)
    assert mapping[0] == 1 and mapping[-2] == 5 and mapping[-1] == 6


def test_source_position_keeps_columns_on_unchanged_lines() -> None:
    source = "x {{ v }}\n  SUM(amonut)\n"
    text = "x 'a'\n  SUM(amonut)\n"
    rendered = RenderedSource("f.sql", source, text, _line_map(source, text), exact=False)
    assert rendered.source_position(2, 7) == (2, 7)
    # a changed line keeps its line but not its column
    assert rendered.source_position(1, 3) == (1, 1)


def test_undefined_reports_line(tmp_path: Path) -> None:
    renderer = TemplateRenderer(tmp_path)
    rendered, diagnostics = renderer.render("f.sql", "a\nb\n{{ missing }}\n")
    assert rendered is None
    assert [(d.path, d.line, d.col, d.code) for d in diagnostics] == [("f.sql", 3, 1, "FS002")]
