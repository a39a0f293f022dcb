"""Every aggregate featuresql runs, as data: one `Aggregate` entry each.

An entry holds every fact about one aggregate (docs/semantics.md, section 3):
the call it is parsed from, what its input must be, its result type, and how
each engine writes it. The rules, the plan and both compilers read this table
and nothing else, so adding an aggregate is one entry here plus its function in
tests/oracle.py (see docs/architecture.md, "Adding an aggregate").
tests/test_aggregates.py fails when an entry lacks a fact or an oracle function.

Only sqlglot is imported: `validate` reads this module.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal

from sqlglot import exp

#: What an aggregate accepts: any type, or numbers only (FS103 otherwise).
InputRule = Literal["any", "numeric"]
#: A type as a function of another (an argument's or an input's type).
TypeRule = Callable[[exp.DataType], exp.DataType]

BIGINT = exp.DataType.build("BIGINT")
DOUBLE = exp.DataType.build("DOUBLE")
HUGEINT = exp.DataType.build("INT128")


@dataclass(frozen=True)
class Spelling:
    """How one engine writes an aggregate as a window aggregate, and what type it returns."""

    #: The call, `{x}` standing for the measure's row-level input column.
    call: str
    #: The type the engine returns, given the row-level input's type (after the
    #: entry's input cast). Where it differs from the contract's result type, the
    #: compiler casts the windowed call back to the result type.
    returns: TypeRule


@dataclass(frozen=True)
class Aggregate:
    """One aggregate: how it is written, typed, compiled and checked."""

    #: The plan's name for it (`Measure.aggregate.key`); part of the measure's identity.
    key: str
    #: Its SQL name, as sqlglot's `sql_name()` spells the call and as messages list it.
    name: str
    #: The sqlglot node the call parses to.
    node: type[exp.AggFunc]
    #: True for the `NAME(DISTINCT x)` form of `node`. DISTINCT is accepted for a
    #: node only where such an entry exists; it is then a different aggregate.
    distinct: bool
    #: Whether `NAME(*)` is accepted; the plan then aggregates the literal 1 per event.
    star: bool
    #: What the argument must be.
    input: InputRule
    #: The contract's result type, from the argument's type.
    result: TypeRule
    #: Whether the row-level input is cast to the result type first, so that both
    #: engines aggregate the same type (SUM of INT sums BIGINTs, AVG averages DOUBLEs).
    cast_input: bool
    duckdb: Spelling
    flink: Spelling
    #: The key of its independent implementation in tests/oracle.py `FUNCTIONS`.
    oracle: str


def _bigint(_: exp.DataType) -> exp.DataType:
    return BIGINT


def _double(_: exp.DataType) -> exp.DataType:
    return DOUBLE


def _same(argument: exp.DataType) -> exp.DataType:
    return argument


def _sum_type(argument: exp.DataType) -> exp.DataType:
    # An integer sum stays exact; anything else (decimals included) is summed as DOUBLE.
    return BIGINT if argument.is_type(*exp.DataType.INTEGER_TYPES) else DOUBLE


def _duckdb_sum_type(value: exp.DataType) -> exp.DataType:
    # DuckDB widens a sum of integers to HUGEINT so it cannot overflow; the contract says BIGINT.
    return HUGEINT if value.is_type(*exp.DataType.INTEGER_TYPES) else DOUBLE


def _same_call(call: str, returns: TypeRule) -> tuple[Spelling, Spelling]:
    """DuckDB's and Flink's spelling when they agree on both the call and its type."""
    spelling = Spelling(call, returns)
    return spelling, spelling


_COUNT_DUCKDB, _COUNT_FLINK = _same_call("COUNT({x})", _bigint)
_COUNT_DISTINCT_DUCKDB, _COUNT_DISTINCT_FLINK = _same_call("COUNT(DISTINCT {x})", _bigint)
_AVG_DUCKDB, _AVG_FLINK = _same_call("AVG({x})", _double)
_MIN_DUCKDB, _MIN_FLINK = _same_call("MIN({x})", _same)
_MAX_DUCKDB, _MAX_FLINK = _same_call("MAX({x})", _same)

#: In the order messages list them ("use COUNT, SUM, AVG, MIN, MAX").
_ENTRIES: tuple[Aggregate, ...] = (
    Aggregate(
        key="count", name="COUNT", node=exp.Count, distinct=False, star=True, input="any",
        result=_bigint, cast_input=False, duckdb=_COUNT_DUCKDB, flink=_COUNT_FLINK, oracle="count",
    ),
    Aggregate(
        key="count_distinct", name="COUNT", node=exp.Count, distinct=True, star=False, input="any",
        result=_bigint, cast_input=False, duckdb=_COUNT_DISTINCT_DUCKDB, flink=_COUNT_DISTINCT_FLINK,
        oracle="count_distinct",
    ),
    Aggregate(
        key="sum", name="SUM", node=exp.Sum, distinct=False, star=False, input="numeric",
        result=_sum_type, cast_input=True,
        duckdb=Spelling("SUM({x})", _duckdb_sum_type),
        # Flink's SUM keeps its input's type: BIGINT or DOUBLE after the input cast.
        flink=Spelling("SUM({x})", _same),
        oracle="sum",
    ),
    Aggregate(
        key="avg", name="AVG", node=exp.Avg, distinct=False, star=False, input="numeric",
        # Cast to DOUBLE first: Flink's AVG of an integer column is an integer.
        result=_double, cast_input=True, duckdb=_AVG_DUCKDB, flink=_AVG_FLINK, oracle="avg",
    ),
    Aggregate(
        key="min", name="MIN", node=exp.Min, distinct=False, star=False, input="any",
        result=_same, cast_input=False, duckdb=_MIN_DUCKDB, flink=_MIN_FLINK, oracle="min",
    ),
    Aggregate(
        key="max", name="MAX", node=exp.Max, distinct=False, star=False, input="any",
        result=_same, cast_input=False, duckdb=_MAX_DUCKDB, flink=_MAX_FLINK, oracle="max",
    ),
)

#: Every aggregate, by key.
AGGREGATES: Mapping[str, Aggregate] = MappingProxyType({a.key: a for a in _ENTRIES})

_BY_CALL: dict[tuple[type[exp.Expr], bool], Aggregate] = {(a.node, a.distinct): a for a in _ENTRIES}
_NODES: frozenset[type[exp.Expr]] = frozenset(a.node for a in _ENTRIES)

#: The supported aggregates' names, for messages: "COUNT, SUM, AVG, MIN, MAX".
NAMES = ", ".join(dict.fromkeys(a.name for a in _ENTRIES))
#: The names that take DISTINCT, for messages: "COUNT".
DISTINCT_NAMES = " and ".join(dict.fromkeys(a.name for a in _ENTRIES if a.distinct))


def is_supported(node: exp.Expr) -> bool:
    """Whether some entry comes from `node`'s class (its arguments are checked apart)."""
    return type(node) in _NODES


def for_call(node: exp.Expr) -> Aggregate | None:
    """The entry a call means: by its node class and whether its argument is DISTINCT.

    None for an unsupported aggregate or a DISTINCT that no entry defines.
    """
    return _BY_CALL.get((type(node), isinstance(node.this, exp.Distinct)))


def plain(node: exp.Expr) -> Aggregate | None:
    """The entry of `node`'s class without DISTINCT (whatever its argument is)."""
    return _BY_CALL.get((type(node), False))
