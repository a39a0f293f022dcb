"""Typing a query (rules/annotate.py) happens in place and must leave no trace.

The query's nodes are what diagnostics point at and what the engines compile
from: after `annotate`, every node must be as it was (same SQL, no table names
added to columns, no types, the same `meta`), and the types must be in the map.
"""

from __future__ import annotations

import pytest
from sqlglot import exp

from featuresql import Project
from featuresql.parse.dialect import FeatureSQL
from featuresql.rules.annotate import annotate
from helpers import copy_example_project

# Casts, FILTER, arithmetic, a comparison and a CASE: everything the type rules and the plan read.
QUERY = """FEATURE typed_things (entity user_id, windows (1h));
SELECT user_id,
       SUM(CAST(position AS DOUBLE) * 2) AS weighted,
       COUNT(*) FILTER (WHERE position > 3) AS deep,
       MAX(CASE WHEN position = 1 THEN event_time END) AS last_top,
       AVG(position) / NULLIF(COUNT(DISTINCT post_id), 0) AS spread
FROM impressions
WHERE impressions.user_id IS NOT NULL
GROUP BY user_id
"""


_POSITION = ("line", "col", "start", "end")


def _fingerprint(query: exp.Expr) -> list[tuple[str, str, object, dict]]:
    """Each node's class, SQL, type and `meta` (less its source position, which depends on where parsing began)."""
    return [(type(n).__name__, n.sql(), n._type, {k: v for k, v in (n._meta or {}).items() if k not in _POSITION})
            for n in query.walk()]


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Project:
    root = copy_example_project(tmp_path_factory.mktemp("annotate") / "project")
    (root / "sql" / "features" / "typed_things.sql").write_text(QUERY)
    project = Project(root)
    assert project.validate() == []
    return project


def test_typing_leaves_every_query_as_it_was(project: Project) -> None:
    # The project has been validated (the type rules typed every query): each
    # query must still be what a fresh parse of its file gives, node for node.
    assert len(project.features) >= 6
    for feature in project.features.values():
        text = (project.root / feature.file).read_text()
        if "{{" not in text:  # files using macros are not SQL until rendered
            select = text.split(";")[1]
            assert _fingerprint(feature.query) == _fingerprint(exp.maybe_parse(select, dialect=FeatureSQL)), feature.name
        table = project.tables[feature.source.lower()]
        before = _fingerprint(feature.query)
        typed = annotate(feature.query, table)
        assert _fingerprint(feature.query) == before, feature.name
        # Every column got its catalog type, in the map.
        for column in feature.query.find_all(exp.Column):
            if not column.is_star:
                expected = table.column(column.name).type
                assert typed.type_of(column) is not None and typed.type_of(column).this == expected.this, column.sql()


def test_the_map_holds_what_sqlglot_inferred(project: Project) -> None:
    feature = project.features["typed_things"]
    typed = annotate(feature.query, project.tables["impressions"])
    by_sql = {n.sql(): typed.type_of(n) for n in feature.query.walk() if typed.type_of(n) is not None}
    assert by_sql["CAST(position AS DOUBLE) * 2"].this == exp.DType.DOUBLE
    assert by_sql["position > 3"].this == exp.DType.BOOLEAN
    assert by_sql["COUNT(*)"].this == exp.DType.BIGINT
    assert typed.type_of(feature.query.args["where"].this).this == exp.DType.BOOLEAN


def test_struct_access_leaves_the_query_unchanged(project: Project) -> None:
    # sqlglot can rewrite identifiers under a Dot while typing struct access:
    # annotate types a copy then; either way the query comes out unchanged.
    text = "SELECT user_id, MAX(LENGTH(user_id.a.b.c.d)) AS m FROM impressions GROUP BY user_id"
    query = exp.maybe_parse(text, dialect=FeatureSQL)
    assert query.find(exp.Dot) is not None
    annotate(query, project.tables["impressions"])
    assert _fingerprint(query) == _fingerprint(exp.maybe_parse(text, dialect=FeatureSQL))
