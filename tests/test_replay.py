"""`featuresql replay`: the example data into Kafka, merged in event-time order.

The first tests read what would be sent without a broker (`replay_rows`); the
`kafka` ones send it to the session's real broker and consume it back.
"""

from __future__ import annotations

import json
import re
import time
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from featuresql import Project
from featuresql.cli import main
from featuresql.datagen import generate
from featuresql.diagnostics import FeaturesqlError
from featuresql.replay import replay, replay_rows
from helpers import copy_example_project
from kafka_support import consume_all, unique

SQL_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3}$")
EPOCH = datetime(1970, 1, 1)


def bind_topics(root: Path, **topics: str) -> None:
    """Point the copied example catalogs at other topics (the session broker is shared by all tests)."""
    for table, topic in topics.items():
        path = root / "catalogs" / f"{table}.sql"
        text = path.read_text()
        assert f"'stream.topic' = '{table}'" in text
        path.write_text(text.replace(f"'stream.topic' = '{table}'", f"'stream.topic' = '{topic}'"))


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example project with a small generated dataset: ~3,000 events over one day, a few malformed."""
    root = copy_example_project(tmp_path_factory.mktemp("replay"))
    generate(root / "data", events=3_000, days=1)
    return root


def expected_rows(root: Path, table: str, where: str = "TRUE") -> list[dict]:
    """The table's rows with an event time, in event-time order, read independently with DuckDB."""
    con = duckdb.connect()
    result = con.execute(
        f"SELECT * FROM read_parquet('{root}/data/{table}/*.parquet') "
        f"WHERE event_time IS NOT NULL AND {where} ORDER BY event_time")
    names = [d[0] for d in result.description]
    return [dict(zip(names, row)) for row in result.fetchall()]


def as_json_row(row: dict) -> dict:
    return {k: (v.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3] if isinstance(v, datetime) else v) for k, v in row.items()}


# -- what is sent (no broker) -----------------------------------------------------------------


def test_tables_are_merged_into_one_event_time_order(small: Path) -> None:
    rows = replay_rows(Project(small))
    impressions, engagements = expected_rows(small, "impressions"), expected_rows(small, "engagements")
    assert len(rows) == len(impressions) + len(engagements)
    assert {topic for topic, _, _ in rows} == {"impressions", "engagements"}
    times = [t for _, t, _ in rows]
    assert times == sorted(times)
    # Interleaved, not one table after the other.
    topics = [topic for topic, _, _ in rows]
    assert topics.index("engagements") < len(topics) - topics[::-1].index("impressions") - 1
    # Each message's time is the event_time inside it.
    for _, t, payload in rows[:50]:
        value = json.loads(payload)["event_time"]
        assert SQL_TIMESTAMP.match(value)
        assert datetime.strptime(value, "%Y-%m-%d %H:%M:%S.%f") == EPOCH + timedelta(milliseconds=t)


def test_json_values_are_the_catalog_columns(small: Path) -> None:
    rows = replay_rows(Project(small))
    sent = {topic: [json.loads(p) for tp, _, p in rows if tp == topic] for topic in ("impressions", "engagements")}
    for table in ("impressions", "engagements"):
        expected = [as_json_row(r) for r in expected_rows(small, table)]
        got = sent[table]
        assert list(got[0]) == list(expected[0])  # the catalog's column order
        # Ties in event time may come in either order in `expected`: compare as multisets, then a few in place.
        assert sorted(map(json.dumps, got)) == sorted(map(json.dumps, expected))
        assert [r["event_time"] for r in got] == [r["event_time"] for r in expected]
    first = sent["impressions"][0]
    assert isinstance(first["position"], int) and first["impression_id"].startswith("i")
    # Malformed rows with a NULL user but an event time are sent, as JSON null.
    assert any(r["user_id"] is None for table in sent.values() for r in table)


def test_slice_and_limit(small: Path) -> None:
    project = Project(small)
    everything = replay_rows(project)
    start, end = "2026-01-05 06:00", "2026-01-05 09:30:00"
    sliced = replay_rows(project, start=start, end=end)
    low, high = (int((datetime.fromisoformat(x) - EPOCH).total_seconds() * 1000) for x in (start, end))
    assert sliced == [r for r in everything if low <= r[1] < high] and sliced
    assert replay_rows(project, limit=25) == everything[:25]
    assert replay_rows(project, ["engagements"], limit=10) == [r for r in everything if r[0] == "engagements"][:10]


def test_bad_requests_are_clear_errors(small: Path, tmp_path: Path) -> None:
    project = Project(small)
    with pytest.raises(FeaturesqlError, match="unknown table nope; known tables: engagements, impressions"):
        replay_rows(project, ["nope"])
    with pytest.raises(FeaturesqlError, match="must be after"):
        replay_rows(project, start="2026-01-06", end="2026-01-05")
    unbound = copy_example_project(tmp_path / "unbound")
    for table in ("impressions", "engagements"):
        path = unbound / "catalogs" / f"{table}.sql"
        text = re.sub(r",\n  --[^\n]*\n  'stream\.connector'.*?'localhost:9092'", "", path.read_text(), flags=re.S)
        path.write_text(text)
    assert Project(unbound).validate() == []
    with pytest.raises(FeaturesqlError, match="no catalog table is bound to Kafka"):
        replay_rows(Project(unbound))
    with pytest.raises(FeaturesqlError, match="table impressions is not bound to Kafka"):
        replay_rows(Project(unbound), ["impressions"])


# -- into a real broker -----------------------------------------------------------------------


@pytest.mark.kafka
def test_replay_into_kafka_and_read_it_back(small: Path, kafka_bootstrap: str, tmp_path: Path) -> None:
    root = copy_example_project(tmp_path / "p")
    (root / "data").symlink_to(small / "data")
    topics = {"impressions": unique("impressions"), "engagements": unique("engagements")}
    bind_topics(root, **topics)
    project = Project(root)
    planned = replay_rows(project)

    summary = replay(project, bootstrap=kafka_bootstrap)

    assert summary.failed == 0 and not summary.interrupted
    assert sorted(summary.created) == sorted(topics.values())
    by_table = {t.table: t for t in summary.topics}
    for table, topic in topics.items():
        want = [(t, payload) for tp, t, payload in planned if tp == topic]
        got = consume_all(kafka_bootstrap, topic)
        assert by_table[table].delivered == len(want) == len(got) == len(expected_rows(small, table))
        # Same messages in the same (event-time) order.
        assert [m.value().decode() for m in got] == [payload for _, payload in want]
        # Stamped with the send time: a stamp months old would fall to the broker's time retention.
        assert all(m.timestamp()[1] > time.time() * 1000 - 600_000 for m in got)
        assert [m.offset() for m in got] == list(range(len(got)))
        assert by_table[table].first_ms == want[0][0] and by_table[table].last_ms == want[-1][0]
    # The NULL-event-time rows were not sent and are counted.
    null_time = duckdb.connect().execute(
        f"SELECT count(*) FROM read_parquet('{small}/data/*/*.parquet', union_by_name = true) WHERE event_time IS NULL"
    ).fetchall()[0][0]
    assert null_time > 0 and sum(t.null_time for t in summary.topics) == null_time
    # A few field values, read back from Kafka.
    first_click = next(json.loads(m.value()) for m in consume_all(kafka_bootstrap, topics["engagements"])
                       if json.loads(m.value())["action"] == "click")
    row = next(r for r in expected_rows(small, "engagements") if r["action"] == "click")
    assert first_click == as_json_row(row)


@pytest.mark.kafka
def test_replay_command_paces_slices_and_reports_per_topic(small: Path, kafka_bootstrap: str, tmp_path: Path) -> None:
    root = copy_example_project(tmp_path / "p")
    (root / "data").symlink_to(small / "data")
    topics = {"impressions": unique("impressions"), "engagements": unique("engagements")}
    bind_topics(root, **topics)
    began = time.monotonic()
    result = CliRunner().invoke(main, ["replay", "--project", str(root), "--bootstrap", kafka_bootstrap,
                                       "--rate", "400", "--limit", "200", "--start", "2026-01-05 08:00"],
                                catch_exceptions=False)
    elapsed = time.monotonic() - began
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"replay: 200 events to {kafka_bootstrap} in ")
    got = {table: consume_all(kafka_bootstrap, topic) for table, topic in topics.items()}
    assert sum(len(v) for v in got.values()) == 200
    for table, messages in got.items():
        assert f"{table} -> topic {topics[table]}: {len(messages):,} delivered" in result.output
        assert all(json.loads(m.value())["event_time"] >= "2026-01-05 08:00:00.000" for m in messages)
    assert elapsed >= 199 / 400  # 200 events at 400/s take about half a second to send


# -- Flink reads the replayed topics with the options of compile/flink_connectors -------------


@pytest.mark.kafka
@pytest.mark.flink
def test_flink_reads_replayed_topics_and_writes_both_sinks(small: Path, kafka_bootstrap: str, tmp_path: Path) -> None:
    from featuresql.compile.flink import source_ddl
    from featuresql.compile.flink_connectors import kafka_sink_options, primary_key_clause, \
        upsert_kafka_sink_options, with_clause
    from featuresql.engines import flink

    root = copy_example_project(tmp_path / "p")
    (root / "data").symlink_to(small / "data")
    topics = {"impressions": unique("impressions"), "engagements": unique("engagements")}
    bind_topics(root, **topics)
    project = Project(root)
    replay(project, bootstrap=kafka_bootstrap)
    env = flink.environment()

    names = {table: unique(f"src_{table}") for table in topics}
    samples_topic, counts_topic = unique("imp_out"), unique("user_counts")
    sink, upsert = unique("append_sink"), unique("upsert_sink")
    statements = []
    for table, name in names.items():
        # The stream's own source table (raw value parsed in SQL, `__reject`), bounded at the topic's end.
        ddl = source_ddl(project.tables[table], root, monitor="1 s", name=name)
        ddl = ddl.replace("'localhost:9092'", f"'{kafka_bootstrap}'")  # the catalog says localhost:9092
        ddl = re.sub(r"'properties.group.id' = '[^']*'", f"'properties.group.id' = '{unique('flink')}', "
                     "'scan.bounded.mode' = 'latest-offset'", ddl)
        assert "'scan.bounded.mode'" in ddl and kafka_bootstrap in ddl
        statements.append(ddl)
    statements.append(
        f"CREATE TEMPORARY TABLE `{sink}` (impression_id STRING, user_id STRING, event_time TIMESTAMP(3)) WITH (\n"
        + with_clause(kafka_sink_options(samples_topic, kafka_bootstrap, unique("fsq"), key_fields=["impression_id"]))
        + "\n)")
    statements.append(
        f"CREATE TEMPORARY TABLE `{upsert}` (user_id STRING NOT NULL, events BIGINT, last_time TIMESTAMP(3), "
        f"{primary_key_clause(['user_id'])}) WITH (\n"
        + with_clause(upsert_kafka_sink_options(counts_topic, kafka_bootstrap, ["user_id"], transactional_prefix=unique("fsq")))
        + "\n)")
    try:
        for statement in statements:
            env.execute_sql(statement)
        # Exactly-once sinks commit on checkpoints; a failure must fail the job, not restart it forever.
        configuration = env.get_config().get_configuration()
        saved = {k: configuration.get_string(k, "") if configuration.contains_key(k) else None
                 for k in ("execution.checkpointing.interval", "restart-strategy.type")}
        env.get_config().set("execution.checkpointing.interval", "1 s")
        env.get_config().set("restart-strategy.type", "none")
        try:
            job = env.create_statement_set()
            job.add_insert_sql(f"INSERT INTO `{sink}` SELECT impression_id, user_id, event_time FROM `{names['impressions']}` "
                               "WHERE __reject IS NULL")
            job.add_insert_sql(
                f"INSERT INTO `{upsert}` SELECT user_id, COUNT(*), MAX(event_time) FROM `{names['engagements']}` "
                "WHERE __reject IS NULL AND user_id IS NOT NULL GROUP BY user_id")
            result = job.execute()
            try:
                result.wait(240_000)
            except Exception:
                result.get_job_client().cancel().result()
                raise
        finally:
            for key, value in saved.items():
                if value is None:
                    configuration.remove_config(key)
                else:
                    env.get_config().set(key, value)
    finally:
        for name in (*names.values(), sink, upsert):
            env.execute_sql(f"DROP TEMPORARY TABLE IF EXISTS `{name}`")

    impressions = [as_json_row(r) for r in expected_rows(small, "impressions")]
    assert len(consume_all(kafka_bootstrap, samples_topic, isolation="read_uncommitted")) == len(impressions)
    written = [json.loads(m.value()) for m in consume_all(kafka_bootstrap, samples_topic, timeout=90)]
    # Flink's JSON writes TIMESTAMP(3) without trailing zeros: compare parsed times.
    def parsed(text: str) -> datetime:
        return datetime.fromisoformat(text)

    assert sorted((r["impression_id"], r["user_id"], parsed(r["event_time"])) for r in written) == sorted(
        (r["impression_id"], r["user_id"], parsed(r["event_time"])) for r in impressions)

    latest: dict[str, dict] = {}
    for message in consume_all(kafka_bootstrap, counts_topic):
        key = json.loads(message.key())["user_id"]
        if message.value() is None:
            latest.pop(key, None)
        else:
            latest[key] = json.loads(message.value())
    con = duckdb.connect()
    expected = con.execute(
        f"SELECT user_id, count(*), max(event_time) FROM read_parquet('{small}/data/engagements/*.parquet') "
        "WHERE event_time IS NOT NULL AND user_id IS NOT NULL GROUP BY user_id").fetchall()
    assert {k: (v["events"], parsed(v["last_time"])) for k, v in latest.items()} == {
        user: (n, last) for user, n, last in expected}
