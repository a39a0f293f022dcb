"""Helpers shared by the stream tests: committed outputs, the events a stream kept, rates."""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from featuresql import Project
from featuresql.datagen import generate
from featuresql.engines import ENGINES
from featuresql.timeutil import Instant
from helpers import copy_example_project
from kafka_support import consume_all, unique
from test_replay import bind_topics

COLUMNS = {
    "impressions": "impression_id, user_id, post_id, author_id, position, event_time",
    "engagements": "user_id, post_id, author_id, action, dwell_ms, event_time",
}


def batch_rows(root: Path, name: str, start: Instant, end: Instant, paths: dict[str, str]) -> pa.Table:
    """`name` computed by DuckDB over other files (table -> Parquet path): the events a stream kept."""
    project = Project(root)
    return ENGINES["duckdb"].table(project.plan(name).reading(paths), project.root, start, end)


def files(folder: Path) -> list[str]:
    return sorted(str(p) for p in folder.rglob("*") if p.is_file() and not p.name.startswith((".", "_")))


def kept_events(con: duckdb.DuckDBPyConnection, root: Path, table: str, late_folders: list[Path], into: Path) -> str:
    """The table's replayed events less the rows the stream set aside as late (the widest source's set)."""
    sent = f"SELECT {COLUMNS[table]} FROM read_parquet('{root}/data/{table}/*.parquet') WHERE event_time IS NOT NULL"
    late = max((files(f) for f in late_folders), key=len, default=[])
    query = sent + (f" EXCEPT ALL SELECT {COLUMNS[table]} FROM read_parquet({late})" if late else "")
    into.parent.mkdir(parents=True, exist_ok=True)
    con.execute(f"COPY ({query}) TO '{into}' (FORMAT parquet)")
    return str(into)


def kafka_samples(bootstrap: str, topic: str, schema: pa.Schema) -> pa.Table:
    """The committed samples in the topic, typed like DuckDB's (JSON carries times as text)."""
    try:
        messages = consume_all(bootstrap, topic, timeout=20)
    except AssertionError:  # no topic yet: nothing committed
        return schema.empty_table()
    rows = [json.loads(m.value()) for m in messages if m.error() is None and m.value() is not None]
    for row in rows:
        for field in schema:
            if pa.types.is_timestamp(field.type) and row.get(field.name) is not None:
                row[field.name] = datetime.fromisoformat(row[field.name])
    return pa.Table.from_pylist(rows, schema=schema)


def accounting(stdout: str) -> tuple[int, int, int, int]:
    """(consumed, processed, late, rejected) from the last line of `featuresql stream`."""
    match = re.search(r"consumed ([\d,]+) = processed ([\d,]+) \+ late ([\d,]+) \+ rejected ([\d,]+)", stdout)
    assert match, stdout[-2000:]
    consumed, processed, late, rejected = (int(g.replace(",", "")) for g in match.groups())
    return consumed, processed, late, rejected


def rows_in(folder: Path) -> int:
    """Rows of the Parquet files committed under `folder` (0 when there are none)."""
    return sum(pq.ParquetFile(f).metadata.num_rows for f in files(folder))


def complete(table: pa.Table, until: datetime) -> pa.Table:
    return table.filter(pc.less_equal(table.column("event_time"), pa.scalar(until, pa.timestamp("ms"))))


def sustained_rate(stderr: str) -> float:
    """Events/s between the first and the last status line whose event count grew (the catch-up)."""
    points = [(float(m.group(1)), int(m.group(2).replace(",", "")))
              for m in re.finditer(r"^\w+\s+([0-9]+) s\s+events\s+([0-9,]+)", stderr, re.MULTILINE)]
    growing = [p for i, p in enumerate(points) if i == 0 or p[1] > points[i - 1][1]]
    if len(growing) < 2 or growing[-1][0] <= growing[0][0]:
        return 0.0
    return (growing[-1][1] - growing[0][1]) / (growing[-1][0] - growing[0][0])


def kafka_project(root: Path, bootstrap: str, events: int, days: int) -> tuple[Path, object]:
    """The example project with generated events, its catalogs bound to fresh topics on the session broker."""
    root = copy_example_project(root)
    data = generate(root / "data", events=events, days=days)
    bind_topics(root, impressions=unique("impressions"), engagements=unique("engagements"))
    for catalog in (root / "catalogs").glob("*.sql"):
        catalog.write_text(catalog.read_text().replace("'localhost:9092'", f"'{bootstrap}'"))
    return root, data


def bound_topic(root: Path, table: str) -> str:
    """The Kafka topic a project's catalog binds `table` to, as the stream and replay read it."""
    return Project(root).tables[table].stream_binding().topic
