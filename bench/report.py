"""Results as numbers (ratios against the issue-6 goals), a Markdown report, and
DuckDB profiles of the backfill arms."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bench.data import Dataset

WORKLOAD_TITLES = {
    "floor": "6. physical floor",
    "backfill": "1. backfill update log",
    "backfill_files": "1. backfill into Parquet files",
    "samples": "2. samples",
    "validate": "5. validate",
    "flink": "3. Flink throughput",
}
NOTES = {
    "floor.duckdb_scan": "bare scan of impressions(user_id, position, event_time)",
    "backfill.featuresql": "Project.backfill_table -> Arrow",
    "backfill.duckdb_sql": "hand-written RANGE windows -> Arrow",
    "backfill_files.featuresql": "Project.backfill -> day-partitioned Parquet (zstd), published atomically",
    "backfill_files.duckdb_sql": "hand-written RANGE windows -> COPY to day-partitioned Parquet (zstd)",
    "samples.featuresql": "Project.samples_table -> Arrow",
    "samples.duckdb_sql": "hand-written range join + GROUP BY -> Arrow",
    "samples.pandas": "groupby-rolling + merge_asof -> DataFrame",
    "samples.feast": "get_historical_features (DuckDB store), latest row <= t; not windows",
    "validate.featuresql": "`featuresql validate` on generated feature files, whole process",
    "flink.featuresql": "the job `backfill --engine flink` runs -> blackhole (rows: input events)",
    "flink.handwritten_sql": "hand-written nested OVER Flink SQL -> blackhole (rows: input events)",
}


def _median(arms: dict[str, dict[str, Any]], name: str) -> float | None:
    arm = arms.get(name, {})
    return arm.get("median") if arm.get("status") == "ok" else None


def _ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b else None


def _paired_ratio(arms: dict[str, dict[str, Any]], a: str, b: str) -> float | None:
    """Median over run pairs (run i of a, run i of b, taken one after the other) of b's time / a's time."""
    import statistics

    pairs = [
        (x["seconds"], y["seconds"])
        for x, y in zip(arms.get(a, {}).get("runs", []), arms.get(b, {}).get("runs", []))
        if x["status"] == y["status"] == "ok" and x["seconds"] and y["seconds"]
    ]
    return statistics.median(y / x for x, y in pairs) if pairs else None


def _per_core(arms: dict[str, dict[str, Any]], name: str) -> float | None:
    arm = arms.get(name, {})
    if arm.get("status") != "ok" or not arm.get("events"):
        return None
    return arm["events"] / arm["median"] / (arm.get("parallelism") or 1)


def _freshness(results: dict[str, Any], setting: str, key: str) -> float | None:
    for found in (results.get("freshness") or {}).get("settings", []):
        if found.get("setting") == setting:
            return ((found.get("read_committed") or {}).get("arrival") or {}).get(key)
    return None


def _per_second(arms: dict[str, dict[str, Any]], name: str) -> float | None:
    rows, seconds = arms.get(name, {}).get("rows"), _median(arms, name)
    return rows / seconds if rows and seconds else None


def ratios(arms: dict[str, dict[str, Any]]) -> dict[str, Any]:
    fsql_backfill = _median(arms, "backfill.featuresql")
    hand = [m for m in (_median(arms, "samples.duckdb_sql"), _median(arms, "samples.pandas")) if m is not None]
    return {
        "backfill_featuresql_over_handwritten": _ratio(fsql_backfill, _median(arms, "backfill.duckdb_sql")),
        "backfill_events_per_second": _per_second(arms, "backfill.featuresql"),
        "backfill_featuresql_over_floor": _ratio(fsql_backfill, _median(arms, "floor.duckdb_scan")),
        "backfill_files_featuresql_over_handwritten": _ratio(_median(arms, "backfill_files.featuresql"),
                                                             _median(arms, "backfill_files.duckdb_sql")),
        "backfill_files_events_per_second": _per_second(arms, "backfill_files.featuresql"),
        "samples_featuresql_over_best_handwritten": _ratio(_median(arms, "samples.featuresql"), min(hand) if hand else None),
        "samples_feast_over_featuresql": _ratio(_median(arms, "samples.feast"), _median(arms, "samples.featuresql")),
        "validate_seconds": _median(arms, "validate.featuresql"),
        # Throughput ratio: hand-written time / generated time, per pair of neighbouring runs.
        "flink_generated_over_handwritten": _paired_ratio(arms, "flink.featuresql", "flink.handwritten_sql"),
        "flink_generated_over_handwritten_cpu": _ratio(arms.get("flink.handwritten_sql", {}).get("cpu_seconds"),
                                                       arms.get("flink.featuresql", {}).get("cpu_seconds")),
        "flink_generated_events_per_second_per_core": _per_core(arms, "flink.featuresql"),
        "flink_handwritten_events_per_second_per_core": _per_core(arms, "flink.handwritten_sql"),
    }


GOALS = [
    ("backfill_featuresql_over_handwritten", "backfill: featuresql / hand-written DuckDB", "<= 1.10", lambda v: v <= 1.10),
    ("backfill_events_per_second", "backfill: featuresql events/s (2 cores)", ">= 2,000,000", lambda v: v >= 2e6),
    ("backfill_files_featuresql_over_handwritten", "backfill into files: featuresql / hand-written DuckDB", "<= 1.10",
     lambda v: v <= 1.10),
    ("backfill_files_events_per_second", "backfill into files: featuresql events/s (2 cores)", ">= 2,000,000",
     lambda v: v >= 2e6),
    ("samples_featuresql_over_best_handwritten", "samples: featuresql / best hand-written", "<= 1.2", lambda v: v <= 1.2),
    ("samples_feast_over_featuresql", "samples: Feast / featuresql", ">= 20", lambda v: v >= 20),
    ("validate_seconds", "validate: seconds (1,000 files for the goal)", "< 3", lambda v: v < 3),
    ("flink_generated_over_handwritten", "Flink: generated / hand-written throughput (wall)", ">= 0.9", lambda v: v >= 0.9),
    ("flink_generated_over_handwritten_cpu", "Flink: generated / hand-written throughput (CPU s)", ">= 0.9",
     lambda v: v >= 0.9),
    ("freshness_p99_fast", "freshness p99, read_committed, 50 ms watermark, 1 s checkpoints (s)", "< 1", lambda v: v < 1),
]


def _fmt(value: float | None, digits: int = 2) -> str:
    if value is None:
        return "-"
    return f"{value:,.0f}" if value >= 1000 else f"{value:.{digits}f}"


def table(results: dict[str, Any]) -> str:
    arms = results["arms"]
    floor = _median(arms, "floor.duckdb_scan")
    lines = [
        "| workload | arm | median s | min - max s | peak RSS MB | rows | x floor | what |",
        "|---|---|---:|---:|---:|---:|---:|---|",
    ]
    for name, arm in arms.items():
        workload = WORKLOAD_TITLES.get(name.split(".")[0], name.split(".")[0])
        if arm.get("status") != "ok":
            lines.append(f"| {workload} | {name} | {arm.get('status')} | | | | | {NOTES.get(name, '')} |")
            continue
        lines.append(
            f"| {workload} | {name} | {_fmt(arm['median'])} | {_fmt(arm['min'])} - {_fmt(arm['max'])} | "
            f"{arm['peak_rss_mb']:,.0f} | {'' if arm['rows'] is None else format(arm['rows'], ',')} | "
            f"{_fmt(_ratio(arm['median'], floor), 1) if not name.startswith(('floor', 'validate')) else ''} | "
            f"{NOTES.get(name, '')} |"
        )
    return "\n".join(lines)


def goals_table(results: dict[str, Any]) -> str:
    lines = ["| measure | value | goal (issue 6) | met |", "|---|---:|---:|---|"]
    for key, label, goal, met in GOALS:
        value = results["ratios"].get(key)
        verdict = "-" if value is None else ("yes" if met(value) else "no")
        lines.append(f"| {label} | {_fmt(value)} | {goal} | {verdict} |")
    return "\n".join(lines)


def flink_md(results: dict[str, Any]) -> str:
    """Workload 3: throughput per core, start-up, the paired ratio."""
    arms = {n: a for n, a in results["arms"].items() if n.startswith("flink.")}
    if not arms:
        return ("Not run: opt-in, `python -m bench --workload flink` (default size 50k; `--size 1m` for the real "
                "number). Each process starts a JVM and a mini-cluster.")
    lines = [
        "| arm | median s | events | events/s | events/s per core (wall) | JVM CPU s | events per CPU s | "
        "start-up s (JVM + first job) | JVM peak RSS MB |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, arm in arms.items():
        if arm.get("status") != "ok":
            lines.append(f"| {name} | {arm.get('status')} | | | | | | | |")
            continue
        rate = arm["events"] / arm["median"]
        cpu = arm.get("cpu_seconds")
        lines.append(
            f"| {name} | {_fmt(arm['median'])} | {arm['events']:,.0f} | {_fmt(rate)} | "
            f"{_fmt(rate / arm.get('parallelism', 1))} | {_fmt(cpu)} | {_fmt(arm['events'] / cpu if cpu else None)} | "
            f"{_fmt(arm.get('startup_seconds'))} | {_fmt(arm.get('jvm_peak_rss_mb'))} |"
        )
    ratio = results["ratios"].get("flink_generated_over_handwritten")
    cpu_ratio = results["ratios"].get("flink_generated_over_handwritten_cpu")
    lines.append("")
    lines.append(
        f"Generated / hand-written throughput: **{_fmt(ratio)}** by wall time (median over pairs of runs taken one "
        f"after the other), **{_fmt(cpu_ratio)}** by the JVM's CPU seconds (hand-written CPU s / generated CPU s, "
        "medians; robust to the share of the cores a run got on a shared machine); goal >= 0.9. Parallelism 2 on "
        "2 cores, so per core (wall) = events/s / 2; events per CPU second is per core whatever the load. "
        "Reference from issue 6: Nexmark q5 (one HOP window) ran at about 22K events/s per core on Flink 1.13."
    )
    return "\n".join(lines)


def freshness_md(results: dict[str, Any]) -> str:
    """Workload 4: event-to-feature latency per setting, read_committed and read_uncommitted."""
    found = results.get("freshness")
    if not found:
        return "Not run: opt-in, `python -m bench --workload freshness` (needs Java; fetches the Kafka broker once)."
    lines = [
        f"{found['rate']:,} events/s sent for {found['seconds']:.0f} s (measured), {found['users']:,} users, "
        f"Kafka {found['kafka']} (local broker), load {', '.join(f'{v:.1f}' for v in found['load_avg_1m'])} "
        "(before/after each setting).",
        "",
        "| setting | reader | p50 s | p90 s | p99 s | max s | p99 s after the first fifth | missing | sent/s | stream read "
        "| p50 by tenth of the run (s) |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for setting in found["settings"]:
        if "error" in setting:
            lines.append(f"| {setting['setting']} | | {setting['error']} | | | | | | | | |")
            continue
        for reader in ("read_committed", "read_uncommitted"):
            r = setting[reader]
            a = r["arrival"]
            trend = " ".join("-" if v != v else f"{v:.1f}" for v in r["p50_by_tenth"])
            settled = r.get("arrival_after_first_fifth", {}).get("p99")  # absent in results before 2026-11-28
            lines.append(
                f"| {setting['setting']} | {reader} | {_fmt(a['p50'])} | {_fmt(a['p90'])} | {_fmt(a['p99'])} | "
                f"{_fmt(a['max'])} | {_fmt(settled)} | {r['missing']:,} of {setting['measured_events']:,} | {_fmt(setting['sent_rate'])} | "
                f"{setting.get('stream_read_share', 0):.0%} | {trend} |"
            )
    lines += ["", *(f"- {s['setting']}: {s['what']}" for s in found["settings"])]
    lines += ["", (
        "Latency of an event: when the output row with its user and event_time first reached the reader, minus "
        "the event's event_time, which the producer set to the wall clock when it handed the event over (one "
        "machine, one clock). read_committed is what a reader of the exactly-once topic sees (rows become visible "
        "when the checkpoint commits their transaction); read_uncommitted sees them when Flink writes them, so "
        "the difference is the commit wait, and read_uncommitted itself is watermark delay + processing. An "
        "update row is emitted once the watermark passes its event (catalog delay, plus the source's 200 ms "
        "watermark interval). 'stream read' is the share of all events sent that the job had read when it was "
        "stopped: below 100%, or a rising p50 across the run, means it did not hold the rate. The job starts "
        "cold (JIT, state) while the ramp runs, so the first fifth of the measured window still drains that "
        "backlog: 'p99 after the first fifth' is the settled tail; both are reported."
    )]
    return "\n".join(lines)


def _checks_md(results: dict[str, Any]) -> str:
    lines = []
    for c in results["checks"]:
        verdict = "agree" if c["agree"] else "DIFFER"
        detail = f"{c['rows_left']:,} vs {c['rows_right']:,} rows, {c['columns']} columns compared"
        if c["missing"]:
            detail += f"; missing columns {c['missing']}"
        if c["mismatched"]:
            detail += f"; mismatched {c['mismatched']} e.g. {c['example']}"
        lines.append(f"- {c['left']} vs {c['right']}: **{verdict}** ({detail})")
        if "share_equal_to_featuresql" in c:
            lines.append(
                f"  - Feast rows whose 32 values equal featuresql's windowed values: "
                f"{c['share_equal_to_featuresql']:.1%}"
            )
    return "\n".join(lines) or "- no pair of arms finished, nothing compared"


def _feast_join(results: dict[str, Any]) -> str:
    feast = results["arms"].get("samples.feast") or {}
    rows = feast.get("join_rows")  # set by run.py whenever the Feast arm ran, finished or not
    if not rows:
        return ""
    # The entity rows Feast is given (a user, a time in range); older results lack the count.
    spine = max(feast.get("join_spine_rows") or results["dataset"]["spine"], 1)
    return (f"\n\nWhat limits Feast: its point-in-time join is a range join (each spine row joined to every "
            f"update-log row of its user up to t, then ROW_NUMBER keeps the latest), which materialises "
            f"{rows:,} rows of 34 columns (user, time, 32 features) here ({rows / spine:,.0f} per spine row; about "
            f"{rows * 34 * 8 / 1e9:,.1f} GB at 8 bytes a value). featuresql and DuckDB's ASOF JOIN read each "
            f"update-log row once.")


def _caps(results: dict[str, Any]) -> str:
    caps = results.get("memory_cap_mb")  # absent in results written before the caps were options
    if not isinstance(caps, dict):
        return ""
    spill = (f" DuckDB under Feast had a memory_limit of {caps['feast_duckdb']:,.0f} MB (it spills past it)."
             if caps.get("feast_duckdb") else "")
    return (f" An arm is stopped above {caps['arms']:,.0f} MB RSS (Feast: {caps['feast']:,.0f} MB) or after "
            f"its timeout.{spill}")


def markdown(results: dict[str, Any]) -> str:
    ds, m = results["dataset"], results["machine"]
    profiles = "\n".join(f"- `{p}`" for p in results["profiles"]) or "- not taken (run with `--profile`)"
    return f"""# Benchmark {results['name']}

Command: `{results['command']}`

Data: `{ds['size']}` events, skew `{ds['skew']}`: {ds['impressions']:,} impressions (the bench
feature's source), {ds['engagements']:,} engagements (the label's source), a spine of
{ds['spine']:,} impressions (1 in 10), {ds['start']} to {ds['end']}. Each arm: {results['warmup']} warm-up run(s), then
{results['repeat']} timed runs, each in its own process. Times are the arm's own work (data files
to an in-memory result; no interpreter start-up), except validate, which is the whole CLI process.
Peak RSS is the process's (wait4). Validate runs on {results['validate_files']:,} generated feature files.{_caps(results)}

Machine: {m['cores']} cores ({m['cpu']}), {m['memory_gb']} GB, load {m['load_avg_1m']} at the end (shared:
read ratios, not seconds). Python {m['python']}, DuckDB {m['duckdb']}, pyarrow {m['pyarrow']},
pandas {m['pandas']}, featuresql {m['featuresql']} at {m['git_commit']}{' (dirty)' if m['git_dirty'] else ''}, Feast {m['feast']}.

## Results

{table(results)}

## Against the goals

{goals_table(results)}

## Do the arms agree?

{_checks_md(results)}

What is compared: featuresql and the hand-written DuckDB query, row for row over all 34
columns of the update log; featuresql, hand-written DuckDB and pandas, row for row over
all 39 columns of the samples (spine columns, 32 features, the label). DOUBLE columns
within a relative 1e-9, everything else exactly.

Feast answers a different question: the latest feature row with timestamp <= t, not a
window. It was given the bench feature's per-event update log (featuresql's backfill
output, 32 columns) and the spine rows with a user; its output is compared, row for row,
with an independent DuckDB `ASOF JOIN` of the same rows (latest row <= t). Its values
are not featuresql's: a row as of the last event keeps counting events that have since
left a window, and `<= t` sees the spine impression's own event at t (featuresql's
windows end before t; section 2 of docs/semantics.md). The share above says how often
the two happen to agree. Feast's time covers the point-in-time join only, not computing
the 32 windowed columns, which featuresql's time does include.{_feast_join(results)}

## 3. Flink throughput

{flink_md(results)}

## 4. Freshness (Kafka -> `featuresql stream` -> upsert-kafka)

{freshness_md(results)}

## Profiles

{profiles}
"""


def profile(dataset: Dataset, results_dir: Path, name: str) -> list[str]:
    """EXPLAIN ANALYZE of featuresql's and the hand-written backfill SQL, saved as text."""
    import duckdb

    from bench.arms import handwritten
    from featuresql import Project

    queries = {
        "backfill.featuresql": Project(dataset.root).compile("bench_user", start=dataset.start, end=dataset.end),
        "backfill.duckdb_sql": handwritten.backfill_sql(dataset.root),
    }
    written = []
    results_dir.mkdir(parents=True, exist_ok=True)
    for arm, query in queries.items():
        con = duckdb.connect()
        con.execute("SET enable_progress_bar = false")
        plan = "\n".join(str(row[1]) for row in con.execute("EXPLAIN ANALYZE " + query).fetchall())
        path = results_dir / f"{name}-profile-{arm}.txt"
        path.write_text(f"-- {arm}, {dataset.size} events ({dataset.skew})\n{query}\n\n{plan}\n")
        written.append(str(path))
    return written
