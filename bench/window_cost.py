"""What one windowed aggregate costs in DuckDB: the limit on workload 1's events/s.

The backfill's profile says DuckDB's WINDOW operator takes ~99% of the time. This
splits that into parts, on the impressions of a bench dataset loaded into memory
first (so no Parquet reading is timed), each query reduced to one number so that
no result is materialised:

* the sort alone (`row_number()` over user, time), the floor of any per-event window;
* one RANGE-frame aggregate per kind (COUNT(*), COUNT(x), SUM, MIN) over 7 days;
* the same SUM as a running total (`UNBOUNDED PRECEDING`), which DuckDB streams;
* a running total minus the running total before the window's lower edge, the
  "running totals" rewrite for COUNT/SUM/AVG: DuckDB computes that second frame with
  the same machinery as the RANGE frame, so it is not cheaper;
* 1 and 4 windows of one SUM, to show the cost grows per (window, aggregate) pair.

    .venv/bin/python -m bench.window_cost bench/data/10m-default [--threads 2]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import duckdb

from bench.arms.handwritten import WINDOWS as WINDOWS_MS  # the bench feature's windows, in ms
_BY_USER = "PARTITION BY user_id ORDER BY ts"


def _range(width_ms: int) -> str:
    return f"{_BY_USER} RANGE BETWEEN {width_ms - 1} PRECEDING AND CURRENT ROW"


def probes() -> dict[str, list[str]]:
    """Name -> the window expressions of one query over table `ev`."""
    week = WINDOWS_MS["7d"]
    running = f"{_BY_USER} RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW"
    before = f"{_BY_USER} RANGE BETWEEN UNBOUNDED PRECEDING AND {week} PRECEDING"
    return {
        "sort only: row_number()": [f"row_number() OVER ({_BY_USER})"],
        "COUNT(*), 7d RANGE": [f"count(*) OVER ({_range(week)})"],
        "COUNT(x), 7d RANGE": [f"count(top) OVER ({_range(week)})"],
        "SUM(x), 7d RANGE": [f"sum(position) OVER ({_range(week)})"],
        "MIN(x), 7d RANGE": [f"min(position) OVER ({_range(week)})"],
        "SUM(x), running total": [f"sum(position) OVER ({running})"],
        "SUM(x), running total - total before the window": [
            f"sum(position) OVER ({running}) - coalesce(sum(position) OVER ({before}), 0)"],
        "SUM(x), 4 windows": [f"sum(position) OVER ({_range(ms)})" for ms in WINDOWS_MS.values()],
    }


def measure(dataset: Path, threads: int) -> tuple[int, list[tuple[str, float]]]:
    """The number of events and, per probe, its seconds."""
    con = duckdb.connect()
    con.execute(f"SET threads = {threads}")
    con.execute(
        "CREATE TABLE ev AS SELECT user_id, epoch_ms(event_time) AS ts, position, "
        "CASE WHEN position <= 3 THEN 1 END AS top "
        f"FROM read_parquet('{dataset / 'data' / 'impressions' / '*.parquet'}') "
        "WHERE user_id IS NOT NULL AND event_time IS NOT NULL")
    events = con.execute("SELECT count(*) FROM ev").fetchone()[0]
    found = []
    for name, expressions in probes().items():
        select = ", ".join(f"{e} AS c{i}" for i, e in enumerate(expressions))
        columns = ", ".join(f"c{i}" for i in range(len(expressions)))
        began = time.perf_counter()
        con.execute(f"SELECT sum(hash({columns})) FROM (SELECT {select} FROM ev)").fetchall()
        found.append((name, time.perf_counter() - began))
    return events, found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("dataset", type=Path, help="a bench dataset folder, e.g. bench/data/10m-default")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    events, found = measure(args.dataset, args.threads)
    print(f"{events:,} events, {args.threads} threads; seconds per query (the table is in memory)")
    print("| query | s | events/s |\n|---|---:|---:|")
    for name, seconds in found:
        print(f"| {name} | {seconds:.2f} | {events / seconds:,.0f} |")


if __name__ == "__main__":
    main()
