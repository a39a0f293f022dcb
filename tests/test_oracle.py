"""Hand-computed checks of the oracle against docs/semantics.md.

The property tests trust tests/oracle.py, so the oracle itself is pinned here
with tiny examples whose answers were worked out on paper from the contract,
one contract sentence per test where possible.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Mapping, Optional

import pytest

from oracle import (
    Agg,
    Feature,
    FeatureInput,
    Label,
    LabelInput,
    aggregate,
    backfill,
    div,
    eq,
    feature_values,
    from_ms,
    gt,
    label_value,
    ne,
    nullif,
    parse_time,
    parse_window,
    samples,
    seconds_since,
    sql_and,
    sql_not,
    sql_or,
    sub,
    to_ms,
    window_rows,
)

T = 10_000  # a sample time, in ms


def ev(k: Any, time: Any, v: Any = None, cat: Any = None, x: Any = None) -> dict[str, Any]:
    return {"k": k, "event_time": time, "v": v, "cat": cat, "x": x}


def _count(events: list[dict[str, Any]], t: int, w: Optional[int], k: str = "a") -> int:
    vals = feature_values(events, ("k",), (k,), t, w, None, {"n": Agg("count_star")})
    return int(vals["n"])


def _where(r: Mapping[str, Any]) -> Optional[bool]:
    # cat IS NULL OR cat <> 'z'
    return sql_or(r["cat"] is None, ne(r["cat"], "z"))


def _is_a(r: Mapping[str, Any]) -> Optional[bool]:
    return eq(r["cat"], "a")


# A small version of the brief's feature f, in oracle terms.
F = Feature(
    keys=("k",),
    windows=("1s", "lifetime"),
    where=_where,
    aggs={
        "n": Agg("count_star"),
        "nv": Agg("count", "v"),
        "na": Agg("count_star", filter=_is_a),
        "sv": Agg("sum", "v"),
        "last": Agg("max", "event_time"),
    },
    outputs={
        "n": lambda a, t: a["n"],
        "sv": lambda a, t: a["sv"],
        "rate_a": lambda a, t: div(a["na"], nullif(a["n"], 0)),
        "since_last": lambda a, t: seconds_since(a["last"], t),
    },
)


# --- section 1: time ------------------------------------------------------


def test_times_ints_and_datetimes_agree() -> None:
    dt = datetime(2024, 3, 10, 12, 0, 0, 250_000)
    ms = 1_710_072_000_250
    assert to_ms(dt) == ms
    assert to_ms(dt.replace(tzinfo=timezone.utc)) == ms
    assert from_ms(ms) == dt
    assert parse_time("2024-03-10 12:00:00.250") == ms
    assert parse_time("2024-03-10 12:00:00") == ms - 250
    assert parse_time("2024-03-10") == ms - 12 * 3_600_000 - 250  # midnight UTC


def test_window_spellings() -> None:
    assert parse_window("1s") == 1_000
    assert parse_window("5m") == 300_000
    assert parse_window("2h") == 7_200_000
    assert parse_window("1d") == 86_400_000
    assert parse_window("lifetime") is None
    for bad in ("0s", "1w", "1.5s", "s", "-1s"):
        with pytest.raises(ValueError):
            parse_window(bad)


# --- section 2: window edges ----------------------------------------------


def test_lower_edge_inclusive_upper_edge_exclusive() -> None:
    events = [
        ev("a", T - 1001),  # just before t - w: out
        ev("a", T - 1000),  # exactly t - w: in
        ev("a", T - 1),  # in
        ev("a", T),  # exactly t: out
        ev("a", T + 1),  # future: out
    ]
    assert _count(events, T, 1000) == 2
    assert [to_ms(e["event_time"]) for e in window_rows(events, ("k",), ("a",), T, 1000)] == [T - 1000, T - 1]


def test_lifetime_is_everything_strictly_before_t() -> None:
    events = [ev("a", 0), ev("a", T - 10**9), ev("a", T - 1), ev("a", T), ev("a", T + 5)]
    assert _count(events, T, None) == 3


def test_same_millisecond_peers_are_not_seen_at_their_own_time() -> None:
    events = [ev("a", T), ev("a", T), ev("a", T - 250)]
    assert _count(events, T, 1000) == 1
    assert _count(events, T + 1, 1000) == 3


def test_datetime_and_int_events_mix() -> None:
    events = [ev("a", from_ms(T - 1000)), ev("a", T - 500)]
    assert _count(events, from_ms(T), 1000) == 2


def test_keys_must_all_match() -> None:
    events = [
        {"k": "a", "k2": 1, "event_time": T - 1},
        {"k": "a", "k2": 2, "event_time": T - 1},
        {"k": "a", "k2": None, "event_time": T - 1},
        {"k": None, "k2": 1, "event_time": T - 1},
    ]
    vals = feature_values(events, ("k", "k2"), ("a", 1), T, 1000, None, {"n": Agg("count_star")})
    assert vals == {"n": 1}
    # A NULL entity matches nothing, not even events with NULL keys.
    assert feature_values(events, ("k", "k2"), ("a", None), T, None, None, {"n": Agg("count_star")}) == {"n": 0}


# --- section 3: aggregates --------------------------------------------------

ALL_AGGS = {
    "n": Agg("count_star"),
    "nv": Agg("count", "v"),
    "ncat": Agg("count_distinct", "cat"),
    "sv": Agg("sum", "v"),
    "av": Agg("avg", "v"),
    "mnv": Agg("min", "v"),
    "mxv": Agg("max", "v"),
    "sx": Agg("sum", "x"),
}


def test_empty_window_values() -> None:
    vals = feature_values([ev("b", T - 1, v=1)], ("k",), ("a",), T, 1000, None, ALL_AGGS)
    assert vals == {"n": 0, "nv": 0, "ncat": 0, "sv": None, "av": None, "mnv": None, "mxv": None, "sx": None}


def test_all_null_inputs_behave_as_empty_except_count_star() -> None:
    events = [ev("a", T - 1), ev("a", T - 2)]
    vals = feature_values(events, ("k",), ("a",), T, 1000, None, ALL_AGGS)
    assert vals == {"n": 2, "nv": 0, "ncat": 0, "sv": None, "av": None, "mnv": None, "mxv": None, "sx": None}


def test_nulls_are_ignored_by_value_aggregates() -> None:
    events = [
        ev("a", T - 1, v=3, cat="a", x=0.5),
        ev("a", T - 2, v=None, cat=None, x=None),
        ev("a", T - 3, v=-1, cat="a", x=1.25),
        ev("a", T - 4, v=2, cat="b", x=None),
    ]
    vals = feature_values(events, ("k",), ("a",), T, 1000, None, ALL_AGGS)
    assert vals == {"n": 4, "nv": 3, "ncat": 2, "sv": 4, "av": 4 / 3, "mnv": -1, "mxv": 3, "sx": 1.75}


def test_integer_sum_stays_exact_int_and_avg_is_float() -> None:
    big = 2**62
    events = [ev("a", T - 1, v=big), ev("a", T - 2, v=1), ev("a", T - 3, v=-1), ev("a", T - 4, v=2)]
    vals = feature_values(events, ("k",), ("a",), T, 1000, None, {"sv": Agg("sum", "v"), "av": Agg("avg", "v")})
    assert vals["sv"] == big + 2 and isinstance(vals["sv"], int)  # no float rounding at 2**62
    assert isinstance(vals["av"], float) and vals["av"] == (big + 2) / 4
    ints = feature_values(events[1:], ("k",), ("a",), T, 1000, None, {"av": Agg("avg", "v")})
    assert ints["av"] == pytest.approx(2 / 3) and isinstance(ints["av"], float)


def test_filter_keeps_only_true() -> None:
    events = [ev("a", T - 1, cat="a"), ev("a", T - 2, cat=None), ev("a", T - 3, cat="b"), ev("a", T - 4, cat="a")]
    assert aggregate(Agg("count_star", filter=_is_a), events) == 2
    # NOT (cat = 'a') is UNKNOWN for the NULL cat, so that row is dropped too.
    assert aggregate(Agg("count_star", filter=lambda r: sql_not(eq(r["cat"], "a"))), events) == 1


def test_count_distinct_and_min_max_on_strings_and_times() -> None:
    events = [ev("a", T - 3, cat="b"), ev("a", T - 2, cat="a"), ev("a", T - 1, cat="b"), ev("a", T - 9, cat=None)]
    assert aggregate(Agg("count_distinct", "cat"), events) == 2
    assert aggregate(Agg("min", "cat"), events) == "a"
    assert aggregate(Agg("max", "cat"), events) == "b"
    assert aggregate(Agg("max", "event_time"), events) == T - 1


def test_where_is_three_valued() -> None:
    # cat IS NULL OR cat <> 'z': NULL cat passes, 'z' does not.
    events = [ev("a", T - 1, cat=None), ev("a", T - 2, cat="z"), ev("a", T - 3, cat="a")]
    vals = feature_values(events, ("k",), ("a",), T, None, _where, {"n": Agg("count_star")})
    assert vals == {"n": 2}
    # A bare cat <> 'z' would drop the NULL too (UNKNOWN is not TRUE).
    vals = feature_values(events, ("k",), ("a",), T, None, lambda r: ne(r["cat"], "z"), {"n": Agg("count_star")})
    assert vals == {"n": 1}


def test_division_is_real_and_null_on_zero() -> None:
    assert div(3, 2) == 1.5
    assert div(1, 3) == 1 / 3
    assert div(-7, 2) == -3.5  # not truncated, not floored
    assert div(5, 0) is None
    assert div(5, 0.0) is None
    assert div(None, 2) is None and div(2, None) is None
    assert div(0, nullif(0, 0)) is None
    assert isinstance(div(4, 2), float)
    assert div(sub(3, 3), 1) == 0.0


def test_three_valued_helpers() -> None:
    assert sql_and(True, None) is None and sql_and(False, None) is False
    assert sql_or(False, None) is None and sql_or(True, None) is True
    assert gt(None, 0) is None and gt(1, 0) is True
    assert nullif(3, 0) == 3 and nullif(None, 0) is None


def test_seconds_since_rounds_down() -> None:
    assert seconds_since(T - 1999, T) == 1
    assert seconds_since(T - 2000, T) == 2
    assert seconds_since(T - 1, T) == 0
    assert seconds_since(None, T) is None
    assert seconds_since(from_ms(T - 61_500), from_ms(T)) == 61
    assert seconds_since(T + 1, T) == -1  # "rounded down", not toward zero


def test_feature_outputs_use_their_own_window() -> None:
    events = [ev("a", T - 1500, cat="a", v=1), ev("a", T - 500, cat="b", v=2), ev("a", T - 3000, cat="z", v=100)]
    row = samples(
        [{"k": "a", "event_time": T}],
        ["k", "event_time"],
        [FeatureInput(F, events)],
    )
    assert row == [
        {
            "k": "a",
            "event_time": T,
            "n_1s": 1,
            "n_lifetime": 2,  # the 'z' event fails WHERE
            "sv_1s": 2,
            "sv_lifetime": 3,
            "rate_a_1s": 0.0,
            "rate_a_lifetime": 0.5,
            "since_last_1s": 0,
            "since_last_lifetime": 0,
        }
    ]


# --- section 4: bad events ------------------------------------------------


def test_null_keys_and_null_times_are_excluded() -> None:
    events = [ev("a", T - 1, v=1), ev(None, T - 1, v=10), ev("a", None, v=100)]
    vals = feature_values(events, ("k",), ("a",), T, None, None, {"sv": Agg("sum", "v"), "n": Agg("count_star")})
    assert vals == {"sv": 1, "n": 1}
    rows = backfill(events, F)
    assert [r["event_time"] for r in rows] == [T - 1]


def test_duplicates_count_twice_and_log_twice() -> None:
    e = ev("a", T - 100, v=5, cat="a")
    events = [e, dict(e)]
    vals = feature_values(events, ("k",), ("a",), T, 1000, None, {"n": Agg("count_star"), "sv": Agg("sum", "v")})
    assert vals == {"n": 2, "sv": 10}
    rows = backfill(events, F)
    assert len(rows) == 2
    assert rows[0] == rows[1]
    assert rows[0]["n_1s"] == 2 and rows[0]["sv_1s"] == 10


# --- section 5: backfill ----------------------------------------------------


def test_backfill_is_as_of_event_time_plus_one_ms() -> None:
    events = [
        ev("a", 1000, v=1, cat="a"),
        ev("a", 2000, v=2, cat="b"),  # exactly w after the first: first falls out
        ev("a", 2000, v=4, cat="a"),  # same-ms peer: each row sees both
        ev("b", 1999, v=8),
        ev("a", 1500, v=16, cat="z"),  # fails WHERE: no row, not counted
    ]
    rows = sorted(backfill(events, F), key=lambda r: (r["k"], r["event_time"], r["sv_1s"]))
    # As of 2001 the 1s window is [1001, 2000]; the event at 1000 is out.
    assert rows == [
        {"k": "a", "event_time": 1000, "n_1s": 1, "n_lifetime": 1, "sv_1s": 1, "sv_lifetime": 1,
         "rate_a_1s": 1.0, "rate_a_lifetime": 1.0, "since_last_1s": 0, "since_last_lifetime": 0},
        {"k": "a", "event_time": 2000, "n_1s": 2, "n_lifetime": 3, "sv_1s": 6, "sv_lifetime": 7,
         "rate_a_1s": 0.5, "rate_a_lifetime": 2 / 3, "since_last_1s": 0, "since_last_lifetime": 0},
        {"k": "a", "event_time": 2000, "n_1s": 2, "n_lifetime": 3, "sv_1s": 6, "sv_lifetime": 7,
         "rate_a_1s": 0.5, "rate_a_lifetime": 2 / 3, "since_last_1s": 0, "since_last_lifetime": 0},
        {"k": "b", "event_time": 1999, "n_1s": 1, "n_lifetime": 1, "sv_1s": 8, "sv_lifetime": 8,
         "rate_a_1s": 0.0, "rate_a_lifetime": 0.0, "since_last_1s": 0, "since_last_lifetime": 0},
    ]  # fmt: skip


def test_backfill_range_is_half_open_and_sees_history() -> None:
    events = [ev("a", 0, v=1), ev("a", 1000, v=2), ev("a", 2000, v=4), ev("a", 3000, v=8)]
    rows = backfill(events, F, start=1000, end=3000)
    assert sorted((r["event_time"], r["sv_lifetime"], r["sv_1s"]) for r in rows) == [(1000, 3, 2), (2000, 7, 4)]
    # Strings and datetimes mean the same instants.
    assert backfill(events, F, start=from_ms(1000), end="1970-01-01 00:00:03.000") == rows


def test_backfill_filter_does_not_select_rows() -> None:
    # Only WHERE decides which events log a row; FILTER only shapes values.
    rows = backfill([ev("a", 5, cat="b")], F)
    assert len(rows) == 1 and rows[0]["rate_a_1s"] == 0.0


# --- section 6: samples and labels ----------------------------------------

HIT = Label(
    alias="hit",
    keys=("k",),
    horizon="1s",
    aggs={"na": Agg("count_star", filter=_is_a)},
    output=lambda a, t: gt(a["na"], 0),
)


def test_label_window_is_open_below_closed_above() -> None:
    def hit_for(time: int) -> Any:
        return label_value([ev("a", time, cat="a")], HIT, ("a",), T)

    assert hit_for(T) is False  # at t: neither feature nor label
    assert hit_for(T + 1) is True
    assert hit_for(T + 1000) is True  # t + h: included
    assert hit_for(T + 1001) is False
    assert hit_for(T - 1) is False


def test_null_label_key_policy() -> None:
    from dataclasses import replace

    events = [ev(None, T + 1, cat="a")]
    assert label_value(events, HIT, (None,), T) is False  # literal reading: no events
    assert label_value(events, replace(HIT, null_key_gives_null=True), (None,), T) is None


def test_label_counts_and_sums_of_empty_window() -> None:
    total = Label("total", ("k",), "2s", {"s": Agg("sum", "v")}, lambda a, t: a["s"])
    assert label_value([], total, ("a",), T) is None
    assert label_value([ev("a", T + 2000, v=3), ev("a", T + 2000, v=3)], total, ("a",), T) == 6


def test_samples_rows_nulls_duplicates_and_range() -> None:
    events = [ev("a", T - 500, cat="a", v=1), ev("a", T + 1000, cat="a"), ev("b", T + 1, cat="a")]
    spine = [
        {"sid": 1, "k": "a", "event_time": T},
        {"sid": 1, "k": "a", "event_time": T},  # identical spine rows: two samples
        {"sid": 2, "k": None, "event_time": T},  # NULL entity: NULL features
        {"sid": 3, "k": "a", "event_time": None},  # NULL time: excluded
        {"sid": 4, "k": "b", "event_time": T + 5000},  # at end: excluded (half-open)
        {"sid": 5, "k": "c", "event_time": 0},  # before any event: empty windows
    ]
    rows = samples(
        spine, ["sid", "k", "event_time"], [FeatureInput(F, events)], LabelInput(HIT, events), start=0, end=T + 5000
    )
    by_sid: dict[int, list[dict[str, Any]]] = {}
    for r in rows:
        by_sid.setdefault(r["sid"], []).append(r)
    assert sorted(by_sid) == [1, 2, 5]
    assert len(by_sid[1]) == 2 and by_sid[1][0] == by_sid[1][1]
    one = by_sid[1][0]
    assert (one["n_1s"], one["sv_1s"], one["rate_a_1s"], one["since_last_1s"], one["hit"]) == (1, 1, 1.0, 0, True)
    two = by_sid[2][0]
    assert all(two[c] is None for c in F.columns())
    assert two["hit"] is False  # NULL label key: no label events, negative sample
    five = by_sid[5][0]
    assert (five["n_lifetime"], five["sv_lifetime"], five["rate_a_lifetime"], five["since_last_lifetime"]) == (
        0,
        None,
        None,
        None,
    )
    assert five["hit"] is False


def test_label_looks_past_end() -> None:
    events = [ev("a", T + 900, cat="a")]
    rows = samples([{"k": "a", "event_time": T}], ["k", "event_time"], [], LabelInput(HIT, events), end=T + 1)
    assert rows == [{"k": "a", "event_time": T, "hit": True}]


def test_samples_with_two_column_entity() -> None:
    g = Feature(keys=("k", "k2"), windows=("lifetime",), aggs={"n": Agg("count_star")}, outputs={"n": lambda a, t: a["n"]})
    events = [{"k": "a", "k2": 1, "event_time": 1}, {"k": "a", "k2": 2, "event_time": 1}]
    spine = [
        {"k": "a", "k2": 1, "event_time": 5},
        {"k": "a", "k2": None, "event_time": 5},
        {"k": "a", "k2": 3, "event_time": 5},
    ]
    rows = samples(spine, ["k", "k2", "event_time"], [FeatureInput(g, events)])
    assert [r["n_lifetime"] for r in rows] == [1, None, 0]
