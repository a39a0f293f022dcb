"""The aggregate table (featuresql/aggregates.py) is complete, and says what the engines do.

Every entry must state every fact the rules, the plan and both compilers read,
and name a function of the independent oracle (tests/oracle.py); the DuckDB
result types it claims are checked against DuckDB itself. test_properties.py
checks that each entry is compared with the oracle on random data.
"""

from __future__ import annotations

import dataclasses
import re
import typing
from pathlib import Path

import duckdb
import pytest
import sqlglot
from sqlglot import exp

import oracle

from featuresql.aggregates import AGGREGATES, DISTINCT_NAMES, NAMES, Aggregate, InputRule, Spelling, for_call, plain
from featuresql.parse.dialect import FeatureSQL

ENTRIES = list(AGGREGATES.values())
IDS = [a.key for a in ENTRIES]
#: Argument types every aggregate is typed with; numeric-only ones take the first three.
ARGUMENT_TYPES = [exp.DataType.build(t) for t in ("INT", "BIGINT", "DOUBLE", "VARCHAR", "BOOLEAN", "TIMESTAMP")]
SEMANTICS = Path(__file__).resolve().parent.parent / "docs" / "semantics.md"


def _arguments(entry: Aggregate) -> list[exp.DataType]:
    return ARGUMENT_TYPES[:3] if entry.input == "numeric" else ARGUMENT_TYPES


def _call(entry: Aggregate) -> str:
    return f"{entry.name}({'DISTINCT ' if entry.distinct else ''}x)"


@pytest.mark.parametrize("entry", ENTRIES, ids=IDS)
def test_entry_states_every_fact(entry: Aggregate) -> None:
    for field in dataclasses.fields(entry):
        value = getattr(entry, field.name)
        assert value is not None and value != "", f"{entry.key}: no {field.name}"
    assert re.fullmatch(r"[a-z_]+", entry.key) and AGGREGATES[entry.key] is entry
    assert issubclass(entry.node, exp.AggFunc)
    assert entry.input in typing.get_args(InputRule)
    for spelling in (entry.duckdb, entry.flink):
        assert isinstance(spelling, Spelling) and spelling.call.count("{x}") == 1, f"{entry.key}: {spelling}"
    for argument in _arguments(entry):
        result = entry.result(argument)
        assert isinstance(result, exp.DataType), f"{entry.key}: no result type for {argument.sql()}"
        value = result if entry.cast_input else argument
        for spelling in (entry.duckdb, entry.flink):
            assert isinstance(spelling.returns(value), exp.DataType), f"{entry.key}: {spelling.call} of {value.sql()}"


@pytest.mark.parametrize("entry", ENTRIES, ids=IDS)
def test_entry_is_the_call_it_names(entry: Aggregate) -> None:
    # The name, the node and DISTINCT agree with what sqlglot parses.
    node = sqlglot.parse_one(f"SELECT {_call(entry)} FROM t", dialect=FeatureSQL).find(exp.AggFunc)
    assert node is not None and type(node) is entry.node and node.sql_name() == entry.name
    assert for_call(node) is entry
    assert entry.name in NAMES.split(", ")
    if entry.distinct:
        assert entry.name in DISTINCT_NAMES.split(" and ")
        assert plain(node) is not None, f"{entry.name}(DISTINCT x) without {entry.name}(x)"


def test_no_two_entries_for_one_call() -> None:
    calls = [(a.node, a.distinct) for a in ENTRIES]
    assert len(set(calls)) == len(calls)


@pytest.mark.parametrize("entry", ENTRIES, ids=IDS)
def test_entry_has_an_oracle_function(entry: Aggregate) -> None:
    assert entry.oracle in oracle.FUNCTIONS, f"tests/oracle.py FUNCTIONS has no {entry.oracle!r} for {entry.key}"
    assert oracle.aggregate(oracle.Agg(entry.oracle, "v"), [{"v": 1}, {"v": None}, {"v": 3}]) is not None


def test_oracle_shares_no_code_with_the_engine() -> None:
    # The oracle restates docs/semantics.md on its own; it must not read the table it checks.
    source = Path(oracle.__file__).read_text(encoding="utf-8")
    assert not re.search(r"^\s*(from|import)\s+featuresql", source, re.MULTILINE)


@pytest.mark.parametrize("entry", ENTRIES, ids=IDS)
def test_entry_is_in_the_contract(entry: Aggregate) -> None:
    section = SEMANTICS.read_text(encoding="utf-8").split("## 3.")[1].split("\n## ")[0]
    assert f"`{_call(entry)}`" in section, f"docs/semantics.md section 3 does not list {_call(entry)}"


@pytest.mark.parametrize("entry", ENTRIES, ids=IDS)
def test_duckdb_returns_the_types_the_table_says(entry: Aggregate) -> None:
    db = duckdb.connect()
    for argument in _arguments(entry):
        value = entry.result(argument) if entry.cast_input else argument
        column = f"CAST(NULL AS {value.sql(dialect='duckdb')})"
        claimed = entry.duckdb.returns(value).sql(dialect="duckdb")
        call = entry.duckdb.call.format(x="x")
        row = db.execute(f"SELECT typeof({call}), typeof(CAST(NULL AS {claimed})) FROM (SELECT {column} AS x)").fetchone()
        assert row is not None
        actual, expected = row
        assert actual == expected, f"{call} of {value.sql()}: DuckDB returns {actual}, the table says {expected}"
