"""`featuresql stream`: a feature or samples job running unbounded on Flink.

The job is the same one a bounded run compiles; only its sources differ: they
keep watching the catalog's folders and read new files as they appear. The
output goes straight to `OUT/<features|samples>/<name>/dt=.../` (Flink's
filesystem sink commits files at checkpoints; files still being written are
hidden, so readers never see half a file), and late rows to
`OUT/late/<name>/<source>/`, bad records with their reason to
`OUT/rejected/<name>/<table>/` (docs/semantics.md section 4). A live line shows
events/s, late and rejected records and output rows, read from the
mini-cluster's REST metrics; every record consumed is processed, late or rejected.

Checkpoints and savepoints live in a state folder (`OUT/_state/<name>/`, see
`flink_state`): Ctrl-C or SIGTERM stops the job with a savepoint, a killed job
leaves its checkpoints, and `--resume` continues from the newest of either,
with nothing lost and nothing written twice (sinks commit at checkpoints).
"""

from __future__ import annotations

import json
import re
import signal
import socket
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

from featuresql.compile import flink as sql
from featuresql.diagnostics import FeaturesqlError
from featuresql.engines import flink as engine
from featuresql.engines import run_range
from featuresql.engines.flink_state import Snapshot, StreamState, fingerprint
from featuresql.plan import Plan, SamplesPlan
from featuresql.runchecks import check_tables, connect
from featuresql.timeutil import Instant

#: A stream has no end; its range stops at a date no event reaches.
OPEN_END = "2100-01-01"


@dataclass
class StreamStatus:
    """Counters of a running stream, from Flink's own metrics.

    Records are counted once per table (a table read in several roles is
    consumed once per role by Flink): `consumed` records of the job's tables,
    of which `late` were set aside late and `rejected` as bad; `processed` is
    the rest, what the queries went on with."""

    seconds: float = 0.0
    consumed: int = 0
    late: int = 0
    rejected: int = 0
    rows: int = 0
    events_per_second: float = 0.0
    state: str = "STARTING"
    #: The snapshot this run restored, if it resumed.
    restored: Snapshot | None = None
    #: Seconds from the start of the command until the job ran (restored, when resuming).
    running_after: float | None = None
    #: Where the graceful stop wrote its savepoint (None: cancelled, resume uses the last checkpoint).
    savepoint: str | None = None

    @property
    def events(self) -> int:
        return self.consumed

    @property
    def processed(self) -> int:
        return self.consumed - self.late - self.rejected

    def accounting(self) -> str:
        return (f"consumed {self.consumed:,} = processed {self.processed:,} + late {self.late:,} "
                f"+ rejected {self.rejected:,}")

    def line(self) -> str:
        return (
            f"{self.state.lower():<9} {self.seconds:7.0f} s  events {self.consumed:>10,}  "
            f"({self.events_per_second:,.0f}/s)  late {self.late:>8,}  rejected {self.rejected:>8,}  "
            f"output rows {self.rows:>10,}"
        )


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class _Metrics:
    """Operator counters of one job over the mini-cluster's REST API.

    `counted` are the source tables whose records the run counts, one per table
    (`in_<role>_<table>`, the ones the dead-letter queries read). Flink names
    every filesystem sink operator `StreamingFileWriter`, so sinks are told apart
    by the job plan: a late query selects `__watermark` (its writer follows the
    arrivals view's OVER, in a vertex of its own), a dead-letter query `payload`
    (its `[id]:Calc(select=[...])` is chained to the source, and counted there);
    the output sink is the other writer. A table read in several roles (a samples
    job reads the spine as query points and as label points) has a late writer
    per role, and they set aside the same records: only the writer downstream of
    the counted source counts, found by walking the plan's inputs up to it.
    """

    def __init__(self, port: int, job_id: str, counted: tuple[str, ...] = ()):
        self.base = f"http://127.0.0.1:{port}"
        self.job_id = job_id
        self.counted = counted
        self._writers: dict[str, str] | None = None

    def _get(self, path: str) -> Any:
        with urllib.request.urlopen(self.base + path, timeout=5) as response:
            return json.loads(response.read())

    def _source(self, vertex_name: str) -> str | None:
        head = vertex_name.split(" -> ")[0]
        return next((s for s in self.counted if re.search(rf"(?<!\w){re.escape(s)}(?!\w)", head)), None)

    def _reads_counted(self, vertex: str, names: dict[str, str], inputs: dict[str, list[str]]) -> bool:
        """Whether `vertex` is downstream of a counted source (itself included)."""
        seen: set[str] = set()
        todo = [vertex]
        while todo:
            current = todo.pop()
            if current in seen:
                continue
            seen.add(current)
            if names.get(current, "").startswith("Source:") and self._source(names[current]) is not None:
                return True
            todo += inputs.get(current, [])
        return False

    def _writer_kinds(self, job: dict[str, Any], nodes: list[dict[str, Any]]) -> dict[str, str]:
        """Vertices whose file writer takes late rows ("late": their plan selects `__watermark`,
        after the arrivals view's OVER; "late elsewhere" for a table's other roles), or dead
        letters ("rejected": `payload`, counted at the source)."""
        if self._writers is None:
            names = {str(v["id"]): str(v.get("name", "")) for v in job.get("vertices", [])}
            inputs = {str(n["id"]): [str(i["id"]) for i in n.get("inputs", [])] for n in nodes}
            self._writers = {}
            for node in nodes:
                vertex, description = str(node["id"]), str(node.get("description", ""))
                if "StreamingFileWriter" not in description:
                    continue
                if "__watermark" in description:
                    counted = self._reads_counted(vertex, names, inputs)
                    self._writers[vertex] = "late" if counted else "late elsewhere"
                elif re.search(r" AS `?payload`?[,\]]", description):
                    self._writers[vertex] = "rejected"
        return self._writers

    def read(self) -> tuple[str, int, int, int, int]:
        """(state, records consumed, late, rejected, output rows); zeros while the job starts."""
        job = self._get(f"/jobs/{self.job_id}")
        nodes = self._get(f"/jobs/{self.job_id}/plan")["plan"]["nodes"]
        plan = {str(n["id"]): str(n.get("description", "")) for n in nodes}
        writers = self._writer_kinds(job, nodes)
        consumed = late = rejected = rows = 0
        for vertex in job.get("vertices", []):
            at_source = str(vertex.get("name", "")).startswith("Source:")
            counted = at_source and self._source(str(vertex.get("name", ""))) is not None
            # A dead-letter query reads the source table itself: its Calc is chained to the source.
            calcs: set[str] = set()
            for line in plan.get(vertex["id"], "").split("<br/>"):
                match = re.search(r"\[(\d+)\]:Calc\(select=\[(.*)", line)
                if match and re.search(r" AS `?payload`?[,\]]", match.group(2)):
                    calcs.add(f"Calc[{match.group(1)}].numRecordsOut")
            listed = self._get(f"/jobs/{self.job_id}/vertices/{vertex['id']}/metrics")
            wanted = [
                m["id"] for m in listed
                if (counted and "Source__" in m["id"] and m["id"].endswith(".numRecordsOut"))
                or (counted and m["id"].split(".", 1)[-1] in calcs)
                or (not at_source and m["id"].endswith(".StreamingFileWriter.numRecordsIn"))
            ]
            if not wanted:
                continue
            values = self._get(f"/jobs/{self.job_id}/vertices/{vertex['id']}/metrics?get=" + ",".join(wanted))
            for metric in values:
                value = int(float(metric.get("value", 0)))
                if metric["id"].split(".", 1)[-1] in calcs:
                    rejected += value
                elif metric["id"].endswith(".numRecordsOut"):
                    consumed += value
                elif writers.get(vertex["id"]) == "late":
                    late += value
                elif writers.get(vertex["id"]) is None:
                    rows += value
        return str(job.get("state", "UNKNOWN")), consumed, late, rejected, rows


def _kafka_sink(
    plan: Plan, env: Any, view: str, sink: str, topic: str, bootstrap: str | None, prefix: str,
) -> str:
    """Register the Kafka sink for a stream's rows (typed like the query); returns its INSERT."""
    from featuresql.compile import flink_connectors as connectors

    # Samples are appended; a feature's update log is upserted by its entity.
    table, keys = (plan.spine, None) if isinstance(plan, SamplesPlan) else (plan.source, list(plan.keys))
    binding = table.stream_binding()
    servers = bootstrap or (binding.bootstrap_servers if binding.is_kafka else None)
    if not servers:
        raise FeaturesqlError(f"--kafka-topic needs --kafka-bootstrap (table {table.name} is not bound to Kafka)")
    # The update log is append-only, so it has no upsert key; Flink 2.3 then asks how
    # rows of one entity replace each other. The latest replaces the previous one
    # (2.4 makes this the default again, FLINK-41478).
    env.get_config().set("table.exec.sink.require-on-conflict", "false")
    security = binding if binding.is_kafka else None
    if keys is None:
        options = connectors.kafka_sink_options(topic, servers, prefix, binding=security)
        primary = ""
    else:
        options = connectors.upsert_kafka_sink_options(topic, servers, keys, transactional_prefix=prefix, binding=security)
        primary = ",\n  " + connectors.primary_key_clause(keys)
    columns = engine._flink_columns(env, view)
    column_ddl = ",\n  ".join(f"{sql.quote(n)} {kind}" for n, kind in columns)
    engine._execute(env, f"CREATE TEMPORARY TABLE {sql.quote(sink)} (\n  {column_ddl}{primary}\n) WITH (\n"
                         f"{connectors.with_clause(options)}\n)")
    return f"INSERT INTO {sql.quote(sink)}\nSELECT * FROM {sql.quote(view)}"


def stream(
    plan: Plan,
    root: Path,
    out: Path,
    start: Instant = "1970-01-01",
    checkpoint_interval: str = "10 s",
    monitor_interval: str = "1 s",
    duration: float | None = None,
    report: Callable[[StreamStatus], None] | None = None,
    poll_seconds: float = 2.0,
    kafka_topic: str | None = None,
    kafka_bootstrap: str | None = None,
    state_dir: Path | None = None,
    resume: bool = False,
    stop_timeout: float = 120.0,
) -> StreamStatus:
    """Run `plan` unbounded until Ctrl-C / SIGTERM (or `duration` seconds); return the last counters.

    `root` is the project folder that the catalog's relative paths start from.

    With `kafka_topic` the rows also go to Kafka, exactly once (transactions
    committed at checkpoints): a feature's update log to an upsert-kafka topic
    keyed by its entity (the latest values per entity, what an online store
    loads), samples to an append topic.

    State goes to `state_dir` (default `out/_state/<name>`); `resume` restores
    the newest checkpoint or savepoint there. Stopping (a signal, or the end of
    `duration`) takes a savepoint, which commits everything read so far.
    """
    began = time.monotonic()
    lower, upper = run_range(start, OPEN_END)
    check_tables(connect(), plan.tables(), root)
    job = engine.compile_job(plan, root, lower, upper, monitor=monitor_interval)
    out = out.resolve()
    state = StreamState((state_dir or out / "_state" / job.name).resolve())
    job_fingerprint = fingerprint(job.text())
    prefix, restored = state.open(job.name, job_fingerprint, resume)
    env = engine.environment()
    config = env.get_config()
    port = _free_port()
    # All of these must be set before the first job starts the mini-cluster (this process runs one job).
    config.set("rest.port", str(port))
    config.set("execution.checkpointing.interval", checkpoint_interval)
    # Checkpoints go to files, not the JobManager's memory: that storage fails every
    # checkpoint once an operator's state passes 5 MB (the OVER passes' buffered events
    # of 10,000 users did after 10 s at 10K events/s; bench workload 4), and the job stops.
    config.set("execution.checkpointing.storage", "filesystem")
    config.set("execution.checkpointing.dir", state.checkpoints.as_uri())
    config.set("execution.checkpointing.savepoint-dir", state.savepoints.as_uri())
    # A killed or cancelled job keeps its checkpoints: they are what --resume restores.
    config.set("execution.checkpointing.externalized-checkpoint-retention", "RETAIN_ON_CANCELLATION")
    config.set("execution.checkpointing.num-retained", "2")
    if restored is not None:
        config.set("execution.state-recovery.path", restored.path.as_uri())
    # Kafka sources generate watermarks inside the source (push-down), where an
    # interval of 0 means never: a live stream moves its watermark every 200 ms,
    # so which events are late also depends on timing (docs/semantics.md section 7).
    config.set("pipeline.auto-watermark-interval", "200 ms")
    # A failing job retries a few times, then fails for good (with checkpoints on,
    # Flink's default is to restart forever, and the command would never return).
    config.set("restart-strategy.type", "fixed-delay")
    config.set("restart-strategy.fixed-delay.attempts", "3")
    config.set("restart-strategy.fixed-delay.delay", "5 s")
    # The REST API serves operator metrics it fetched up to this long ago (default 10 s):
    # the accounting line must not miss the records of the last seconds before a stop.
    # Milliseconds, which both the old Long and the newer Duration type of the option read.
    config.set("metrics.fetcher.update-interval", str(_METRICS_FETCH_MS))
    statements, names = engine.add_job(env, job, out / job.kind / job.name, out / "late" / job.name,
                                       out / "rejected" / job.name)
    if kafka_topic:
        statements.add_insert_sql(_kafka_sink(plan, env, engine.output_view(names), f"kafka_{uuid.uuid4().hex[:8]}",
                                              kafka_topic, kafka_bootstrap, prefix))
    try:
        result = statements.execute()
    except Exception as err:
        raise FeaturesqlError(f"Flink could not start the stream: {engine._first_line(err)}") from None
    client = result.get_job_client()
    state.remember(job.name, job_fingerprint, prefix)
    metrics = _Metrics(port, str(client.get_job_id()), tuple(source for _, source, _ in job.rejected))

    stopping = {"now": False}

    def stop(signum: int, frame: FrameType | None) -> None:
        stopping["now"] = True

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    status = StreamStatus(restored=restored)
    running_after: float | None = None
    submitted = time.monotonic()
    last_events, last_time = 0, submitted
    try:
        while not stopping["now"] and (duration is None or time.monotonic() - submitted < duration):
            time.sleep(poll_seconds)
            try:
                job_state, events, late, rejected, rows = metrics.read()
            except (urllib.error.URLError, OSError, ValueError, KeyError):
                continue  # the REST endpoint is still starting
            now = time.monotonic()
            if job_state == "RUNNING" and running_after is None:
                running_after = now - began
            rate = (events - last_events) / max(now - last_time, 1e-9)
            last_events, last_time = events, now
            status = StreamStatus(now - began, events, late, rejected, rows, rate, job_state, restored, running_after)
            if report:
                report(status)
            if job_state in ("FAILED", "CANCELED", "FINISHED"):
                break
    finally:
        # A second Ctrl-C while the savepoint is written must not kill the process.
        for sig in previous:
            signal.signal(sig, signal.SIG_IGN)
        try:
            if status.state not in ("FAILED", "CANCELED", "FINISHED"):
                status = _recount(metrics, status)
                status.savepoint = _stop(client, state, stop_timeout)
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
    if status.state == "FAILED":
        raise FeaturesqlError(f"the stream {job.name} failed; see the Flink log")
    status.state = "STOPPED"
    return status


#: How often the mini-cluster's REST API refreshes the metrics it serves.
_METRICS_FETCH_MS = 1000


def _recount(metrics: _Metrics, status: StreamStatus) -> StreamStatus:
    """The counters once more, after the REST API has refreshed them, for the last line
    (the last poll may be a fetch interval behind what the job consumed)."""
    time.sleep(2 * _METRICS_FETCH_MS / 1000)
    try:
        job_state, events, late, rejected, rows = metrics.read()
    except (urllib.error.URLError, OSError, ValueError, KeyError):
        return status
    if job_state != "RUNNING":
        return status
    status.consumed, status.late, status.rejected, status.rows = events, late, rejected, rows
    return status


def _stop(client: Any, state: StreamState, timeout: float) -> str | None:
    """Stop with a savepoint; returns its path, or None when the job had to be cancelled.

    A savepoint commits the sinks' pending files and transactions, so a stop
    loses nothing; if it fails (or takes longer than `timeout`), the job is
    cancelled: files and transactions since the last checkpoint are then
    discarded, and --resume replays them from that checkpoint.
    """
    from pyflink.java_gateway import get_gateway

    formats = get_gateway().jvm.org.apache.flink.core.execution.SavepointFormatType
    try:
        # PyFlink's own wrapper still calls the 1.x two-argument Java method.
        future = client._j_job_client.stopWithSavepoint(False, state.savepoints.as_uri(), formats.CANONICAL)
        path = str(future.get(int(timeout * 1000), get_gateway().jvm.java.util.concurrent.TimeUnit.MILLISECONDS))
        return path.removeprefix("file:")
    except Exception:
        try:
            client.cancel().result()
        except Exception:
            pass
        return None

