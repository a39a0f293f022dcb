"""Workload 3: the generated Flink job against a hand-written Flink SQL job.

Both arms read the same staged Parquet file (the bench feature's events, in
event-time order; see `stage`), run on a local mini-cluster at parallelism 2,
and write to a `blackhole` sink, so the sink costs nothing. Each process first
starts the mini-cluster and runs one trivial job; that start-up (JVM + first
job submission) is reported on its own (`startup_seconds`) and not timed.
The timed part is planning, submitting and running the job to its end.

The generated arm is what `featuresql backfill --engine flink` runs for the
bench feature (`compile_job`): its source DDL with the COALESCE rowtime, the
late-row filter, the nested OVER passes, the output expressions, and its
late-row query (which `backfill` writes to a side sink; here a blackhole too).

The hand-written arm is what an engineer would write in Flink SQL for the same
32 columns. One OVER per window length in one SELECT is rejected by Flink 2.3
("All aggregates must be computed on the same window"), and sibling OVER
subqueries that differ only in the RANGE length are silently merged
(CALCITE-6632), so the straightforward correct spelling is nested too: one
`SELECT *, aggregates OVER w` per window, the WATERMARK on `event_time` itself,
no late-row filter and no side output.

For the agreement check, the first run of each arm (the warm-up) also runs its
job once more into Parquet, after the clock stops. With BENCH_JFR=/path/prefix set,
each timed run is recorded with JFR (`python -m bench.jfr_top FILE` summarises it).
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa

from bench.arms import END, START, table
from bench.arms.handwritten import LONGEST_MS, WINDOWS

FEATURE = "bench_user"
PARALLELISM = 2
#: The staged input, under the dataset's folder: one file, as `featuresql backfill --engine flink` stages it.
STAGED = Path("flink") / "impressions"


def stage(root: Path) -> tuple[Path, int]:
    """The bench feature's input events as one Parquet file in event-time order; (folder, events with a user).

    Event-time order, not the catalog's arrival order: then no event is late, so the
    generated job (which sets late rows aside) and the hand-written one (whose OVERs
    drop late rows by rules of their own) see the same events and must agree row for row,
    with each other and with DuckDB's update log. Written once per dataset.
    """
    import duckdb

    folder = (root / STAGED).resolve()
    target = folder / "events.parquet"
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    if not target.exists():
        folder.mkdir(parents=True, exist_ok=True)
        temp = folder / ".events.parquet.tmp"
        # The catalog's types exactly (Flink's Parquet reader does not widen), timestamps in ms.
        con.execute(
            f"COPY (SELECT CAST(impression_id AS VARCHAR) AS impression_id, CAST(user_id AS VARCHAR) AS user_id, "
            f"CAST(post_id AS VARCHAR) AS post_id, CAST(author_id AS VARCHAR) AS author_id, "
            f"CAST(position AS INTEGER) AS position, CAST(event_time AS TIMESTAMP_MS) AS event_time "
            f"FROM read_parquet('{table(root, 'impressions')}') "
            f"WHERE event_time IS NOT NULL AND event_time >= TIMESTAMP '{START}' - INTERVAL {LONGEST_MS} MILLISECONDS "
            f"AND event_time < TIMESTAMP '{END}' ORDER BY event_time) TO '{temp}' (FORMAT parquet)"
        )
        temp.replace(target)
    events = con.execute(f"SELECT count(*) FROM read_parquet('{target}') WHERE user_id IS NOT NULL").fetchall()[0][0]
    return folder, int(events)


def _environment() -> Any:
    os.environ["FEATURESQL_FLINK_PARALLELISM"] = str(PARALLELISM)
    from featuresql.engines import flink as engine

    return engine.environment()


def start_cluster() -> tuple[Any, float]:
    """The mini-cluster, started by a trivial job; (environment, seconds for JVM + first job)."""
    began = time.perf_counter()
    env = _environment()
    env.execute_sql("CREATE TEMPORARY TABLE `startup_sink` (x INT) WITH ('connector' = 'blackhole')")
    env.execute_sql("INSERT INTO `startup_sink` VALUES (1)").wait()
    return env, time.perf_counter() - began


def _blackhole_statements(env: Any, queries: list[str]) -> Any:
    """A statement set writing each query to a blackhole sink typed like it."""
    from featuresql.compile import flink as sql
    from featuresql.engines import flink as engine

    statements = env.create_statement_set()
    for i, query in enumerate(queries):
        view, sink = f"bench_view_{i}", f"bench_sink_{i}"
        env.execute_sql(f"CREATE TEMPORARY VIEW {sql.quote(view)} AS\n{query}")
        columns = engine._flink_columns(env, view)
        ddl = ",\n  ".join(f"{sql.quote(n)} {kind}" for n, kind in columns)
        env.execute_sql(f"CREATE TEMPORARY TABLE {sql.quote(sink)} (\n  {ddl}\n) WITH ('connector' = 'blackhole')")
        statements.add_insert_sql(f"INSERT INTO {sql.quote(sink)} SELECT * FROM {sql.quote(view)}")
    return statements


def _parquet_run(env: Any, query: str) -> pa.Table:
    """Run `query` once more into Parquet and read it back (the agreement check, untimed)."""
    from featuresql.engines import flink as engine

    with tempfile.TemporaryDirectory(prefix="bench-flink-") as tmp:
        statements = env.create_statement_set()
        statements.add_insert_sql(engine._register_sink(env, "check_view", "check_sink", query, Path(tmp) / "out", None))
        statements.execute().wait()
        for path in engine.parquet_files(Path(tmp) / "out"):
            path.rename(path.with_name(path.name + ".parquet"))
        return engine.read_staged(Path(tmp) / "out")


class FlinkRun:
    """The timed part of a Flink arm: run the job to its end. `extra` goes into the report."""

    def __init__(self, env: Any, queries: list[str], events: int, startup: float):
        self.env, self.queries = env, queries
        self.extra: dict[str, Any] = {"startup_seconds": startup, "events": events, "parallelism": PARALLELISM}

    def __call__(self) -> "FlinkRun":
        jvm = _gateway_pid()
        profiler = _Profiler.maybe_start()
        cpu = _cpu_seconds(jvm)
        _blackhole_statements(self.env, self.queries).execute().wait()
        # CPU seconds the JVM used for the job: on a shared machine this says what the job
        # costs whatever share of the cores it got; events per CPU second is events/s per core.
        self.extra["cpu_seconds"] = _cpu_seconds(jvm) - cpu
        if profiler is not None:
            self.extra["profile"] = profiler.stop()
        # The JVM is a child of this process: its memory is not in the child's own VmHWM.
        self.extra["jvm_peak_rss_mb"] = _peak_mb(jvm)
        return self

    @property
    def num_rows(self) -> int:  # what the child reports as rows: the input events
        return int(self.extra["events"])

    def result(self) -> pa.Table:
        """The output rows, from one more run into Parquet (not timed)."""
        return _parquet_run(self.env, self.queries[0])


def generated(root: Path) -> Callable[[], Any]:
    """`featuresql backfill --engine flink`'s job for the bench feature, on the staged events."""
    from featuresql import Project
    from featuresql.engines import flink as engine

    folder, events = stage(root)
    env, startup = start_cluster()
    project = Project(root)
    job = engine.compile_job(project.plan(FEATURE), project.root, START, END, staged={"impressions": folder})
    for source in job.sources:
        env.execute_sql(source)
    return FlinkRun(env, [job.query, *(query for _, query in job.late)], events, startup)


def _interval(millis: int) -> str:
    from featuresql.compile.flink import interval

    return interval(millis)


def handwritten_sql() -> str:
    """The 32 columns with nested OVER passes, written the way a person would."""
    query = (
        f"SELECT user_id, event_time, `position` FROM impressions\n"
        f"WHERE user_id IS NOT NULL AND event_time < TIMESTAMP '{END}.000'"
    )
    for w, ms in WINDOWS.items():
        query = (
            f"SELECT *,\n"
            f"  COUNT(*) OVER w AS imps_{w},\n"
            f"  COUNT(CASE WHEN `position` <= 3 THEN 1 END) OVER w AS top_imps_{w},\n"
            f"  COUNT(CASE WHEN `position` > 10 THEN 1 END) OVER w AS deep_imps_{w},\n"
            f"  SUM(CAST(`position` AS BIGINT)) OVER w AS pos_sum_{w},\n"  # SUM(INT) is INT in Flink
            f"  AVG(CAST(`position` AS DOUBLE)) OVER w AS pos_avg_{w},\n"  # AVG(INT) truncates in Flink
            f"  MIN(`position`) OVER w AS pos_min_{w},\n"
            f"  MAX(`position`) OVER w AS pos_max_{w}\n"
            f"FROM (\n{query}\n)\n"
            f"WINDOW w AS (PARTITION BY user_id ORDER BY event_time "
            f"RANGE BETWEEN {_interval(ms - 1)} PRECEDING AND CURRENT ROW)"
        )
    columns = [f"{name}_{w}" for name in ("imps", "top_imps", "deep_imps", "pos_sum", "pos_avg", "pos_min", "pos_max")
               for w in WINDOWS]
    columns += [f"CAST(top_imps_{w} AS DOUBLE) / NULLIF(imps_{w}, 0) AS top_share_{w}" for w in WINDOWS]
    return (
        "SELECT user_id, CAST(event_time AS TIMESTAMP(3)) AS event_time,\n  " + ",\n  ".join(columns)
        + f"\nFROM (\n{query}\n)\nWHERE event_time >= TIMESTAMP '{START}.000'"
    )


def handwritten_source(folder: Path) -> str:
    return (
        "CREATE TEMPORARY TABLE impressions (\n"
        "  impression_id STRING, user_id STRING, post_id STRING, author_id STRING, `position` INT,\n"
        "  event_time TIMESTAMP(3),\n"
        "  WATERMARK FOR event_time AS event_time - INTERVAL '5' SECOND\n"
        f") WITH ('connector' = 'filesystem', 'path' = '{folder.as_uri()}', 'format' = 'parquet',\n"
        "  'parquet.utc-timezone' = 'true')"
    )


def handwritten(root: Path) -> Callable[[], Any]:
    """Hand-written Flink SQL for the bench feature's 32 columns, on the same staged events."""
    folder, events = stage(root)
    env, startup = start_cluster()
    env.execute_sql(handwritten_source(folder))
    return FlinkRun(env, [handwritten_sql()], events, startup)


class _Profiler:
    """A JFR recording of this process's JVM during the timed run, when BENCH_JFR names a file.

    Started with `jcmd` on the running JVM (the PyFlink gateway is a child of this
    process), so the arm's JVM options stay exactly as `featuresql` sets them.
    """

    def __init__(self, pid: int, path: Path):
        self.pid, self.path = pid, path

    @classmethod
    def maybe_start(cls) -> "_Profiler | None":
        wanted = os.environ.get("BENCH_JFR")
        if not wanted:
            return None
        pid = _gateway_pid()
        subprocess.run(["jcmd", str(pid), "JFR.start", "name=bench", "settings=default"], capture_output=True, check=True)
        return cls(pid, Path(f"{wanted}.{os.getpid()}.jfr"))

    def stop(self) -> str:
        subprocess.run(["jcmd", str(self.pid), "JFR.stop", "name=bench", f"filename={self.path}"],
                       capture_output=True, check=True)
        return str(self.path)


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process, all its threads (/proc/PID/stat utime, stime)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _peak_mb(pid: int) -> float | None:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return None


def _gateway_pid() -> int:
    """The JVM started by this process (PyFlink's gateway)."""
    me = str(os.getpid())
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if stat.rsplit(")", 1)[1].split()[1] == me and b"java" in cmdline:
            return int(entry.name)
    raise RuntimeError("no JVM child process found")
