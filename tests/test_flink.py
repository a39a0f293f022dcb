"""The Flink engine against the oracle: the per-event update log (backfill).

Runs on a real local Flink mini-cluster (one per test session: starting a JVM
costs seconds). The data is the property tests' pinned adversarial case (ties,
events exactly on window edges, NULL values, keys and times, duplicates, a
far-past event), written in event-time order in one file: the contract
promises identical rows for events that are not late, and in-order data has
no late events. Late data is the subject of its own tests once the streaming
job counts them.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from oracle import backfill
from test_properties import F, G, PINNED, Case, _bound, _write_data, _write_sql, assert_same_rows

from featuresql import Project
from featuresql.engines import flink

pytestmark = pytest.mark.flink


@pytest.fixture(scope="session")
def flink_env() -> object:
    return flink.environment()


def _in_event_time_order(case: Case) -> Case:
    # NULL times go first: Flink gives them the epoch as rowtime and then filters them out.
    ordered = sorted(case.events, key=lambda e: -1 if e["event_time"] is None else e["event_time"])
    return Case(events=ordered, spine=case.spine, start=case.start, end=case.end, bound_style=case.bound_style)


@pytest.mark.parametrize(("name", "feature", "lead"), [("f", F, ["k", "event_time"]), ("g", G, ["k", "k2", "event_time"])])
def test_flink_backfill_matches_oracle(flink_env: object, tmp_path: Path, name: str, feature: object, lead: list[str]) -> None:
    case = _in_event_time_order(PINNED)
    _write_sql(tmp_path)
    _write_data(tmp_path, case)
    project = Project(tmp_path)
    start, end = _bound(case.start, case.bound_style), _bound(case.end, case.bound_style)
    got = flink.ENGINE.table(project.plan(name), project.root, start, end)
    expected = backfill(case.events, feature, case.start, case.end)
    assert expected, "the pinned case must produce update-log rows"
    assert_same_rows(got, expected, lead, feature.columns())  # type: ignore[attr-defined]
