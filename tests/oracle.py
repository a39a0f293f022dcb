"""An independent, deliberately naive oracle for docs/semantics.md.

This module re-derives the boundary contract from the document alone, in plain
Python, so that the property tests can compare the engines against something
that shares no code (and ideally no mistakes) with them. It favours being
obviously right over being fast: every feature value is recomputed from
scratch by scanning all events, with no incremental state, no sorting tricks
and no SQL.

Conventions
-----------
* An event (or spine row) is a ``dict`` from column name to value; ``None`` is
  SQL NULL.
* Times are ``int`` milliseconds since the Unix epoch (UTC) or ``datetime``
  (naive means UTC). All comparisons are done on integer milliseconds so that
  both spellings mean the same instant (section 1).
* Aggregates are declared with :class:`Agg`. Output columns are Python
  callables ``fn(aggs, as_of_ms)`` over the window's aggregate values, which
  is how expressions such as ``COUNT(*) FILTER (...) / NULLIF(COUNT(*), 0)`` or
  ``SECONDS_SINCE(MAX(event_time))`` are expressed; use :func:`div`,
  :func:`nullif`, :func:`seconds_since` and the three-valued helpers so the
  NULL rules of the contract are followed.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Iterable, Mapping, Optional, Sequence, Union

Row = dict[str, Any]
Time = Union[int, datetime]
# A SQL predicate: returns True, False or None (UNKNOWN). Only True keeps a row.
Predicate = Callable[[Mapping[str, Any]], Optional[bool]]
# An output expression over one window's aggregate values and the as-of time.
OutputFn = Callable[[Mapping[str, Any], int], Any]

#: "count_star" (COUNT(*): rows, NULLs included) or a key of FUNCTIONS.
AggKind = str

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_MS = timedelta(milliseconds=1)

# --------------------------------------------------------------------------
# Time
# --------------------------------------------------------------------------


def to_ms(value: Time) -> int:
    """Milliseconds since the epoch for an int or a datetime (naive = UTC).

    Sub-millisecond parts are floored, as storing into TIMESTAMP(3) would.
    """
    if isinstance(value, bool):  # bool is an int subclass; never a time
        raise TypeError("a bool is not a time")
    if isinstance(value, int):
        return value
    if isinstance(value, datetime):
        aware = value if value.tzinfo is not None else value.replace(tzinfo=timezone.utc)
        # Integer timedelta division keeps this exact (no float seconds).
        return (aware - _EPOCH) // _MS
    raise TypeError(f"not a time: {value!r}")


def from_ms(ms: int) -> datetime:
    """The naive-UTC datetime for ``ms``; the form pyarrow hands back."""
    return datetime(1970, 1, 1) + ms * _MS


def parse_time(value: Time | str) -> int:
    """Parse a ``--start``/``--end`` value: int ms, datetime, or a UTC string.

    ``'YYYY-MM-DD'`` means midnight UTC of that day (section 1).
    """
    if isinstance(value, str):
        text = value.strip()
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            return to_ms(datetime.strptime(text, "%Y-%m-%d"))
        fmt = "%Y-%m-%d %H:%M:%S.%f" if "." in text else "%Y-%m-%d %H:%M:%S"
        return to_ms(datetime.strptime(text, fmt))
    return to_ms(value)


_WINDOW_UNITS_MS = {"s": 1_000, "m": 60_000, "h": 3_600_000, "d": 86_400_000}


def parse_window(spelling: str) -> Optional[int]:
    """Window length in ms for ``<n>s|m|h|d``; ``None`` for ``lifetime``."""
    if spelling == "lifetime":
        return None
    match = re.fullmatch(r"([1-9][0-9]*)([smhd])", spelling)
    if match is None:
        raise ValueError(f"not a window: {spelling!r}")
    return int(match.group(1)) * _WINDOW_UNITS_MS[match.group(2)]


# --------------------------------------------------------------------------
# SQL scalar helpers (three-valued logic, NULL propagation, division)
# --------------------------------------------------------------------------


def eq(a: Any, b: Any) -> Optional[bool]:
    """SQL ``a = b``: UNKNOWN if either side is NULL."""
    if a is None or b is None:
        return None
    return bool(a == b)


def ne(a: Any, b: Any) -> Optional[bool]:
    """SQL ``a <> b``."""
    if a is None or b is None:
        return None
    return bool(a != b)


def gt(a: Any, b: Any) -> Optional[bool]:
    """SQL ``a > b``."""
    if a is None or b is None:
        return None
    return bool(a > b)


def sql_not(a: Optional[bool]) -> Optional[bool]:
    return None if a is None else not a


def sql_and(*args: Optional[bool]) -> Optional[bool]:
    # FALSE dominates UNKNOWN, which dominates TRUE.
    if any(a is False for a in args):
        return False
    if any(a is None for a in args):
        return None
    return True


def sql_or(*args: Optional[bool]) -> Optional[bool]:
    # TRUE dominates UNKNOWN, which dominates FALSE.
    if any(a is True for a in args):
        return True
    if any(a is None for a in args):
        return None
    return False


def nullif(a: Any, b: Any) -> Any:
    """SQL ``NULLIF(a, b)``: NULL when ``a = b`` is TRUE, else ``a``."""
    return None if eq(a, b) is True else a


def div(a: Any, b: Any) -> Optional[float]:
    """The contract's division: always real (DOUBLE), NULL on NULL or on /0."""
    if a is None or b is None or b == 0:
        return None
    # float(a) / float(b) would round both operands first; int / int in Python
    # is correctly rounded true division, which is what an exact engine gives.
    if isinstance(a, int) and isinstance(b, int):
        return a / b
    return float(a) / float(b)


def sub(a: Any, b: Any) -> Any:
    """SQL ``a - b`` with NULL propagation (ints stay ints)."""
    if a is None or b is None:
        return None
    return a - b


def seconds_since(ts: Optional[Time], as_of: Time) -> Optional[int]:
    """``SECONDS_SINCE(ts)``: whole seconds from ``ts`` to the as-of, floored."""
    if ts is None:
        return None
    # Python's // floors toward negative infinity, which is "rounded down" even
    # if ts were after the as-of time.
    return (to_ms(as_of) - to_ms(ts)) // 1000


# --------------------------------------------------------------------------
# Declarative aggregates
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Agg:
    """One SQL aggregate: ``kind(column) FILTER (WHERE filter)``.

    ``column`` is ignored (and may be None) for ``count_star``.
    """

    kind: AggKind
    column: Optional[str] = None
    filter: Optional[Predicate] = None

    def __post_init__(self) -> None:
        if self.kind != "count_star" and self.kind not in FUNCTIONS:
            raise ValueError(f"unknown aggregate kind {self.kind!r}")
        if self.kind != "count_star" and self.column is None:
            raise ValueError(f"{self.kind} needs a column")


def _exact_sum(values: list[Any]) -> Any:
    # Integer sums stay exact Python ints (BIGINT); anything with a float is
    # summed with fsum, the correctly rounded sum, so the oracle is the most
    # accurate party and engine error shows up against it.
    if all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        return sum(values)
    return math.fsum(values)


# Each function below takes the window's non-NULL values (after FILTER) and
# states section 3 for one aggregate, its empty window included.


def _count(values: list[Any]) -> int:
    return len(values)  # empty window -> 0


def _count_distinct(values: list[Any]) -> int:
    return len(set(values))


def _sum(values: list[Any]) -> Any:
    return _exact_sum(values) if values else None  # empty or all-NULL -> NULL


def _avg(values: list[Any]) -> Any:
    if not values:
        return None
    # int/int true division is correctly rounded; fsum/len near enough.
    return _exact_sum(values) / len(values)


def _min(values: list[Any]) -> Any:
    return min(values) if values else None


def _max(values: list[Any]) -> Any:
    return max(values) if values else None


#: The oracle's own implementation of each aggregate, by the key that
#: featuresql/aggregates.py names in each entry's `oracle` field
#: (tests/test_aggregates.py checks that every entry has one here).
FUNCTIONS: dict[str, Callable[[list[Any]], Any]] = {
    "count": _count,
    "count_distinct": _count_distinct,
    "sum": _sum,
    "avg": _avg,
    "min": _min,
    "max": _max,
}


def aggregate(agg: Agg, rows: Sequence[Mapping[str, Any]]) -> Any:
    """Evaluate one aggregate over the rows already selected for a window."""
    kept = [r for r in rows if agg.filter is None or agg.filter(r) is True]
    if agg.kind == "count_star":
        return len(kept)  # NULL inputs are counted; empty window -> 0
    assert agg.column is not None
    return FUNCTIONS[agg.kind]([r[agg.column] for r in kept if r.get(agg.column) is not None])


# --------------------------------------------------------------------------
# Features (section 2) and the update log (section 5)
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Feature:
    """A FEATURE file, restated declaratively.

    ``outputs`` maps alias -> expression; column ``<alias>_<window>`` is
    produced for every alias and every window spelling.
    """

    keys: tuple[str, ...]
    windows: tuple[str, ...]
    aggs: Mapping[str, Agg]
    outputs: Mapping[str, OutputFn]
    where: Optional[Predicate] = None
    time_col: str = "event_time"

    def columns(self) -> list[str]:
        return [f"{alias}_{w}" for alias in self.outputs for w in self.windows]


def _key_of(row: Mapping[str, Any], keys: Sequence[str]) -> tuple[Any, ...]:
    return tuple(row.get(k) for k in keys)


def _usable(event: Mapping[str, Any], keys: Sequence[str], time_col: str, where: Optional[Predicate]) -> bool:
    """Section 4 plus WHERE: non-NULL time, non-NULL keys, WHERE is TRUE."""
    if event.get(time_col) is None:
        return False
    if any(event.get(k) is None for k in keys):
        return False
    return where is None or where(event) is True


def window_rows(
    events: Iterable[Mapping[str, Any]],
    keys: Sequence[str],
    k: Sequence[Any],
    t: Time,
    window_ms: Optional[int],
    where: Optional[Predicate] = None,
    time_col: str = "event_time",
) -> list[Mapping[str, Any]]:
    """The events a window holds: same keys, pass WHERE, ``t - w <= time < t``."""
    t_ms = to_ms(t)
    if any(v is None for v in k):
        return []  # a NULL key equals nothing
    out = []
    for e in events:
        if not _usable(e, keys, time_col, where):
            continue
        if any(eq(e.get(col), val) is not True for col, val in zip(keys, k)):
            continue
        et = to_ms(e[time_col])
        if et >= t_ms:  # upper edge exclusive: the event at t is not seen
            continue
        if window_ms is not None and et < t_ms - window_ms:  # lower edge inclusive
            continue
        out.append(e)
    return out


def feature_values(
    events: Iterable[Mapping[str, Any]],
    keys: Sequence[str],
    k: Sequence[Any],
    t: Time,
    window_ms: Optional[int],
    where: Optional[Predicate],
    aggs: Mapping[str, Agg],
    time_col: str = "event_time",
) -> dict[str, Any]:
    """Every aggregate's value for entity ``k`` in window ``w`` as of ``t``."""
    rows = window_rows(events, keys, k, t, window_ms, where, time_col)
    return {name: aggregate(agg, rows) for name, agg in aggs.items()}


def feature_columns(events: Sequence[Mapping[str, Any]], feature: Feature, k: Sequence[Any], t: Time) -> Row:
    """All ``<alias>_<window>`` values of one feature for entity ``k`` at ``t``.

    Each output is computed from its own window's aggregates (section 3).
    """
    t_ms = to_ms(t)
    per_window = {
        w: feature_values(events, feature.keys, k, t_ms, parse_window(w), feature.where, feature.aggs, feature.time_col)
        for w in feature.windows
    }
    return {f"{alias}_{w}": fn(per_window[w], t_ms) for alias, fn in feature.outputs.items() for w in feature.windows}


def _in_range(ms: int, start: Optional[Time | str], end: Optional[Time | str]) -> bool:
    """Half-open ``start <= ms < end``; a missing bound is unbounded."""
    if start is not None and ms < parse_time(start):
        return False
    if end is not None and ms >= parse_time(end):
        return False
    return True


def backfill(
    events: Sequence[Mapping[str, Any]],
    feature: Feature,
    start: Optional[Time | str] = None,
    end: Optional[Time | str] = None,
) -> list[Row]:
    """The per-event update log of section 5.

    One row per usable event in ``[start, end)`` (FILTER clauses do not matter
    here, only WHERE), valued as of ``e.time + 1 ms`` so that ``e`` and its
    same-millisecond peers are inside. History before ``start`` is still seen
    because the window scan looks at all ``events``.
    """
    out: list[Row] = []
    for e in events:
        if not _usable(e, feature.keys, feature.time_col, feature.where):
            continue
        et = to_ms(e[feature.time_col])
        if not _in_range(et, start, end):
            continue
        row: Row = {k: e[k] for k in feature.keys}
        row["event_time"] = e[feature.time_col]
        row.update(feature_columns(events, feature, _key_of(e, feature.keys), et + 1))
        out.append(row)
    return out


# --------------------------------------------------------------------------
# Samples and labels (section 6)
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Label:
    """A SAMPLES label: one output column over ``t < time <= t + h``.

    ``keys`` are the label query's GROUP BY columns; ``output`` receives the
    aggregate values and the spine time ``t``.

    ``null_key_gives_null`` picks what a spine row with a NULL label key gets.
    The contract prescribes all-NULL only for a *feature's* NULL entity; for
    labels, read literally, such a row "has no label events" and so gets the
    empty-window values (the default, False). True instead mirrors the
    feature rule. Kept as an explicit switch because the contract is silent.
    """

    alias: str
    keys: tuple[str, ...]
    horizon: str
    aggs: Mapping[str, Agg]
    output: OutputFn
    where: Optional[Predicate] = None
    time_col: str = "event_time"
    null_key_gives_null: bool = False


def label_value(events: Sequence[Mapping[str, Any]], label: Label, k: Sequence[Any], t: Time) -> Any:
    """The label at spine time ``t`` for label keys ``k``.

    Forward window, lower edge exclusive and upper edge inclusive. A spine row
    whose label key is NULL matches no event (NULL equals nothing), so by the
    "negative samples are kept" rule it gets the empty-window values, unless
    the label opts into the feature rule (see :class:`Label`).
    """
    h_ms = parse_window(label.horizon)
    if h_ms is None:
        raise ValueError("a label horizon cannot be lifetime")
    if label.null_key_gives_null and any(v is None for v in k):
        return None
    t_ms = to_ms(t)
    rows = []
    if not any(v is None for v in k):
        for e in events:
            if not _usable(e, label.keys, label.time_col, label.where):
                continue
            if any(eq(e.get(col), val) is not True for col, val in zip(label.keys, k)):
                continue
            et = to_ms(e[label.time_col])
            if t_ms < et <= t_ms + h_ms:
                rows.append(e)
    values = {name: aggregate(agg, rows) for name, agg in label.aggs.items()}
    return label.output(values, t_ms)


@dataclass(frozen=True)
class FeatureInput:
    """A feature together with the events of its source table."""

    feature: Feature
    events: Sequence[Mapping[str, Any]]


@dataclass(frozen=True)
class LabelInput:
    label: Label
    events: Sequence[Mapping[str, Any]]


def samples(
    spine: Sequence[Mapping[str, Any]],
    spine_columns: Sequence[str],
    features: Sequence[FeatureInput],
    label: Optional[LabelInput] = None,
    start: Optional[Time | str] = None,
    end: Optional[Time | str] = None,
    spine_time_col: str = "event_time",
) -> list[Row]:
    """Point-in-time samples: one row per spine row with non-NULL ``t`` in range.

    Identical spine rows are kept as separate samples. A spine row with a NULL
    in a feature's entity keys gets NULL for all that feature's columns.
    """
    out: list[Row] = []
    for s in spine:
        if s.get(spine_time_col) is None:
            continue
        t_ms = to_ms(s[spine_time_col])
        if not _in_range(t_ms, start, end):
            continue
        row: Row = {c: s.get(c) for c in spine_columns}
        for fi in features:
            k = _key_of(s, fi.feature.keys)
            if any(v is None for v in k):
                row.update({c: None for c in fi.feature.columns()})
            else:
                row.update(feature_columns(fi.events, fi.feature, k, t_ms))
        if label is not None:
            row[label.label.alias] = label_value(label.events, label.label, _key_of(s, label.label.keys), t_ms)
        out.append(row)
    return out


__all__ = [
    "FUNCTIONS",
    "Agg",
    "Feature",
    "FeatureInput",
    "Label",
    "LabelInput",
    "aggregate",
    "backfill",
    "div",
    "eq",
    "feature_columns",
    "feature_values",
    "from_ms",
    "gt",
    "label_value",
    "ne",
    "nullif",
    "parse_time",
    "parse_window",
    "samples",
    "seconds_since",
    "sql_and",
    "sql_not",
    "sql_or",
    "sub",
    "to_ms",
    "window_rows",
]


# --------------------------------------------------------------------------
# Late data (section 7)
# --------------------------------------------------------------------------


def late_flags(rows: Sequence[Mapping[str, Any]], delay_ms: int, time_col: str = "event_time") -> list[bool]:
    """Which rows of a stream, in arrival order, are late.

    The watermark after a row is the largest event time seen so far minus the
    delay; a row whose time is at or below the watermark from before it is
    late. Rows with a NULL time are excluded earlier (section 4): never late,
    and they move nothing.
    """
    flags = []
    largest: Optional[int] = None
    for row in rows:
        value = row.get(time_col)
        if value is None:
            flags.append(False)
            continue
        t = to_ms(value)
        flags.append(largest is not None and t <= largest - delay_ms)
        largest = t if largest is None else max(largest, t)
    return flags
