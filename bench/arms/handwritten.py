"""What a person would write in DuckDB SQL for the bench feature, without featuresql.

The columns and their meaning are bench/project/sql/features/bench_user.sql's,
under docs/semantics.md; keep the two in step. Windows are RANGE frames over
the TIMESTAMP with INTERVAL bounds, the idiomatic hand-written spelling.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import duckdb
import pyarrow as pa

from bench.arms import END, START, Written, table

# window name -> length in milliseconds
WINDOWS = {"10m": 600_000, "1h": 3_600_000, "1d": 86_400_000, "7d": 604_800_000}
LONGEST_MS = max(WINDOWS.values())
HORIZON_MS = 600_000  # the 10-minute click label


def _ts(value: object) -> str:
    return f"TIMESTAMP '{value}'"


def _aggregates(
    frame: Callable[[str], str], in_window: Callable[[str], str] | None = None, position: str = "position"
) -> list[str]:
    """The 32 output columns. `frame(w)` is appended to window calls (OVER ...);
    `in_window(w)` is a condition for GROUP BY aggregates (FILTER ...);
    `position` is how the event's column is spelled (qualified in a join)."""

    def agg(call: str, w: str, where: str | None = None) -> str:
        if in_window is None:
            return f"{call} {'FILTER (WHERE ' + where + ') ' if where else ''}OVER {frame(w)}"
        cond = in_window(w) + (f" AND {where}" if where else "")
        return f"{call} FILTER (WHERE {cond})"

    columns = []
    specs = [
        ("imps", "count(*)", None, None),
        ("top_imps", "count(*)", f"{position} <= 3", None),
        ("deep_imps", "count(*)", f"{position} > 10", None),
        ("pos_sum", f"sum({position})", None, "BIGINT"),  # SUM of INT is HUGEINT in DuckDB; the contract says BIGINT
        ("pos_avg", f"avg({position})", None, None),
        ("pos_min", f"min({position})", None, None),
        ("pos_max", f"max({position})", None, None),
    ]
    for name, call, where, cast in specs:
        for w in WINDOWS:
            expr = agg(call, w, where)
            columns.append(f"CAST({expr} AS {cast}) AS {name}_{w}" if cast else f"{expr} AS {name}_{w}")
    for w in WINDOWS:
        top, every = agg("count(*)", w, f"{position} <= 3"), agg("count(*)", w)
        columns.append(f"CAST({top} AS DOUBLE) / NULLIF({every}, 0) AS top_share_{w}")
    return columns


def backfill_sql(root: Path) -> str:
    """The per-event update log: each event's user as of event_time + 1 ms."""
    columns = ",\n    ".join(_aggregates(lambda w: f"w{w}"))
    windows = ",\n  ".join(
        f"w{w} AS (PARTITION BY user_id ORDER BY event_time "
        f"RANGE BETWEEN INTERVAL {ms - 1} MILLISECONDS PRECEDING AND CURRENT ROW)"
        for w, ms in WINDOWS.items()
    )
    return f"""
SELECT * FROM (
  SELECT user_id, CAST(event_time AS TIMESTAMP_MS) AS event_time,
    {columns}
  FROM read_parquet('{table(root, "impressions")}')
  WHERE user_id IS NOT NULL AND event_time IS NOT NULL
    AND event_time >= {_ts(START)} - INTERVAL {LONGEST_MS} MILLISECONDS AND event_time < {_ts(END)}
  WINDOW {windows}
) WHERE event_time >= {_ts(START)}
"""


def samples_sql(root: Path) -> str:
    """Point-in-time features by a range join + GROUP BY, and the label the same way."""
    lower = lambda w: f"e.event_time >= s.event_time - INTERVAL {WINDOWS[w]} MILLISECONDS"  # noqa: E731
    columns = _aggregates(lambda w: "", lower, position="e.position")
    names = [c.rsplit(" AS ", 1)[1] for c in columns]
    counts = {n for n in names if n.rsplit("_", 1)[0] in ("imps", "top_imps", "deep_imps")}
    # Counts of an entity with no events are 0, but a NULL-keyed spine row has no entity: NULL.
    picked = [
        f"CASE WHEN s.user_id IS NULL THEN NULL ELSE coalesce(f.{n}, 0) END AS {n}" if n in counts else f"f.{n}"
        for n in names
    ]
    # Python 3.11 f-strings cannot hold a backslash: join outside.
    feature_list, picked_list = ",\n    ".join(columns), ",\n  ".join(picked)
    return f"""
WITH spine AS (
  SELECT * FROM read_parquet('{table(root, "spine")}')
  WHERE event_time IS NOT NULL AND event_time >= {_ts(START)} AND event_time < {_ts(END)}
),
events AS (
  SELECT user_id, event_time, position FROM read_parquet('{table(root, "impressions")}')
  WHERE user_id IS NOT NULL AND event_time IS NOT NULL
    AND event_time >= {_ts(START)} - INTERVAL {LONGEST_MS} MILLISECONDS AND event_time < {_ts(END)}
),
features AS (
  SELECT s.impression_id,
    {feature_list}
  FROM spine s JOIN events e
    ON e.user_id = s.user_id
   AND e.event_time < s.event_time
   AND e.event_time >= s.event_time - INTERVAL {LONGEST_MS} MILLISECONDS
  GROUP BY s.impression_id
),
labels AS (
  SELECT s.impression_id, count(*) FILTER (WHERE e.action = 'click') > 0 AS clicked
  FROM spine s JOIN read_parquet('{table(root, "engagements")}') e
    ON e.user_id = s.user_id AND e.post_id = s.post_id
   AND e.event_time > s.event_time
   AND e.event_time <= s.event_time + INTERVAL {HORIZON_MS} MILLISECONDS
  GROUP BY s.impression_id
)
SELECT s.impression_id, s.user_id, s.post_id, s.author_id, s.position, CAST(s.event_time AS TIMESTAMP_MS) AS event_time,
  {picked_list},
  CASE WHEN s.user_id IS NULL OR s.post_id IS NULL THEN NULL ELSE coalesce(l.clicked, false) END AS clicked
FROM spine s
LEFT JOIN features f USING (impression_id)
LEFT JOIN labels l USING (impression_id)
"""


def floor_sql(root: Path) -> str:
    """Read the columns the bench feature reads, and nothing else (aggregates force the decode)."""
    return (
        f"SELECT count(user_id), sum(position), max(event_time) "
        f"FROM read_parquet('{table(root, 'impressions')}')"
    )


def _runner(query: str) -> Callable[[], pa.Table]:
    def run() -> pa.Table:
        con = duckdb.connect()
        con.execute("SET enable_progress_bar = false")
        return con.sql(query).to_arrow_table()

    return run


def backfill(root: Path) -> Callable[[], pa.Table]:
    return _runner(backfill_sql(root))


def backfill_files(root: Path) -> Callable[[], Written]:
    """The same query into day-partitioned zstd Parquet, as featuresql's writer lays it out."""
    out = root / "results" / ".backfill_files.duckdb_sql"
    shutil.rmtree(out, ignore_errors=True)
    query = backfill_sql(root)

    def run() -> Written:
        con = duckdb.connect()
        con.execute("SET enable_progress_bar = false")
        (rows,) = con.execute(
            f"COPY (SELECT *, strftime(event_time, '%Y-%m-%d') AS dt FROM ({query})) TO '{out}' "
            "(FORMAT parquet, PARTITION_BY (dt), COMPRESSION zstd)"
        ).fetchone()
        return Written(out, int(rows))

    return run


def samples(root: Path) -> Callable[[], pa.Table]:
    return _runner(samples_sql(root))


def floor(root: Path) -> Callable[[], pa.Table]:
    return _runner(floor_sql(root))
