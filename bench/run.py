"""`python -m bench`: generate, run every arm (warm-up + repeats, each in its own
process), check that the arms agree, write bench/results/<date>.md and .json."""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from datetime import date
from pathlib import Path
from typing import Any

from bench import check, data, machine, report, runner
from bench.arms import ARMS, update_log

REPO = data.BENCH_DIR.parent
FEAST_PYTHON = data.BENCH_DIR / ".feast-venv" / "bin" / "python"
VALIDATE_FILES = 1000
# Memory caps (MB RSS): Feast's is the one issue 6 asks for; the rest only stop a runaway.
FEAST_MEMORY_MB = 8_000
MEMORY_MB = 16_000


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
        timed_runs=len(times),
        failed_runs=len(runs) - len(ok),
    )
    return summary


def run_arm(name: str, root: Path, repeat: int, timeout: float, warmup: int = 1, validate_files: int = VALIDATE_FILES) -> dict[str, Any]:
    result = root / "results" / f"{name}.parquet"
    result.unlink(missing_ok=True)
    command = _arm_command(name, root, result, validate_files)
    if command is None:
        return {"arm": name, "runs": [], "status": f"not run: {FEAST_PYTHON} is missing (make bench-feast)"}
    memory = FEAST_MEMORY_MB if name == "samples.feast" else MEMORY_MB
    # The first run writes the result the checks read; the others write nothing.
    plain = command[:-1] if command[-1] == str(result) else command
    runs: list[runner.Run] = []
    for i in range(warmup + repeat):
        runs.append(runner.run(command if i == 0 else plain, REPO, timeout, memory))
        last = runs[-1]
        label = "warm-up" if i < warmup else f"run {i - warmup + 1}/{repeat}"
        print(f"[bench] {name}: {label}: {last.status} {last.seconds if last.seconds is not None else last.wall:.2f} s, "
              f"{last.peak_rss_mb:.0f} MB {last.detail if last.status != 'ok' else ''}", flush=True)
        if last.status != "ok" and i == 0:
            break  # an arm that cannot finish once is not run again
    warm = runs[0] if warmup else None
    return _summary(name, warm, runs[warmup:] if warmup else runs)


def _checks(root: Path, arms: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    results = root / "results"
    done = lambda name: arms.get(name, {}).get("status") == "ok" and (results / f"{name}.parquet").exists()  # noqa: E731
    found = []
    for reference, other, order in [
        ("backfill.featuresql", "backfill.duckdb_sql", ["user_id", "event_time"]),
        ("samples.featuresql", "samples.duckdb_sql", ["impression_id"]),
        ("samples.featuresql", "samples.pandas", ["impression_id"]),
    ]:
        if done(reference) and done(other):
            found.append(check.compare(results / f"{reference}.parquet", results / f"{other}.parquet", order).as_dict())
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
    parser.add_argument("--size", default="1m", help="events to generate: 200k, 1m, 10m, 100m (default 1m)")
    parser.add_argument("--skew", default="default", choices=["default", "zipf"], help="key skew of the data")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per arm, after one warm-up")
    parser.add_argument("--warmup", type=int, default=1, help="untimed runs per arm first")
    parser.add_argument("--validate-files", type=int, default=VALIDATE_FILES, help="feature files for workload 5")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds before a run is killed")
    parser.add_argument("--arms", default="", help="comma-separated substrings: run only matching arms")
    parser.add_argument("--data-dir", type=Path, default=data.DATA_ROOT)
    parser.add_argument("--results-dir", type=Path, default=data.BENCH_DIR / "results")
    parser.add_argument("--name", default=date.today().isoformat(), help="results file name (default: today)")
    parser.add_argument("--profile", action="store_true", help="save EXPLAIN ANALYZE of the backfill arms")
    args = parser.parse_args(argv)

    dataset = data.prepare(args.size, args.skew, args.data_dir)
    wanted = [w.strip() for w in args.arms.split(",") if w.strip()]
    # Order matters: Feast reads the update log the featuresql backfill arm writes.
    names = [n for n in [*ARMS, "validate.featuresql"] if not wanted or any(w in n for w in wanted)]
    if "samples.feast" in names and not update_log(dataset.root).exists() and "backfill.featuresql" not in names:
        names.insert(0, "backfill.featuresql")
    arms = {name: run_arm(name, dataset.root, args.repeat, args.timeout, args.warmup, args.validate_files)
            for name in names}
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
        "machine": machine.describe(REPO, FEAST_PYTHON),
        "arms": arms,
        "ratios": report.ratios(arms),
        "checks": checks,
        "profiles": profiles,
    }
    args.results_dir.mkdir(parents=True, exist_ok=True)
    (args.results_dir / f"{args.name}.json").write_text(json.dumps(results, indent=2, default=str) + "\n")
    (args.results_dir / f"{args.name}.md").write_text(report.markdown(results))
    print(report.table(results))
    print(f"[bench] wrote {args.results_dir / args.name}.md and .json")
    return results
