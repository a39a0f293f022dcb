"""The cheap all-good test in front of the reject CASE never changes a reason (on Flink).

`flink_rejects.kafka_reject` puts a test that no reason applies (one JSON parse
per column) in front of the detailed CASE (`kafka_reasons`, about four parses per
column), so that a good record skips the detailed one. That is only a speed-up
if the two always agree: hypothesis builds batches of Kafka message values of
every shape (good records, NULL members, missing members, members of the wrong
type, nested values, numbers as strings, far-future and unparsable times,
malformed JSON, non-objects, empty and absent values), Flink evaluates both
expressions on each, and they must give the same reason for every record.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from featuresql import Project
from featuresql.compile.flink_rejects import kafka_reasons, kafka_reject
from featuresql.engines import flink

pytestmark = pytest.mark.flink

REPO = Path(__file__).resolve().parent.parent
WRITTEN = datetime(2026, 1, 6, 12, 0, 0)
MISSING = object()

_text = st.one_of(st.sampled_from(["u1", "p7", "click", "", "13", "a'b", "é"]), st.text(max_size=6))
_nested = st.sampled_from([[1], [], {"id": 1}, {}])
_time = st.one_of(
    st.sampled_from(["2026-01-05 12:00:00.000", "2026-01-06 11:59:59.999", "2026-01-07 12:00:00.000",
                     "2026-01-07 12:00:00.001", "2200-01-01 00:00:00.000", "yesterday", "2026-01-05",
                     "2026-01-05T12:00:00"]),
    st.integers(min_value=0, max_value=2 * 10**12),
)
_member = {
    "user_id": _text, "post_id": _text, "author_id": _text, "action": _text,
    "dwell_ms": st.one_of(st.integers(min_value=-10**12, max_value=10**12), st.sampled_from(["120", "abc", "1.5"]),
                          st.floats(allow_nan=False, allow_infinity=False, width=32), st.booleans()),
    "event_time": _time,
}


@st.composite
def _record(draw: st.DrawFn) -> str | None:
    """A message value: mostly JSON objects with each member good, null, missing, nested or of another kind."""
    shape = draw(st.sampled_from(["object"] * 8 + ["absent", "empty", "malformed", "array", "scalar"]))
    if shape == "absent":
        return None
    if shape == "empty":
        return ""
    if shape == "malformed":
        return draw(st.sampled_from(['{"user_id": "u1", "post_id": "p', "\x00not json", "{'a': 1}", "{,}"]))
    if shape == "array":
        return "[1, 2, 3]"
    if shape == "scalar":
        return draw(st.sampled_from(['"just text"', "17", "null", "true"]))
    event: dict[str, object] = {}
    for name, good in _member.items():
        kind = draw(st.sampled_from(["good"] * 12 + ["null", "missing", "nested", "other"]))
        if kind == "good":
            event[name] = draw(good)
        elif kind == "null":
            event[name] = None
        elif kind == "nested":
            event[name] = draw(_nested)
        elif kind == "other":
            event[name] = draw(st.one_of(_text, st.integers(), st.booleans()))
    return json.dumps(event)


def _good() -> str:
    return json.dumps({"user_id": "u1", "post_id": "p1", "author_id": "a1", "action": "click", "dwell_ms": 5,
                       "event_time": "2026-01-05 12:00:00.000"})


@pytest.fixture(scope="module")
def engagements() -> object:
    return Project(REPO).tables["engagements"]


@settings(max_examples=3, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(_record(), min_size=100, max_size=300))
def test_the_all_good_test_never_changes_a_reason(engagements: object, tmp_path: Path, records: list[str | None]) -> None:
    records = [_good(), *records]  # at least one good record in every batch
    # Read from a file, not VALUES: the planner would fold the expressions over literal rows itself.
    folder = tmp_path / uuid.uuid4().hex
    folder.mkdir()
    pq.write_table(pa.table({"id": pa.array(range(len(records)), pa.int32()), "__payload": pa.array(records, pa.string()),
                             "__timestamp": pa.array([WRITTEN] * len(records), pa.timestamp("ms"))}),
                   folder / "records.parquet")
    table = f"records_{uuid.uuid4().hex[:8]}"
    env = flink.environment()
    env.execute_sql(f"CREATE TEMPORARY TABLE {table} (id INT, `__payload` STRING, `__timestamp` TIMESTAMP(3)) "
                    f"WITH ('connector' = 'filesystem', 'path' = '{folder.as_uri()}', 'format' = 'parquet')")
    guarded = kafka_reject(engagements, ("user_id",), 86_400_000)
    detailed = kafka_reasons(engagements, ("user_id",), 86_400_000)
    try:
        with env.execute_sql(f"SELECT id, {guarded} AS guarded, {detailed} AS detailed FROM {table}").collect() as rows:
            got = sorted((row[0], row[1], row[2]) for row in rows)
    finally:
        env.execute_sql(f"DROP TEMPORARY TABLE IF EXISTS {table}")
    assert len(got) == len(records)
    differ = [(records[i], g, d) for i, g, d in got if g != d]
    assert not differ, differ[:5]
    assert got[0][1] is None, "the known good record was rejected"
    assert all(d == "empty message" for i, _, d in got if records[i] is None)
    good = sum(1 for _, g, _ in got if g is None)
    print(f"{len(got)} records: {good} good, {len(got) - good} rejected, the same reason from both")
