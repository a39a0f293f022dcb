"""The SQL of a stream's own watermark (compile/flink.py `arrivals_view`), without Flink.

A stream judges lateness by the running maximum of arrived event times, kept in
state, per Kafka partition (docs/semantics.md section 7). These tests pin what
the generated statements say; tests/test_stream_recovery.py runs them.
"""

from __future__ import annotations

from pathlib import Path

from featuresql import Project
from featuresql.compile import flink as sql
from featuresql.plan import AggregatePlan
from helpers import EVENTS_CATALOG, GOOD_FEATURE, REPO_ROOT, write_project


def _table(root: Path, catalog: str, name: str):
    write_project(root, catalogs={"events.sql": catalog}, features={"f.sql": GOOD_FEATURE})
    return Project(root).tables[name]


def test_kafka_sources_keep_a_running_maximum_per_partition() -> None:
    table = Project(REPO_ROOT).tables["engagements"]
    statements, names = sql.source_statements(table, REPO_ROOT, monitor="1 s")
    ddl, view = statements
    assert names == ("src_engagements", "in_src_engagements")
    assert "CREATE TEMPORARY TABLE `in_src_engagements`" in ddl
    assert "`__arrival` AS PROCTIME()" in ddl
    assert "`__partition` INT METADATA FROM 'partition' VIRTUAL" in ddl
    assert view.startswith("CREATE TEMPORARY VIEW `src_engagements` AS")
    # With a 5 s delay, the maximum including the row itself gives the same verdicts as the one before it.
    assert ("MAX(`__rowtime`) OVER (PARTITION BY `__partition` ORDER BY `__arrival` "
            "ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) - INTERVAL '0 00:00:05.000' DAY TO SECOND(3) AS `__mark`") in view.replace("\n", " ")


def test_without_a_delay_the_previous_maximum_is_the_watermark(tmp_path: Path) -> None:
    catalog = EVENTS_CATALOG.replace("event_time - INTERVAL '5' SECOND", "event_time")
    table = _table(tmp_path, catalog, "events")
    assert table.watermark_delay_ms == 0
    (ddl, view), _ = sql.source_statements(table, tmp_path, monitor="1 s")
    assert "__partition" not in ddl  # a watched folder: one order for the whole table
    assert "LAG(`__seen`) OVER (ORDER BY `__arrival`) AS `__mark`" in view
    assert "MAX(`__rowtime`) OVER (ORDER BY `__arrival` ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS `__seen`" in view


def test_stream_filters_use_the_mark_and_bounded_runs_flinks_watermark() -> None:
    assert sql.on_time(stream=True) == "(`__mark` IS NULL OR `__rowtime` > `__mark`)"
    assert sql.late(stream=True) == "`__rowtime` <= `__mark`"
    assert "CURRENT_WATERMARK(`__rowtime`)" in sql.on_time() and "__mark" not in sql.on_time()
    project = Project(REPO_ROOT)
    plan = project.plan("user_engagement")
    assert isinstance(plan, AggregatePlan)
    bounded = sql.compile_backfill(plan, REPO_ROOT, *_range())
    streamed = sql.compile_backfill(plan, REPO_ROOT, *_range(), monitor="1 s")
    bounded_text = bounded.text() + "".join(query for _, query in bounded.late)
    streamed_text = streamed.text() + "".join(query for _, query in streamed.late)
    assert "__mark" not in bounded_text and "CURRENT_WATERMARK" in bounded_text
    assert "CURRENT_WATERMARK" not in streamed_text and "`__mark` AS `__watermark`" in streamed_text


def _range():
    from datetime import datetime

    return datetime(2026, 1, 10), datetime(2026, 1, 12)
