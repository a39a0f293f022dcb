"""`python -m bench`: generate, run every arm (warm-up + repeats, each in its own
process), check that the arms agree, write bench/results/<date>.md and .json."""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from bench import check, data, machine, report, runner
from bench.arms import ARMS, FEAST_DUCKDB_MEMORY_ENV, update_log

REPO = data.BENCH_DIR.parent
FEAST_PYTHON = data.BENCH_DIR / ".feast-venv" / "bin" / "python"
VALIDATE_FILES = 1000
# Memory caps (MB RSS): Feast's is the one issue 6 asks for; the rest only stop a runaway.
FEAST_MEMORY_MB = 8_000
MEMORY_MB = 16_000


@dataclass(frozen=True)
class Limits:
    """What an arm's process may use: RSS caps (every arm's, Feast's) and DuckDB's memory_limit
    under Feast (None: as Feast ships, DuckDB may take 80% of RAM before it spills)."""

    memory_mb: float = MEMORY_MB
    feast_memory_mb: float = FEAST_MEMORY_MB
    feast_duckdb_memory_mb: float | None = None

    def cap(self, name: str) -> float:
        return self.feast_memory_mb if name == "samples.feast" else self.memory_mb

    def env(self, name: str) -> dict[str, str] | None:
        """The environment of the arm's process: only the Feast arm's differs."""
        if name != "samples.feast" or not self.feast_duckdb_memory_mb:
            return None
        return {**os.environ, FEAST_DUCKDB_MEMORY_ENV: f"{self.feast_duckdb_memory_mb:.0f}"}
LARGE_RESULT_ROWS = 20_000_000
#: Which arms each workload runs. `duckdb` (1, 2, 5, 6) is the default; `flink` (3) and
#: `freshness` (4) are opt-in: each Flink process starts a JVM and a mini-cluster.
WORKLOADS: dict[str, list[str]] = {
    "duckdb": ["backfill.featuresql", "backfill.duckdb_sql", "samples.featuresql", "samples.duckdb_sql",
               "samples.pandas", "samples.feast", "floor.duckdb_scan", "validate.featuresql"],
    "flink": ["flink.featuresql", "flink.handwritten_sql"],
    # Workload 1 at sizes whose update log does not fit in memory (100M): both arms write
    # day-partitioned Parquet, as `featuresql backfill` does.
    "backfill-files": ["backfill_files.featuresql", "backfill_files.duckdb_sql", "floor.duckdb_scan"],
    "freshness": [],
}
#: The default --size per workload: Flink's update log runs at thousands of events/s, not millions.
DEFAULT_SIZE = {"duckdb": "1m", "flink": "50k", "backfill-files": "1m", "freshness": "5k"}  # freshness sends its own events


def _arm_command(name: str, root: Path, result: Path | None, validate_files: int) -> list[str] | None:
    if name == "validate.featuresql":
        return [str(Path(sys.executable).parent / "featuresql"), "validate", "--project",
                str(data.validate_project(validate_files, root.parent))]
    python = FEAST_PYTHON if name == "samples.feast" else Path(sys.executable)
    if not python.exists():
        return None
    return [str(python), "-m", "bench.child", name, str(root)] + ([str(result)] if result else [])


def _summary(name: str, warm: runner.Run | None, runs: list[runner.Run]) -> dict[str, Any]:
    summary: dict[str, Any] = {"arm": name, "warm_up": warm.as_dict() if warm else None, "runs": [r.as_dict() for r in runs]}
    ok = [r for r in runs if r.status == "ok"]
    warm_failed = warm is not None and warm.status != "ok"
    failed = warm if warm_failed else next((r for r in runs if r.status != "ok"), None)
    if not ok or warm_failed:
        summary["status"] = f"did not finish ({failed.status}: {failed.detail})" if failed else "not run"
        return summary
    # The arm's own clock when it has one (no interpreter start-up); the process's otherwise.
    times = [r.seconds if r.seconds is not None else r.wall for r in ok]
    summary.update(
        status="ok",
        median=statistics.median(times),
        min=min(times),
        max=max(times),
        median_wall=statistics.median(r.wall for r in ok),
        peak_rss_mb=max(r.peak_rss_mb for r in ok),
        rows=(warm or ok[0]).rows,
        # Numbers an arm reports besides its time (Flink: start-up, JVM memory), over every
        # finished process, the warm-up included: each process starts its own mini-cluster.
        **{key: statistics.median(values) for key, values in _extras([*([warm] if warm else []), *ok]).items()},
        timed_runs=len(times),
        failed_runs=len(runs) - len(ok),
    )
    return summary


def _prepare(name: str, root: Path, validate_files: int, check: bool = True) -> tuple[list[str] | None, list[str], Path]:
    result = root / "results" / f"{name}.parquet"
    result.unlink(missing_ok=True)
    command = _arm_command(name, root, result if check else None, validate_files)
    # The first run writes the result the checks read; the others write nothing.
    plain = command[:-1] if command and command[-1] == str(result) else (command or [])
    return command, plain, result


def _run_once(name: str, command: list[str], plain: list[str], i: int, warmup: int, repeat: int,
              timeout: float, limits: Limits) -> runner.Run:
    memory = limits.cap(name)
    last = runner.run(command if i == 0 else plain, REPO, timeout, memory, env=limits.env(name))
    label = "warm-up" if i < warmup else f"run {i - warmup + 1}/{repeat}"
    print(f"[bench] {name}: {label}: {last.status} {last.seconds if last.seconds is not None else last.wall:.2f} s, "
          f"{last.peak_rss_mb:.0f} MB {last.detail if last.status != 'ok' else ''}", flush=True)
    return last


def _extras(runs: list[runner.Run]) -> dict[str, list[float]]:
    found: dict[str, list[float]] = {}
    for run in runs:
        for key, value in run.extra.items():
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                found.setdefault(key, []).append(float(value))
    return found


def run_arm(name: str, root: Path, repeat: int, timeout: float, warmup: int = 1, validate_files: int = VALIDATE_FILES,
            check: bool = True, limits: Limits = Limits()) -> dict[str, Any]:
    command, plain, _ = _prepare(name, root, validate_files, check)
    if command is None:
        return {"arm": name, "runs": [], "status": f"not run: {FEAST_PYTHON} is missing (make bench-feast)"}
    runs: list[runner.Run] = []
    for i in range(warmup + repeat):
        runs.append(_run_once(name, command, plain, i, warmup, repeat, timeout, limits))
        if runs[-1].status != "ok" and i == 0:
            break  # an arm that cannot finish once is not run again
    warm = runs[0] if warmup else None
    return _summary(name, warm, runs[warmup:] if warmup else runs)


def run_interleaved(names: list[str], root: Path, repeat: int, timeout: float, warmup: int = 1,
                    check: bool = True, limits: Limits = Limits()
                    ) -> dict[str, dict[str, Any]]:
    """Arms run in turns (A, B, A, B, ...): on a shared machine whose load drifts over
    minutes, each timed run of one arm has a neighbour of the other taken under the
    same load, and their ratio is what the report reads (workload 3)."""
    prepared = {name: _prepare(name, root, VALIDATE_FILES, check) for name in names}
    runs: dict[str, list[runner.Run]] = {name: [] for name in names}
    for i in range(warmup + repeat):
        for name in names:
            command, plain, _ = prepared[name]
            if i and runs[name][0].status != "ok":
                continue  # an arm that cannot finish once is not run again
            runs[name].append(_run_once(name, command or [], plain, i, warmup, repeat, timeout, limits))
    return {name: _summary(name, runs[name][0] if warmup else None, runs[name][warmup:] if warmup else runs[name])
            for name in names}


def _checks(root: Path, arms: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    results = root / "results"
    done = lambda name: arms.get(name, {}).get("status") == "ok" and (results / f"{name}.parquet").exists()  # noqa: E731
    found = []
    for reference, other, order in [
        ("backfill.featuresql", "backfill.duckdb_sql", ["user_id", "event_time"]),
        ("backfill_files.featuresql", "backfill_files.duckdb_sql", ["user_id", "event_time"]),
        ("samples.featuresql", "samples.duckdb_sql", ["impression_id"]),
        ("samples.featuresql", "samples.pandas", ["impression_id"]),
        ("flink.featuresql", "flink.handwritten_sql", ["user_id", "event_time"]),
    ]:
        if done(reference) and done(other):
            # Numbering and joining two 100M-row results needs ~50 GB: past 20M rows, the rows
            # of one user in 50 (all of their rows) are compared one by one, the counts in full.
            large = (arms[reference].get("rows") or 0) > LARGE_RESULT_ROWS
            where = "hash(user_id) % 50 = 0" if large and "user_id" in order else "true"
            found.append(check.compare(results / f"{reference}.parquet", results / f"{other}.parquet", order,
                                       where=where).as_dict())
    if done("flink.featuresql"):
        # Both Flink arms read every event in time order (none late): DuckDB's update log
        # over the same events is the reference, computed here untimed if no arm wrote it.
        reference = results / "backfill.duckdb_sql.parquet"
        if not done("backfill.duckdb_sql"):
            from bench.arms import handwritten
            from bench.child import _write

            _write(handwritten.backfill(root)(), reference)
        compared = check.compare(reference, results / "flink.featuresql.parquet", ["user_id", "event_time"]).as_dict()
        compared["left"] = "backfill.duckdb_sql (DuckDB update log)"
        found.append(compared)
    feast_status = str(arms.get("samples.feast", {}).get("status", "not run"))
    if not feast_status.startswith("not run") and update_log(root).exists():
        # Finished or not, the size of Feast's range join is what limits it (report.py says so).
        arms["samples.feast"]["join_spine_rows"], arms["samples.feast"]["join_rows"] = check.feast_join_rows(root)
    if done("samples.feast"):
        from bench.arms.feast_arm import feature_names

        reference = results / "feast.reference.parquet"
        check.feast_reference(root, reference)
        compared = check.compare(reference, results / "samples.feast.parquet", ["impression_id"],
                                 ["impression_id"] + feature_names()).as_dict()
        compared["left"] = "DuckDB ASOF JOIN (latest update-log row <= t)"
        if done("samples.featuresql"):
            compared["share_equal_to_featuresql"] = check.same_rows_share(
                results / "samples.feast.parquet", results / "samples.featuresql.parquet", "impression_id", feature_names()
            )
        found.append(compared)
    return found


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--workload", default="duckdb",
                        help="comma-separated: duckdb (default: backfill, samples, floor, validate), "
                             "flink (3: generated vs hand-written Flink SQL), backfill-files (1 into Parquet files, "
                             "for 100m), freshness (4: Kafka -> Flink -> Kafka), all")
    parser.add_argument("--size", default=None,
                        help="events to generate: 50k, 200k, 1m, 10m (default 1m; 50k when the first workload is flink)")
    parser.add_argument("--skew", default="default", choices=["default", "zipf"], help="key skew of the data")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per arm, after one warm-up")
    parser.add_argument("--warmup", type=int, default=1, help="untimed runs per arm first")
    parser.add_argument("--validate-files", type=int, default=VALIDATE_FILES, help="feature files for workload 5")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds before a run is killed")
    parser.add_argument("--arms", default="", help="comma-separated substrings: run only matching arms")
    parser.add_argument("--data-dir", type=Path, default=data.DATA_ROOT)
    parser.add_argument("--results-dir", type=Path, default=data.BENCH_DIR / "results")
    parser.add_argument("--name", default=date.today().isoformat(), help="results file name (default: today)")
    parser.add_argument("--no-check", action="store_true",
                        help="write no results and compare nothing (a Flink arm's check re-runs its job into Parquet)")
    parser.add_argument("--profile", action="store_true", help="save EXPLAIN ANALYZE of the backfill arms")
    parser.add_argument("--memory-mb", type=float, default=MEMORY_MB,
                        help="RSS above which an arm is stopped; DuckDB's own default limit is 80%% of RAM, so "
                             "at 100M raise this above it or DuckDB is stopped before it would spill")
    parser.add_argument("--feast-memory-mb", type=float, default=FEAST_MEMORY_MB, help="the Feast arm's RSS cap")
    parser.add_argument("--feast-duckdb-memory-mb", type=float, default=None,
                        help="set DuckDB's memory_limit under Feast (it then spills to disk); default: as Feast ships")
    parser.add_argument("--freshness-seconds", type=float, default=60.0, help="workload 4: seconds of steady load")
    parser.add_argument("--freshness-rate", type=int, default=10_000, help="workload 4: events/s sent")
    parser.add_argument("--freshness-settings", default="",
                        help="workload 4: comma-separated setting names to run (default: all of bench.freshness.SETTINGS)")
    args = parser.parse_args(argv)
    limits = Limits(args.memory_mb, args.feast_memory_mb, args.feast_duckdb_memory_mb)

    workloads = list(WORKLOADS) if args.workload == "all" else [w.strip() for w in args.workload.split(",") if w.strip()]
    unknown = [w for w in workloads if w not in WORKLOADS]
    if unknown:
        parser.error(f"unknown workload(s) {unknown}: pick from {', '.join(WORKLOADS)}, all")
    size = args.size or ("1m" if "duckdb" in workloads else DEFAULT_SIZE[workloads[0]])
    dataset = data.prepare(size, args.skew, args.data_dir)
    wanted = [w.strip() for w in args.arms.split(",") if w.strip()]
    in_workloads = {n for w in workloads for n in WORKLOADS[w]}
    # Order matters: Feast reads the update log the featuresql backfill arm writes.
    names = [n for n in [*ARMS, "validate.featuresql"] if n in in_workloads and (not wanted or any(w in n for w in wanted))]
    if "samples.feast" in names and not update_log(dataset.root).exists() and "backfill.featuresql" not in names:
        names.insert(0, "backfill.featuresql")
    flink_arms = [n for n in names if n.startswith("flink.")]
    arms = {name: run_arm(name, dataset.root, args.repeat, args.timeout, args.warmup, args.validate_files, not args.no_check,
                          limits)
            for name in names if name not in flink_arms}
    if flink_arms:
        arms.update(run_interleaved(flink_arms, dataset.root, args.repeat, args.timeout, args.warmup, not args.no_check,
                                    limits))
    freshness_results = None
    if "freshness" in workloads:
        from bench import freshness

        freshness_results = freshness.run(dataset.root, seconds=args.freshness_seconds, rate=args.freshness_rate,
                                          settings=freshness.pick(args.freshness_settings))
    checks = _checks(dataset.root, arms)
    profiles = report.profile(dataset, args.results_dir, args.name) if args.profile else []
    results = {
        "name": args.name,
        "command": "python -m bench " + " ".join(argv if argv is not None else sys.argv[1:]),
        "dataset": {"size": dataset.size, "skew": dataset.skew, "impressions": dataset.impressions,
                    "engagements": dataset.engagements, "spine": dataset.spine,
                    "start": dataset.start.isoformat(), "end": dataset.end.isoformat()},
        "repeat": args.repeat,
        "warmup": args.warmup,
        "validate_files": args.validate_files,
        "memory_cap_mb": {"arms": limits.memory_mb, "feast": limits.feast_memory_mb,
                          "feast_duckdb": limits.feast_duckdb_memory_mb},
        "machine": machine.describe(REPO, FEAST_PYTHON),
        "arms": arms,
        "ratios": report.ratios(arms),
        "checks": checks,
        "profiles": profiles,
        "workloads": workloads,
        "freshness": freshness_results,
    }
    results["ratios"]["freshness_p99_fast"] = report._freshness(results, "wm50ms_ckpt1s", "p99")
    args.results_dir.mkdir(parents=True, exist_ok=True)
    (args.results_dir / f"{args.name}.json").write_text(json.dumps(results, indent=2, default=str) + "\n")
    (args.results_dir / f"{args.name}.md").write_text(report.markdown(results))
    print(report.table(results))
    print(f"[bench] wrote {args.results_dir / args.name}.md and .json")
    return results
