"""The header reader (`featuresql.parse.header`) and what keeps featuresql runnable on sqlglotc.

Header positions and syntax errors are also covered through `validate` in
tests/test_diagnostics.py; these tests pin the reader's own shapes and the
statements of odd files.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import pytest
from sqlglot import exp, generator, parser

import featuresql
from featuresql.parse import parse_source
from featuresql.parse.header import Duration, Group, Header, Property, Text, Word, header_sql, walk
from featuresql.templating import RenderedSource


def rendered(text: str) -> RenderedSource:
    return RenderedSource("f.sql", text, text)


def test_header_values_keep_their_start_positions() -> None:
    parsed, problems = parse_source(rendered("FEATURE f (\n  entity \"User\",\n  windows (-10m, lifetime),\n  description 'x'\n);\nSELECT 1"))
    assert problems == [] and parsed is not None
    header = parsed.statements[0]
    assert isinstance(header, Header) and header.kind == "FEATURE" and header.name.text == "f"
    entity, windows, description = header.items
    assert isinstance(entity, Property) and entity.value == Word("User", True, entity.value.pos)
    assert (entity.pos.line, entity.pos.col) == (2, 3)
    assert (entity.value.pos.line, entity.value.pos.col) == (2, 10)
    assert isinstance(windows, Property) and isinstance(windows.value, Group)
    negative, lifetime = windows.value.items
    assert isinstance(negative, Duration) and negative.negative and negative.text == "10m"
    assert (negative.pos.line, negative.pos.col) == (3, 12)  # at the '-'
    assert isinstance(lifetime, Word) and (lifetime.pos.line, lifetime.pos.col) == (3, 18)
    assert isinstance(description, Property) and description.value == Text("x", description.value.pos)
    assert isinstance(parsed.statements[1], exp.Select)


def test_walk_is_breadth_first_like_sqlglot() -> None:
    parsed, _ = parse_source(rendered("SAMPLES s (label (source source, horizon 10m))"))
    assert parsed is not None
    label = parsed.statements[0].items[0]
    words = [node.text for node in walk(label.value) if isinstance(node, Word)]
    assert words == ["source", "source", "horizon"]  # both properties' children after both properties
    assert header_sql(label) == "label (source source, horizon 10m)"


@pytest.mark.parametrize(
    ("text", "description", "line", "col"),
    [
        ("FEATURE f entity x", "Expected '(' after FEATURE f", 1, 11),
        ("FEATURE f (entity x) extra", "Invalid expression / Unexpected token", 1, 22),
        ("FEATURE f (entity x y)", "Expected ',' or ')' in header", 1, 21),
        ("FEATURE f (windows (-x))", "Expected a duration after '-'", 1, 22),
        ("FEATURE f (windows (1h, ,))", "Expected a header value", 1, 25),
    ],
)
def test_header_syntax_errors_point_at_the_token(text: str, description: str, line: int, col: int) -> None:
    parsed, problems = parse_source(rendered(text))
    assert parsed is None
    assert [(d.code, d.line, d.col, d.message) for d in problems] == [("FS001", line, col, f"syntax error: {description}")]


def test_statements_keep_file_order_around_a_header() -> None:
    parsed, problems = parse_source(rendered("SELECT 1; FEATURE f (entity x);; SELECT 2; -- done\n"))
    assert problems == [] and parsed is not None
    kinds = [type(s).__name__ for s in parsed.statements]
    assert kinds == ["Select", "Header", "Select"]


def test_a_column_named_like_a_header_keyword_is_sql() -> None:
    parsed, problems = parse_source(rendered("SELECT feature FROM t; feature(1)"))
    assert problems == [] and parsed is not None
    assert not any(isinstance(s, Header) for s in parsed.statements)


def test_nothing_subclasses_sqlglots_compiled_classes() -> None:
    """sqlglotc (sqlglot's mypyc build) cannot instantiate interpreted subclasses of these.

    Its parsers, generators and expression nodes are compiled; `Dialect` and
    `Tokenizer` are plain Python and may be subclassed. Checked on either build.
    """
    compiled = (parser.Parser, generator.Generator, exp.Expr)
    offenders = []
    for info in pkgutil.walk_packages(featuresql.__path__, "featuresql."):
        if info.name.endswith("__main__"):
            continue  # importing it runs the CLI
        module = importlib.import_module(info.name)
        for cls in _classes_defined_in(module):
            if issubclass(cls, compiled):
                offenders.append(f"{info.name}.{cls.__qualname__}")
    assert offenders == []


def _classes_defined_in(module: object) -> list[type]:
    """The module's own classes, nested ones (such as a dialect's `Tokenizer`) included."""
    name = getattr(module, "__name__")
    found: list[type] = []
    todo = [c for _, c in inspect.getmembers(module, inspect.isclass) if c.__module__ == name]
    while todo:
        cls = todo.pop()
        found.append(cls)
        todo += [c for c in vars(cls).values() if inspect.isclass(c) and c.__module__ == name and c not in found]
    return found
