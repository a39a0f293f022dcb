"""`featuresql.compare`, the row-and-column comparison behind `featuresql verify`: it must catch
every kind of difference and forgive only what the contract forgives (DOUBLE within 1e-9)."""

from __future__ import annotations

import math
from datetime import datetime

import pyarrow as pa

from featuresql.compare import compare, render

T0, T1 = datetime(2026, 1, 10, 0, 0, 0), datetime(2026, 1, 10, 0, 0, 1)


def _table(rows: list[tuple]) -> pa.Table:
    return pa.table(
        {
            "k": pa.array([r[0] for r in rows], pa.string()),
            "event_time": pa.array([r[1] for r in rows], pa.timestamp("ms")),
            "n": pa.array([r[2] for r in rows], pa.int64()),
            "x": pa.array([r[3] for r in rows], pa.float64()),
        }
    )


BASE_ROWS = [("a", T0, 1, 0.5), ("a", T1, 2, None), ("b", T0, 0, float("nan")), ("a", T1, 2, None)]


def test_equal_outputs_match_in_any_order_with_duplicates_nulls_and_nan() -> None:
    result = compare("f", _table(BASE_ROWS), _table(list(reversed(BASE_ROWS))), ["k", "event_time"])
    assert result.ok, render(result)
    assert [c.matching for c in result.columns] == [4, 4, 4, 4]


def test_doubles_within_the_tolerance_match_and_beyond_it_do_not() -> None:
    close = [("a", T0, 1, 0.5 * (1 + 1e-12)), *BASE_ROWS[1:]]
    assert compare("f", _table(BASE_ROWS), _table(close), ["k", "event_time"]).ok
    far = [("a", T0, 1, 0.5 * (1 + 1e-6)), *BASE_ROWS[1:]]
    result = compare("f", _table(BASE_ROWS), _table(far), ["k", "event_time"])
    assert not result.ok
    assert {c.name: c.matching for c in result.columns}["x"] == 3
    assert "x: batch 0.5 vs stream" in render(result)


def test_an_integer_off_by_one_is_reported_with_its_keys() -> None:
    changed = [("a", T0, 2, 0.5), *BASE_ROWS[1:]]
    result = compare("f", _table(BASE_ROWS), _table(changed), ["k", "event_time"])
    assert not result.ok
    assert {c.name: c.matching for c in result.columns}["n"] == 3
    identity, diff = result.examples[0]
    assert identity == {"k": "a", "event_time": T0} and diff == {"n": (1, 2)}


def test_a_missing_duplicate_and_an_extra_row_are_counted() -> None:
    result = compare("f", _table(BASE_ROWS), _table(BASE_ROWS[:3] + [("c", T0, 5, 1.0)]), ["k", "event_time"])
    assert (result.only_batch, result.only_stream) == (1, 1)
    assert not result.ok
    assert "rows only in batch: 1; only in stream: 1" in render(result)


def test_null_is_not_equal_to_a_value_and_nan_not_to_a_number() -> None:
    changed = [("a", T0, 1, 0.5), ("a", T1, 2, 0.0), ("b", T0, 0, 1.0), ("a", T1, 2, None)]
    result = compare("f", _table(BASE_ROWS), _table(changed), ["k", "event_time"])
    assert {c.name: c.matching for c in result.columns}["x"] == 2
    assert math.isnan(_table(BASE_ROWS).column("x")[2].as_py())


def test_infinities_match_only_themselves() -> None:
    inf = [("a", T0, 1, float("inf")), *BASE_ROWS[1:]]
    assert compare("f", _table(inf), _table(inf), ["k", "event_time"]).ok
    assert not compare("f", _table(inf), _table(BASE_ROWS), ["k", "event_time"]).ok


def test_different_columns_are_a_schema_problem() -> None:
    other = _table(BASE_ROWS).rename_columns(["k", "event_time", "n", "y"])
    result = compare("f", _table(BASE_ROWS), other, ["k", "event_time"])
    assert not result.ok and result.schema_problem is not None


def test_both_empty_is_a_match_and_one_empty_is_not() -> None:
    assert compare("f", _table([]), _table([]), ["k", "event_time"]).ok
    result = compare("f", _table(BASE_ROWS), _table([]), ["k", "event_time"])
    assert result.only_batch == 4 and not result.ok
