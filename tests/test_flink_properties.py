"""Differential property tests: Flink == oracle == DuckDB, with out-of-order arrival.

Hypothesis generates the same adversarial cases as test_properties.py (ties,
events exactly at t - w and at t, NULL values, keys and times, duplicates,
empty windows, far-past history), then shuffles each case's arrival order by
up to 8 s so that some rows arrive within the 5 s watermark delay and some
after it (late). A Flink job costs tens of seconds, so one job runs a whole
batch of cases: case i is moved i hours later and its keys are prefixed with
i, which keeps the cases apart (windows never reach another case's events or
keys) while the watermark carries over harmlessly.

For every case the oracle's late rows (tests/oracle.py, section 7) are taken
out, and then the oracle, DuckDB and Flink must give the same rows; Flink must
also report exactly the oracle's late rows.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from oracle import FeatureInput, LabelInput, backfill, from_ms, late_flags, samples, to_ms
from test_properties import (
    BASE,
    F,
    G,
    HIT,
    SPINE_COLUMNS,
    TOTAL,
    Case,
    _write_data,
    _write_sql,
    assert_same_rows,
    cases,
)

from featuresql import Project
from featuresql.engines import flink

pytestmark = pytest.mark.flink

HOUR = 3_600_000
DELAY = 5_000  # the catalogs' WATERMARK delay
MAX_JITTER = 8_000


@dataclass(frozen=True)
class Arrival:
    """A case with its rows in arrival order."""

    case: Case
    events: list[dict[str, Any]]
    spine: list[dict[str, Any]]


@st.composite
def arrivals(draw: Callable[[Any], Any]) -> Arrival:
    case = draw(cases())

    def shuffled(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        # Arrive in time order give or take up to MAX_JITTER ms; NULL times anywhere.
        jitter = draw(st.lists(st.integers(0, MAX_JITTER), min_size=len(rows), max_size=len(rows)))
        spots = draw(st.lists(st.integers(0, 10**6), min_size=len(rows), max_size=len(rows)))
        keyed = [
            ((r["event_time"] if r["event_time"] is not None else BASE - 10**6 + spots[i]) + jitter[i], i, r)
            for i, r in enumerate(rows)
        ]
        return [r for *_, r in sorted(keyed, key=lambda x: (x[0], x[1]))]

    return Arrival(case, shuffled(case.events), shuffled(case.spine))


def _moved(rows: list[dict[str, Any]], index: int) -> list[dict[str, Any]]:
    out = []
    for r in rows:
        r = dict(r)
        if r["event_time"] is not None:
            r["event_time"] = r["event_time"] + index * HOUR
        if r["k"] is not None:
            r["k"] = f"{index}{r['k']}"
        if r["k2"] is not None:
            r["k2"] = r["k2"] + 100 * index
        out.append(r)
    return out


def _without_late(rows: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    flags = late_flags(rows, DELAY)
    return [r for r, late in zip(rows, flags) if not late], [r for r, late in zip(rows, flags) if late]


@dataclass
class Batch:
    """Several cases in one stream, and the range that covers them all."""

    arrivals: list[Arrival]
    events: list[dict[str, Any]]
    spine: list[dict[str, Any]]
    start: int
    end: int

    @classmethod
    def of(cls, arrivals: list[Arrival]) -> "Batch":
        events = [r for i, a in enumerate(arrivals) for r in _moved(a.events, i)]
        spine = [r for i, a in enumerate(arrivals) for r in _moved(a.spine, i)]
        times = [r["event_time"] for r in events + spine if r["event_time"] is not None]
        start = min(a.case.start + i * HOUR for i, a in enumerate(arrivals))
        # Past every row, so that no event is left out of the stream by the range.
        end = max([a.case.end + i * HOUR for i, a in enumerate(arrivals)] + [t + 1 for t in times]) + 10_000
        return cls(arrivals, events, spine, start, end)

    def case_of(self, t: int) -> int:
        return round((t - BASE) / HOUR)

    def rows_of(self, table: pa.Table, index: int, time_column: str = "event_time") -> pa.Table:
        """The rows of case `index` that its own [start, end) keeps."""
        case = self.arrivals[index].case
        lower, upper = case.start + index * HOUR, case.end + index * HOUR
        keep = [
            self.case_of(to_ms(t)) == index and lower <= to_ms(t) < upper
            for t in table.column(time_column).to_pylist()
        ]
        return table.filter(pa.array(keep, pa.bool_()))


def _expected(arrival: Arrival, index: int, kind: str, name: str) -> list[dict[str, Any]]:
    events, _ = _without_late(_moved(arrival.events, index))
    spine, _ = _without_late(_moved(arrival.spine, index))
    start, end = arrival.case.start + index * HOUR, arrival.case.end + index * HOUR
    if kind == "backfill":
        return backfill(events, {"f": F, "g": G}[name], start, end)
    features = {"s": [F], "s2": [F, G], "pit": [G]}[name]
    label = {"s": HIT, "s2": TOTAL, "pit": None}[name]
    return samples(
        spine, SPINE_COLUMNS, [FeatureInput(f, events) for f in features],
        LabelInput(label, events) if label else None, start, end,
    )  # fmt: skip


SHAPES = {
    "f": ("backfill", ["k", "event_time"], F.columns(), []),
    "g": ("backfill", ["k", "k2", "event_time"], G.columns(), []),
    "s": ("samples", SPINE_COLUMNS, F.columns(), ["hit"]),
    "s2": ("samples", SPINE_COLUMNS, F.columns() + G.columns(), ["total"]),
    "pit": ("samples", SPINE_COLUMNS, G.columns(), []),
}


@pytest.fixture(scope="module")
def project_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    flink.environment()  # one JVM for the whole test session
    root = tmp_path_factory.mktemp("fsql-flink-prop")
    _write_sql(root)
    return root


def _check(root: Path, batch: Batch, name: str) -> None:
    kind, lead, middle, tail = SHAPES[name]
    # The engines read the rows in arrival order (one file per table).
    _write_data(root, Case(batch.events, batch.spine, batch.start, batch.end))
    project = Project(root)
    start, end = from_ms(batch.start), from_ms(batch.end)
    result = flink.run_table(project.plan(name), project.root, start, end)

    # Late rows: exactly the oracle's, per table (every source of a table agrees).
    _, late_events = _without_late(batch.events)
    _, late_spine = _without_late(batch.spine)
    reported = result.late_counts
    assert reported.get("src_events", 0) == len(late_events), reported
    if kind == "samples":
        in_range = [r for r in late_spine if batch.start <= r["event_time"] < batch.end]
        assert reported["spine_spine"] == len(in_range), reported
    late_rows = result.late.get("src_events")
    if late_events:
        assert late_rows is not None
        got = Counter(tuple(sorted((k, v) for k, v in r.items() if k != "__watermark")) for r in late_rows.to_pylist())
        want = Counter(tuple(sorted((k, (from_ms(v) if k == "event_time" else v)) for k, v in r.items())) for r in late_events)
        assert got == want

    # DuckDB over the same rows less the late ones.
    kept_events = [r for r, late in zip(batch.events, late_flags(batch.events, DELAY)) if not late]
    kept_spine = [r for r, late in zip(batch.spine, late_flags(batch.spine, DELAY)) if not late]
    _write_data(root, Case(kept_events, kept_spine, batch.start, batch.end))
    batch_rows = (project.backfill_table if kind == "backfill" else project.samples_table)(name, start, end)

    for index, arrival in enumerate(batch.arrivals):
        expected = _expected(arrival, index, kind, name)
        for engine, table in (("flink", result.table), ("duckdb", batch_rows)):
            try:
                assert_same_rows(batch.rows_of(table, index), expected, lead, middle, tail)
            except BaseException as err:  # say which case and engine, then fail as before
                raise AssertionError(f"{engine}, case {index}: {arrival.case}\n{err}") from None


# Each example is one Flink job over a batch of up to 12 cases.
FLINK_SETTINGS = settings(
    max_examples=2, deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture],
)  # fmt: skip


@pytest.mark.parametrize("name", ["f", "g", "s2", "s", "pit"])
@FLINK_SETTINGS
@given(batch=st.lists(arrivals(), min_size=6, max_size=12).map(Batch.of))
def test_flink_duckdb_and_oracle_agree(project_dir: Path, name: str, batch: Batch) -> None:
    _check(project_dir, batch, name)


def test_late_events_are_dropped_and_counted(project_dir: Path) -> None:
    """An explicit stream: what arrives at or below the watermark is set aside, counted, and absent from every window."""
    t0 = BASE
    rows = [
        (t0 + 10_000, "a"),  # watermark now t0 + 5 s
        (t0 + 6_000, "a"),   # above it: on time, counted in windows
        (t0 + 5_000, "a"),   # exactly at the watermark: late
        (t0 + 1_000, "a"),   # far below: late
        (t0 + 20_000, "a"),  # watermark t0 + 15 s
        (t0 + 15_001, "b"),  # just above: on time
        (t0 + 15_000, "b"),  # exactly at: late
    ]  # fmt: skip
    events = [{"k": k, "k2": 1, "v": 1, "x": 1.0, "cat": "a", "event_time": t} for t, k in rows]
    _write_data(project_dir, Case(events, [], t0, t0 + 60_000))
    project = Project(project_dir)
    result = flink.run_table(project.plan("f"), project.root, from_ms(t0), from_ms(t0 + 60_000))
    assert result.late_counts == {"src_events": 3}
    late = sorted(to_ms(t) for t in result.late["src_events"].column("event_time").to_pylist())
    assert late == [t0 + 1_000, t0 + 5_000, t0 + 15_000]
    watermarks = sorted(to_ms(t) for t in result.late["src_events"].column("__watermark").to_pylist())
    assert watermarks == [t0 + 5_000, t0 + 5_000, t0 + 15_000]
    # The on-time rows only, each with the lifetime count of on-time rows of its key up to it.
    got = sorted((r["k"], to_ms(r["event_time"]), r["n_lifetime"]) for r in result.table.to_pylist())
    assert got == [("a", t0 + 6_000, 1), ("a", t0 + 10_000, 2), ("a", t0 + 20_000, 3), ("b", t0 + 15_001, 1)]
