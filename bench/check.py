"""Do two arms' results hold the same rows? A full comparison in DuckDB.

Row order is not part of the contract, so both sides are numbered in one
order (`order`, which must identify rows up to identical duplicates) and
joined on that number. Numbers and booleans compare as DOUBLE with
docs/semantics.md's relative tolerance of 1e-9 (pandas gives floats where
SQL gives integers; the values are what must agree), timestamps as epoch ms,
everything else exactly. NULL equals NULL.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import duckdb

REL_TOL = 1e-9
_NUMERIC = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "DOUBLE", "FLOAT", "BOOLEAN", "DECIMAL")


@dataclass
class Comparison:
    """What `compare` found. `agree` is the verdict."""

    left: str
    right: str
    rows_left: int
    rows_right: int
    columns: int
    missing: list[str] = field(default_factory=list)
    mismatched: dict[str, int] = field(default_factory=dict)
    example: dict[str, Any] = field(default_factory=dict)
    #: Which rows were compared one by one (the counts are always compared in full).
    where: str = "true"

    @property
    def agree(self) -> bool:
        return self.rows_left == self.rows_right and not self.missing and not self.mismatched

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "agree": self.agree}


def _source(path: Path) -> str:
    """A result file, or a folder of (day-partitioned) Parquet files, as a DuckDB table function."""
    if path.is_dir():
        return f"read_parquet('{path}/**/*.parquet', hive_partitioning = false)"
    return f"read_parquet('{path}')"


def _normalized(con: duckdb.DuckDBPyConnection, path: Path, columns: list[str], order: list[str], where: str) -> str:
    types = {row[0]: str(row[1]) for row in con.execute(f"DESCRIBE SELECT * FROM {_source(path)}").fetchall()}

    def norm(c: str) -> str:
        t = types[c].upper()
        if t.startswith("TIMESTAMP"):
            return f'epoch_ms(CAST("{c}" AS TIMESTAMP)) AS "{c}"'
        if t.startswith(_NUMERIC):
            return f'CAST("{c}" AS DOUBLE) AS "{c}"'
        return f'"{c}"'

    keys = ", ".join(f'"{c}"' for c in order)
    return (
        f"SELECT row_number() OVER (ORDER BY {keys}) AS __rn, {', '.join(norm(c) for c in columns)} "
        f"FROM {_source(path)} WHERE {where}"
    )


def compare(left: Path, right: Path, order: list[str], columns: list[str] | None = None,
            where: str = "true") -> Comparison:
    """Compare `columns` (default: every column of `left`) of two Parquet results.

    Row counts are always compared in full; the rows themselves only where
    `where` holds (a sample of entities, when both sides are too large to
    number and join in memory)."""
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    names = lambda p: [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {_source(p)}").fetchall()]  # noqa: E731
    left_cols, right_cols = names(left), names(right)
    wanted = columns or left_cols
    missing = [c for c in wanted if c not in left_cols or c not in right_cols]
    present = [c for c in wanted if c not in missing]
    count = lambda p: int(con.execute(f"SELECT count(*) FROM {_source(p)}").fetchall()[0][0])  # noqa: E731
    result = Comparison(left.stem, right.stem, count(left), count(right), len(present), missing, where=where)
    if result.rows_left != result.rows_right or not present:
        return result
    con.execute(f"CREATE TEMP TABLE l AS {_normalized(con, left, present, order, where)}")
    con.execute(f"CREATE TEMP TABLE r AS {_normalized(con, right, present, order, where)}")
    types = {row[0]: str(row[1]) for row in con.execute("DESCRIBE l").fetchall()}

    def same(c: str) -> str:
        a, b = f'l."{c}"', f'r."{c}"'
        if types[c] == "DOUBLE":
            return f"({a} IS NOT DISTINCT FROM {b} OR abs({a} - {b}) <= {REL_TOL} * greatest(abs({a}), abs({b})))"
        return f"({a} IS NOT DISTINCT FROM {b})"

    counts = ", ".join(f'count(*) FILTER (WHERE NOT {same(c)}) AS "{c}"' for c in present)
    row = con.execute(f"SELECT {counts} FROM l JOIN r USING (__rn)").fetchall()[0]
    result.mismatched = {c: int(n) for c, n in zip(present, row) if n}
    if result.mismatched:
        c = next(iter(result.mismatched))
        found = con.execute(
            f'SELECT l.__rn, l."{c}", r."{c}" FROM l JOIN r USING (__rn) WHERE NOT {same(c)} LIMIT 1'
        ).fetchall()[0]
        result.example = {"column": c, "row": int(found[0]), "left": found[1], "right": found[2]}
    return result


def _feast_spine(root: Path) -> str:
    """The spine rows the Feast arm gives Feast as entity rows: a user and a time in range."""
    from bench.arms import END, START, table

    return (f"(SELECT * FROM read_parquet('{table(root, 'spine')}') WHERE user_id IS NOT NULL "
            f"AND event_time >= TIMESTAMP '{START}' AND event_time < TIMESTAMP '{END}')")


def feast_reference(root: Path, out: Path) -> int:
    """What Feast's semantics give, computed independently in DuckDB: per spine row
    with a user and a time in range, the latest update-log row with time <= t."""
    from bench.arms import update_log

    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    con.execute(
        f"""COPY (
  SELECT s.impression_id, l.* EXCLUDE (user_id, event_time)
  FROM {_feast_spine(root)} s
  ASOF LEFT JOIN read_parquet('{update_log(root)}') l
    ON s.user_id = l.user_id AND s.event_time >= l.event_time
) TO '{out}' (FORMAT parquet)"""
    )
    return int(con.execute(f"SELECT count(*) FROM read_parquet('{out}')").fetchall()[0][0])


def feast_join_rows(root: Path) -> tuple[int, int]:
    """The spine rows Feast is given (a user, a time in range) and how many rows its
    point-in-time join materialises for them before it keeps the latest one.

    Feast 0.67's ibis-based stores (DuckDB among them) join each entity row to every
    feature row of its key with time <= t (and within the TTL, longer than the data
    here), then keep the latest by ROW_NUMBER. Per spine row that is the number of
    update-log rows of its user up to t: the running count at the ASOF match, summed here.
    """
    from bench.arms import update_log

    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    spine_rows, join_rows = con.execute(
        f"""WITH log AS (
  -- RANGE, not ROW_NUMBER: rows at the same time all count, whichever of them ASOF matches.
  SELECT user_id, event_time, count(*) OVER (PARTITION BY user_id ORDER BY event_time
                                             RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS rank
  FROM read_parquet('{update_log(root)}')
)
SELECT count(*), coalesce(sum(l.rank), 0) FROM {_feast_spine(root)} s ASOF LEFT JOIN log l
  ON s.user_id = l.user_id AND s.event_time >= l.event_time"""
    ).fetchall()[0]
    return int(spine_rows), int(join_rows)


def same_rows_share(left: Path, right: Path, key: str, columns: list[str]) -> float:
    """The share of `left`'s rows whose `columns` all equal `right`'s row with the same `key`."""
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    same = " AND ".join(
        f'(l."{c}" IS NOT DISTINCT FROM r."{c}" OR abs(CAST(l."{c}" AS DOUBLE) - CAST(r."{c}" AS DOUBLE)) '
        f'<= {REL_TOL} * greatest(abs(CAST(l."{c}" AS DOUBLE)), abs(CAST(r."{c}" AS DOUBLE))))'
        for c in columns
    )
    row = con.execute(
        f"SELECT avg(CASE WHEN {same} THEN 1.0 ELSE 0.0 END) FROM read_parquet('{left}') l "
        f'JOIN read_parquet(\'{right}\') r USING ("{key}")'
    ).fetchall()[0]
    return float(row[0] or 0.0)
