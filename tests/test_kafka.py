"""A real Kafka broker (scripts/kafka), the confluent-kafka client, and Flink 2.3 reading and writing Kafka.

No mocks: one single-node KRaft broker serves the whole test session (the
`kafka_bootstrap` fixture in conftest.py), and the Flink tests run on the
project's one shared TableEnvironment.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from kafka_support import consume_all, create_topics, producer, unique

from featuresql import connectors, kafka_broker

pytestmark = pytest.mark.kafka

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "kafka"


def test_script_fetch_is_idempotent_and_status_finds_the_session_broker(kafka_session: kafka_broker.Broker) -> None:
    fetched = subprocess.run([sys.executable, str(SCRIPT), "fetch"], capture_output=True, text=True, timeout=60)
    assert fetched.returncode == 0, fetched.stderr
    assert "already cached" in fetched.stderr
    assert len(list(kafka_broker.jar_dir().glob("*.jar"))) == len(kafka_broker.JARS)
    run_dir = Path(kafka_session.run_dir)
    state = subprocess.run([sys.executable, str(SCRIPT), "--run-dir", str(run_dir), "status"],
                           capture_output=True, text=True, timeout=60)
    assert state.returncode == 0, state.stderr
    assert state.stdout.strip() == kafka_session.bootstrap == f"127.0.0.1:{kafka_session.port}"
    assert f"Kafka {kafka_broker.KAFKA_VERSION}" in state.stderr
    nothing = subprocess.run([sys.executable, str(SCRIPT), "--run-dir", str(run_dir / "absent"), "status"],
                             capture_output=True, text=True, timeout=60)
    assert (nothing.returncode, nothing.stdout) == (1, "")


def test_start_refuses_a_busy_port_and_a_second_broker_in_one_run_dir(kafka_session: kafka_broker.Broker,
                                                                      tmp_path: Path) -> None:
    with pytest.raises(kafka_broker.KafkaError, match=f"port {kafka_session.port} on 127.0.0.1 is not free"):
        kafka_broker.start(port=kafka_session.port, run_dir=tmp_path / "second")
    assert not (tmp_path / "second").exists()
    with pytest.raises(kafka_broker.KafkaError, match="already running at " + kafka_session.bootstrap):
        kafka_broker.start(run_dir=Path(kafka_session.run_dir))
    assert kafka_broker.status(Path(kafka_session.run_dir)) == kafka_session


def test_broker_serves_metadata(kafka_bootstrap: str) -> None:
    port = int(kafka_bootstrap.rsplit(":", 1)[1])
    assert kafka_broker._metadata_brokers(port) == [(1, "127.0.0.1", port)]


def test_produce_and_consume_keyed_messages_in_order(kafka_bootstrap: str) -> None:
    topic = unique("plain")
    create_topics(kafka_bootstrap, topic)
    sent = [(f"user{i % 3}".encode(), json.dumps({"i": i, "v": i * 1.5}).encode()) for i in range(50)]
    out = producer(kafka_bootstrap, **{"enable.idempotence": True})
    for key, value in sent:
        out.produce(topic, value=value, key=key, headers={"source": b"test"})
    assert out.flush(30) == 0
    got = consume_all(kafka_bootstrap, topic, isolation="read_uncommitted")
    assert [(m.key(), m.value()) for m in got] == sent
    assert [m.offset() for m in got] == list(range(50))
    assert all(m.headers() == [("source", b"test")] for m in got)


def test_read_committed_consumer_skips_aborted_transactions(kafka_bootstrap: str) -> None:
    topic = unique("txn")
    create_topics(kafka_bootstrap, topic)
    out = producer(kafka_bootstrap, **{"transactional.id": unique("tx")})
    out.init_transactions(30)

    def transaction(values: list[bytes], commit: bool) -> None:
        out.begin_transaction()
        for value in values:
            out.produce(topic, value=value)
        out.flush(30)  # the aborted records really reach the log before the abort marker
        (out.commit_transaction if commit else out.abort_transaction)(30)

    transaction([b"a", b"b"], commit=True)
    transaction([b"x", b"y"], commit=False)
    transaction([b"c"], commit=True)
    transaction([b"z"], commit=False)

    committed = consume_all(kafka_bootstrap, topic, isolation="read_committed")
    assert [m.value() for m in committed] == [b"a", b"b", b"c"]
    everything = consume_all(kafka_bootstrap, topic, isolation="read_uncommitted")
    assert [m.value() for m in everything] == [b"a", b"b", b"x", b"y", b"c", b"z"]
    # Control records (commit/abort markers) take offsets too: a, b, [commit], x, y, [abort], c, ...
    assert [m.offset() for m in committed] == [0, 1, 6]


def test_kafka_connector_jar_is_pinned_and_fetched() -> None:
    (jar,) = connectors.JARS["kafka"]
    assert jar.coordinates == "org.apache.flink:flink-sql-connector-kafka:5.0.0-2.2"
    path = connectors.ensure(jar)
    assert path.stat().st_size == 10_666_527
    assert connectors.is_cached(jar)


# ---------------------------------------------------------------- Flink


@pytest.fixture(scope="module")
def flink_env() -> Any:
    from featuresql.engines import flink

    return flink.environment()


@contextmanager
def job_settings(env: Any, settings: dict[str, str]) -> Iterator[None]:
    """Set options for the jobs submitted inside the block, then restore them: the environment is shared."""
    configuration = env.get_config().get_configuration()
    before = {key: configuration.get_string(key, "") if configuration.contains_key(key) else None for key in settings}
    for key, value in settings.items():
        env.get_config().set(key, value)
    try:
        yield
    finally:
        for key, value in before.items():
            if value is None:
                configuration.remove_config(key)
            else:
                env.get_config().set(key, value)


EVENTS = [  # (user_id, amount, event time); one out of order, within the watermark's 1 s bound
    ("a", 1.5, "2026-01-10 00:00:01.000"),
    ("b", 2.0, "2026-01-10 00:00:30.000"),
    ("a", 3.0, "2026-01-10 00:00:59.999"),
    ("a", 4.0, "2026-01-10 00:01:00.000"),
    ("a", 0.5, "2026-01-10 00:00:59.500"),
    ("b", 5.0, "2026-01-10 00:02:10.500"),
    ("c", 7.0, "2026-01-10 00:02:59.999"),
]
EXPECTED = {  # per user and one-minute tumbling window of event time: (sum, count, last event)
    ("a", "2026-01-10 00:00:00"): (5.0, 3, "2026-01-10 00:00:59.999"),
    ("b", "2026-01-10 00:00:00"): (2.0, 1, "2026-01-10 00:00:30"),
    ("a", "2026-01-10 00:01:00"): (4.0, 1, "2026-01-10 00:01:00"),
    ("b", "2026-01-10 00:02:00"): (5.0, 1, "2026-01-10 00:02:10.5"),
    ("c", "2026-01-10 00:02:00"): (7.0, 1, "2026-01-10 00:02:59.999"),
}


@pytest.mark.flink
@pytest.mark.parametrize("guarantee", ["at-least-once", "exactly-once"])
def test_flink_reads_and_writes_kafka(flink_env: Any, kafka_bootstrap: str, guarantee: str) -> None:
    source_topic, sink_topic = unique("events"), unique("windows")
    create_topics(kafka_bootstrap, source_topic, sink_topic)
    out = producer(kafka_bootstrap)
    for user, amount, at in EVENTS:
        out.produce(source_topic, key=user.encode(), value=json.dumps({"user_id": user, "amount": amount, "ts": at}))
    assert out.flush(30) == 0

    source, sink = unique("kafka_source"), unique("kafka_sink")
    delivery = f"'sink.delivery-guarantee' = '{guarantee}'"
    if guarantee == "exactly-once":
        delivery += (
            f",\n  'sink.transactional-id-prefix' = '{unique('fsq')}'"
            # The connector's default (1 h) exceeds the broker's transaction.max.timeout.ms (15 min):
            # the producer would fail at InitProducerId and the job restart forever.
            ",\n  'properties.transaction.timeout.ms' = '900000'"
        )
    try:
        flink_env.execute_sql(f"""
            CREATE TEMPORARY TABLE `{source}` (
              user_id STRING, amount DOUBLE, ts TIMESTAMP(3),
              WATERMARK FOR ts AS ts - INTERVAL '1' SECOND
            ) WITH (
              'connector' = 'kafka', 'topic' = '{source_topic}',
              'properties.bootstrap.servers' = '{kafka_bootstrap}',
              'properties.group.id' = '{unique("flink")}',
              'scan.startup.mode' = 'earliest-offset', 'scan.bounded.mode' = 'latest-offset',
              'format' = 'json', 'json.fail-on-missing-field' = 'true'
            )""")
        flink_env.execute_sql(f"""
            CREATE TEMPORARY TABLE `{sink}` (
              user_id STRING, window_start TIMESTAMP(3), total DOUBLE, events BIGINT, last_ts TIMESTAMP(3)
            ) WITH (
              'connector' = 'kafka', 'topic' = '{sink_topic}',
              'properties.bootstrap.servers' = '{kafka_bootstrap}',
              'key.format' = 'json', 'key.fields' = 'user_id', 'value.format' = 'json',
              {delivery}
            )""")
        # Exactly-once commits on checkpoints: a short interval, and a failure fails the job
        # (with checkpointing on, Flink otherwise restarts a failing job without end).
        with job_settings(flink_env, {"execution.checkpointing.interval": "1 s", "restart-strategy.type": "none"}):
            result = flink_env.execute_sql(f"""
                INSERT INTO `{sink}`
                SELECT user_id, window_start, SUM(amount), COUNT(*), MAX(ts)
                FROM TABLE(TUMBLE(TABLE `{source}`, DESCRIPTOR(ts), INTERVAL '1' MINUTE))
                GROUP BY user_id, window_start, window_end""")
            try:
                result.wait(240_000)
            except Exception:
                result.get_job_client().cancel().result()
                raise
    finally:
        for table in (source, sink):
            flink_env.execute_sql(f"DROP TEMPORARY TABLE IF EXISTS `{table}`")

    messages = consume_all(kafka_bootstrap, sink_topic, isolation="read_committed")
    rows = [json.loads(m.value()) for m in messages]
    got = {(r["user_id"], r["window_start"]): (r["total"], r["events"], r["last_ts"]) for r in rows}
    assert len(rows) == len(EXPECTED)
    assert got == EXPECTED
    assert [json.loads(m.key()) for m in messages] == [{"user_id": r["user_id"]} for r in rows]
    if guarantee == "exactly-once":
        # Transactional: a read_uncommitted reader sees the same rows (no aborted attempts).
        assert len(consume_all(kafka_bootstrap, sink_topic, isolation="read_uncommitted")) == len(EXPECTED)
