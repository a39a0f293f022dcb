"""`featuresql replay`: catalog tables' events into their Kafka topics, in event-time order.

The batch files of the chosen tables (Parquet or CSV, read with DuckDB) are
merged into ONE time-ordered sequence, so impressions and engagements arrive
interleaved as they happened; each row goes as a JSON object to its table's
`stream.topic`. Order: event time, then the order the tables were named in,
then file name and row within the file (deterministic for ties).

* JSON values: the catalog's columns, with TIMESTAMP values as
  `yyyy-MM-dd HH:mm:ss.SSS` strings (what Flink's json format reads for
  TIMESTAMP(3) with `json.timestamp-format.standard = SQL`); messages have
  no key. The Kafka message timestamp is the send time, NOT the event time:
  a broker applies time retention (7 days by default) to message timestamps,
  and would delete replayed history within minutes of receiving it.
* Rows with a NULL event time have no place in an event-time order and are
  not sent; they are counted per table in the summary. Other malformed rows
  (a NULL key) are sent as they are, with JSON nulls.
* Pacing: `rate` events/s (0 = as fast as the broker takes them) and/or
  `speedup` (event-time gaps replayed X times faster); with both, the slower
  wins. The producer batches (linger, lz4, idempotent): no flush per row.
* Topics that do not exist are created (`partitions`, default 1: one
  partition keeps the replay order for every reader).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlglot import exp

from featuresql.compile import duckdb as sql
from featuresql.compile.flink_connectors import client_config, redacted
from featuresql.definitions import CatalogTable, StreamBinding
from featuresql.diagnostics import FeaturesqlError
from featuresql.timeutil import parse_instant

if TYPE_CHECKING:
    from featuresql.project import Instant, Project

#: DuckDB's strftime for Flink's SQL timestamp text: millisecond precision, always three digits.
TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S.%g"
_BATCH_ROWS = 50_000
_EPOCH = datetime(1970, 1, 1)
#: librdkafka's own log (it repeats "Connect ... failed" every 50 ms while a broker is away) goes
#: here, silent unless the application configures logging; replay reports the errors itself.
KAFKA_LOG = logging.getLogger("featuresql.kafka")
KAFKA_LOG.addHandler(logging.NullHandler())


@dataclass
class TopicTotals:
    """What one table sent to its topic."""

    table: str
    topic: str
    events: int = 0
    failed: int = 0
    first_ms: int | None = None
    last_ms: int | None = None
    null_time: int = 0  # rows in the files with a NULL event time: not sent
    first_error: str = ""

    @property
    def delivered(self) -> int:
        return self.events - self.failed


@dataclass
class ReplaySummary:
    bootstrap: str
    topics: list[TopicTotals]
    seconds: float = 0.0  # the whole replay: ordering (DuckDB) and sending
    order_seconds: float = 0.0  # reading and ordering the files, before the first event is sent
    created: list[str] = field(default_factory=list)
    interrupted: bool = False

    @property
    def events(self) -> int:
        return sum(t.events for t in self.topics)

    @property
    def failed(self) -> int:
        return sum(t.failed for t in self.topics)

    @property
    def events_per_second(self) -> float:
        return self.events / self.seconds if self.seconds > 0 else 0.0

    def describe(self) -> str:
        def when(ms: int | None) -> str:
            return "-" if ms is None else sql.timestamp_text(_EPOCH + timedelta(milliseconds=ms))

        state = " (interrupted)" if self.interrupted else ""
        lines = [f"replay{state}: {self.events:,} events to {self.bootstrap} in {self.seconds:.2f} s "
                 f"({self.events_per_second:,.0f} events/s; reading and ordering took {self.order_seconds:.2f} s)"]
        for t in self.topics:
            line = f"  {t.table} -> topic {t.topic}: {t.delivered:,} delivered"
            if t.failed:
                line += f", {t.failed:,} FAILED ({t.first_error})"
            line += f", event time {when(t.first_ms)} .. {when(t.last_ms)}"
            if t.null_time:
                line += f"; {t.null_time:,} rows with a NULL event time not sent"
            lines.append(line)
        if self.created:
            lines.append(f"  created topics: {', '.join(self.created)}")
        return "\n".join(lines)


# -- what to send -----------------------------------------------------------------------------


def replay_tables(project: "Project", names: Sequence[str] | None = None) -> list[tuple[CatalogTable, StreamBinding]]:
    """The tables to replay with their Kafka bindings: `names` in that order, else every Kafka-bound table."""
    tables = project.tables
    if names:
        chosen = []
        for name in names:
            table = tables.get(name.lower())
            if table is None:
                raise FeaturesqlError(f"unknown table {name}; known tables: {', '.join(t.name for t in tables.values()) or 'none'}")
            if table in chosen:
                raise FeaturesqlError(f"table {table.name} is named twice")
            chosen.append(table)
    else:
        chosen = [t for t in tables.values() if t.stream_binding().is_kafka]
        if not chosen:
            raise FeaturesqlError("no catalog table is bound to Kafka: add 'stream.connector' = 'kafka', "
                                  "'stream.topic' and 'stream.bootstrap' to its WITH options")
    bound = []
    for table in chosen:
        binding = table.stream_binding()
        if not binding.is_kafka:
            raise FeaturesqlError(f"{table.file}: table {table.name} is not bound to Kafka "
                                  "(add 'stream.connector' = 'kafka', 'stream.topic', 'stream.bootstrap')")
        bound.append((table, binding))
    return bound


def _json_value(column_name: str, column_type: exp.DataType) -> str:
    quoted = sql.quote(column_name)
    if column_type.is_type(*exp.DataType.TEMPORAL_TYPES) and not column_type.is_type(exp.DType.DATE, exp.DType.TIME):
        return f"strftime(CAST({quoted} AS TIMESTAMP), '{TIMESTAMP_FORMAT}')"
    if column_type.is_type(exp.DType.DATE):
        return f"strftime({quoted}, '%Y-%m-%d')"
    return f"CAST({quoted} AS {sql.duckdb_type(column_type)})"


def _scan(table: CatalogTable, root: Path) -> tuple[str, str, str]:
    """(table function, file expression, row expression): the order of rows with equal times."""
    if table.format == "parquet":
        pattern = table.data_path if Path(table.data_path).is_absolute() else str((root / table.data_path).resolve())
        scan = (f"read_parquet({sql.sql_literal(pattern)}, union_by_name = true, "
                "filename = '__replay_file', file_row_number = true)")
        return scan, "__replay_file", "file_row_number"
    return sql.scan(table, root), "''", "0"


def _bounds(table: CatalogTable, start: datetime | None, end: datetime | None) -> str:
    time_column = sql.quote(table.time_column)
    where = [f"{time_column} IS NOT NULL"]
    if start is not None:
        where.append(f"{time_column} >= TIMESTAMP '{sql.timestamp_text(start)}'")
    if end is not None:
        where.append(f"{time_column} < TIMESTAMP '{sql.timestamp_text(end)}'")
    return " AND ".join(where)


def replay_query(
    project: "Project", tables: Sequence[CatalogTable], start: datetime | None = None, end: datetime | None = None,
    limit: int | None = None,
) -> str:
    """DuckDB SQL giving (table index, event time in epoch ms, JSON text) in replay order."""
    parts = []
    for index, table in enumerate(tables):
        scan, file_expr, row_expr = _scan(table, project.root)
        pairs = ", ".join(f"{sql.sql_literal(c.name)}, {_json_value(c.name, c.type)}" for c in table.columns)
        parts.append(
            f"SELECT {index} AS __table, epoch_ms(CAST({sql.quote(table.time_column)} AS TIMESTAMP)) AS __t, "
            f"{file_expr} AS __file, {row_expr} AS __row, encode(CAST(json_object({pairs}) AS VARCHAR)) AS __payload\n"
            f"FROM {scan}\nWHERE {_bounds(table, start, end)}"
        )
    union = "\nUNION ALL\n".join(parts)
    limited = f"\nLIMIT {int(limit)}" if limit is not None else ""
    return f"SELECT __table, __t, __payload FROM (\n{union}\n) ORDER BY __t, __table, __file, __row{limited}"


def replay_rows(
    project: "Project", names: Sequence[str] | None = None, start: "Instant | None" = None, end: "Instant | None" = None,
    limit: int | None = None,
) -> list[tuple[str, int, str]]:
    """(topic, event time ms, JSON) in replay order, without a broker (for tests and previews)."""
    from featuresql import runchecks

    bound = replay_tables(project, names)
    lower, upper = _range(start, end)
    con = runchecks.connect()
    for table, _ in bound:
        runchecks.check_data(con, table, project.root)
    rows = con.execute(replay_query(project, [t for t, _ in bound], lower, upper, limit)).fetchall()
    return [(bound[i][1].topic or "", t, payload.decode()) for i, t, payload in rows]


def _range(start: "Instant | None", end: "Instant | None") -> tuple[datetime | None, datetime | None]:
    try:
        lower = parse_instant(start) if start is not None else None
        upper = parse_instant(end) if end is not None else None
    except ValueError as err:
        raise FeaturesqlError(str(err)) from None
    if lower is not None and upper is not None and upper <= lower:
        raise FeaturesqlError(f"--end ({upper}) must be after --start ({lower})")
    return lower, upper


# -- sending ----------------------------------------------------------------------------------


def _producer_settings(bound: list[tuple[CatalogTable, StreamBinding]], bootstrap: str | None,
                       environ: Mapping[str, str] | None) -> dict[str, Any]:
    configs = []
    for table, binding in bound:
        config = client_config(binding, environ)
        if bootstrap:
            config["bootstrap.servers"] = bootstrap
        configs.append(config)
    for (table, _), config in zip(bound[1:], configs[1:]):
        if config != configs[0]:
            raise FeaturesqlError(
                f"table {table.name} is on another broker (or with other credentials) than {bound[0][0].name}: "
                f"replay them separately ({redacted(config)} vs {redacted(configs[0])})"
            )
    return configs[0]


def _ensure_topics(settings: dict[str, Any], topics: list[str], partitions: int) -> list[str]:
    from confluent_kafka import KafkaException
    from confluent_kafka.admin import AdminClient, NewTopic

    admin = AdminClient(settings, logger=KAFKA_LOG)
    try:
        existing = admin.list_topics(timeout=10).topics
    except KafkaException as err:
        raise FeaturesqlError(f"cannot reach Kafka at {settings['bootstrap.servers']}: {err.args[0]}") from None
    missing = sorted({t for t in topics if t not in existing})
    if missing:
        futures = admin.create_topics([NewTopic(t, num_partitions=partitions, replication_factor=-1) for t in missing])
        for topic, future in futures.items():
            try:
                future.result(timeout=30)
            except KafkaException as err:
                if "TOPIC_ALREADY_EXISTS" not in str(err):
                    raise FeaturesqlError(f"cannot create topic {topic}: {err.args[0]}") from None
    return missing


def replay(
    project: "Project",
    names: Sequence[str] | None = None,
    *,
    bootstrap: str | None = None,
    rate: float = 0.0,
    speedup: float | None = None,
    start: "Instant | None" = None,
    end: "Instant | None" = None,
    limit: int | None = None,
    partitions: int = 1,
    progress: bool = False,
    environ: Mapping[str, str] | None = None,
    producer_settings: Mapping[str, Any] | None = None,
) -> ReplaySummary:
    """Send the chosen tables' events, merged in event-time order, to their topics as JSON.

    `bootstrap` overrides the catalog's `stream.bootstrap` (security settings
    still come from the catalog). Returns per-topic totals; a message the
    broker did not take is counted as failed, never dropped silently.
    """
    from confluent_kafka import KafkaError, Producer
    from tqdm import tqdm

    from featuresql import runchecks

    if rate < 0:
        raise FeaturesqlError("--rate must be >= 0 (0 = as fast as possible)")
    if speedup is not None and speedup <= 0:
        raise FeaturesqlError("--speedup must be > 0")
    if limit is not None and limit < 0:
        raise FeaturesqlError("--limit must be >= 0")
    bound = replay_tables(project, names)
    tables = [t for t, _ in bound]
    lower, upper = _range(start, end)
    settings = _producer_settings(bound, bootstrap, environ)
    totals = [TopicTotals(t.name, b.topic or "") for t, b in bound]

    con = runchecks.connect()
    for table, total in zip(tables, totals):
        runchecks.check_data(con, table, project.root)
        scan, _, _ = _scan(table, project.root)
        total.null_time = con.execute(
            f"SELECT count(*) FROM {scan} WHERE {sql.quote(table.time_column)} IS NULL").fetchall()[0][0]
    query = replay_query(project, tables, lower, upper, limit)
    expected = con.execute(f"SELECT count(*) FROM ({query})").fetchall()[0][0]

    summary = ReplaySummary(settings["bootstrap.servers"], totals)
    summary.created = _ensure_topics(settings, [t.topic for t in totals], partitions)

    fatal: list[str] = []

    def on_error(err: KafkaError) -> None:
        if err.fatal() or err.code() == KafkaError._ALL_BROKERS_DOWN:
            fatal.append(str(err))

    by_topic = {t.topic: t for t in totals}

    def on_delivery(err: KafkaError | None, message: Any) -> None:
        if err is not None:  # only errors are reported (delivery.report.only.error)
            total = by_topic[message.topic()]
            total.failed += 1
            total.first_error = total.first_error or str(err)

    producer = Producer({
        **settings,
        "linger.ms": 20,
        "batch.size": 1_000_000,
        "compression.type": "lz4",
        "enable.idempotence": True,  # retries keep the order, and never duplicate
        "queue.buffering.max.messages": 1_000_000,
        "queue.buffering.max.kbytes": 1_048_576,
        "message.timeout.ms": 120_000,
        "delivery.report.only.error": True,
        "error_cb": on_error,
        "on_delivery": on_delivery,
        **(producer_settings or {}),
    }, logger=KAFKA_LOG)
    bar = tqdm(total=expected, unit="ev", unit_scale=True, desc="replay", disable=not progress,
               mininterval=0.5, smoothing=0.05)
    topics = [t.topic for t in totals]
    produce, poll = producer.produce, producer.poll
    paced = rate > 0 or speedup is not None
    sent = 0
    first_t: int | None = None
    origin = began = time.monotonic()
    try:
        # fetchmany hands out Python tuples directly: cheaper than Arrow batches turned into lists.
        result = con.execute(query)
        summary.order_seconds = time.monotonic() - began
        while True:
            rows = result.fetchmany(_BATCH_ROWS)
            if not rows:
                break
            for index, t, payload in rows:
                if paced:
                    if first_t is None:  # the clock starts at the first event, not before the sort
                        first_t, origin = t, time.monotonic()
                    due = sent / rate if rate > 0 else 0.0
                    if speedup is not None:
                        due = max(due, (t - first_t) / 1000.0 / speedup)
                    wait = origin + due - time.monotonic()
                    while wait > 0:
                        poll(min(wait, 0.05))
                        wait = origin + due - time.monotonic()
                topic = topics[index]
                while True:
                    try:
                        produce(topic, payload)
                        break
                    except BufferError:
                        poll(0.05)  # the local queue is full: let librdkafka send
                        if fatal:
                            raise FeaturesqlError(f"Kafka at {summary.bootstrap}: {fatal[0]}") from None
                total = totals[index]
                total.events += 1
                if total.first_ms is None:
                    total.first_ms = t
                total.last_ms = t
                sent += 1
            poll(0)
            bar.update(len(rows))
            if fatal:
                raise FeaturesqlError(f"Kafka at {summary.bootstrap}: {fatal[0]}")
    except KeyboardInterrupt:
        summary.interrupted = True
    finally:
        left = producer.flush(120)
        bar.close()
        summary.seconds = time.monotonic() - began
    if left:
        # Still queued after the flush timeout: not delivered. Spread over topics is unknown; count it once.
        totals[0].failed += left
        totals[0].first_error = totals[0].first_error or f"{left} messages still queued after 120 s"
    if fatal and not summary.interrupted:
        raise FeaturesqlError(f"Kafka at {summary.bootstrap}: {fatal[0]}")
    return summary
