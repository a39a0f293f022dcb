"""Compare two engines' outputs row by row and column by column (for `featuresql verify`).

Rows are paired by their identity columns (entity keys and time for an update
log, the spine's columns for samples). Identical rows may repeat (duplicate
events are two events, docs/semantics.md section 4), so within one identity the
rows are numbered in the order of all their values and paired by that number.
Integers, strings, booleans and times must be equal; DOUBLE columns are equal
within a relative tolerance (section 3), NULL equals NULL and NaN equals NaN.
The pairing and the checks run in DuckDB, not row by row in Python.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb
import pyarrow as pa

#: Relative tolerance for DOUBLE columns: summation order differs between engines.
RELATIVE_TOLERANCE = 1e-9


@dataclass(frozen=True)
class ColumnResult:
    name: str
    matching: int
    compared: int

    @property
    def ok(self) -> bool:
        return self.matching == self.compared


@dataclass
class Comparison:
    """What two outputs of the same definition have in common."""

    name: str
    batch_rows: int
    stream_rows: int
    columns: list[ColumnResult] = field(default_factory=list)
    only_batch: int = 0
    only_stream: int = 0
    #: The first differing rows: identity values, then {column: (batch, stream)}.
    examples: list[tuple[dict[str, object], dict[str, tuple[object, object]]]] = field(default_factory=list)
    schema_problem: str | None = None

    @property
    def ok(self) -> bool:
        return (
            self.schema_problem is None
            and self.only_batch == 0
            and self.only_stream == 0
            and all(c.ok for c in self.columns)
        )


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _normalized(table: pa.Table) -> pa.Table:
    # Both engines write millisecond times; Flink's int widths may differ in name only.
    fields = []
    for f in table.schema:
        if pa.types.is_timestamp(f.type):
            fields.append(pa.field(f.name, pa.timestamp("ms")))
        elif pa.types.is_integer(f.type):
            fields.append(pa.field(f.name, pa.int64()))
        elif pa.types.is_large_string(f.type):
            fields.append(pa.field(f.name, pa.string()))
        else:
            fields.append(f)
    return table.cast(pa.schema(fields))


def compare(
    name: str,
    batch: pa.Table,
    stream: pa.Table,
    identity: list[str],
    examples: int = 5,
    tolerance: float = RELATIVE_TOLERANCE,
) -> Comparison:
    """Pair the rows of `batch` and `stream` by `identity` and compare every column."""
    result = Comparison(name, batch.num_rows, stream.num_rows)
    if batch.num_rows and stream.num_rows and batch.schema.names != stream.schema.names:
        result.schema_problem = f"columns differ: batch {batch.schema.names}, stream {stream.schema.names}"
        return result
    if not batch.num_rows and not stream.num_rows:
        return result
    reference = batch if batch.num_rows else stream
    names = reference.schema.names
    con = duckdb.connect()
    con.register("batch_rows", _normalized(batch) if batch.num_rows else _normalized(stream).slice(0, 0))
    con.register("stream_rows", _normalized(stream) if stream.num_rows else _normalized(batch).slice(0, 0))
    floats = {f.name for f in reference.schema if pa.types.is_floating(f.type)}
    others = [n for n in names if n not in identity]
    order = ", ".join(f"{_quote(n)} NULLS FIRST" for n in sorted(others, key=lambda n: n in floats)) or "1"
    partition = ", ".join(_quote(n) for n in identity) or "1"

    def numbered(table: str) -> str:
        return f"SELECT *, row_number() OVER (PARTITION BY {partition} ORDER BY {order}) AS __n FROM {table}"

    on = " AND ".join([f"b.{_quote(n)} IS NOT DISTINCT FROM s.{_quote(n)}" for n in identity] + ["b.__n = s.__n"])

    def same(column: str) -> str:
        b, s = f"b.{_quote(column)}", f"s.{_quote(column)}"
        if column in floats:
            return (
                f"(({b} IS NULL AND {s} IS NULL) OR (isnan({b}) AND isnan({s})) OR ({b} = {s}) "
                # Only finite values get the tolerance: DuckDB orders NaN above every
                # number (NaN <= NaN holds), and inf - x is inf <= tolerance * inf.
                f"OR (isfinite({b}) AND isfinite({s}) AND abs({b} - {s}) <= {tolerance!r} * greatest(abs({b}), abs({s}))))"
            )
        return f"({b} IS NOT DISTINCT FROM {s})"

    paired = (
        "SELECT b.__n AS __bn, s.__n AS __sn, "
        + ", ".join(f"{same(n)} AS __same_{i}" for i, n in enumerate(names))
        + ", " + ", ".join(f"b.{_quote(n)} AS __b_{i}, s.{_quote(n)} AS __s_{i}" for i, n in enumerate(names))
        + f" FROM ({numbered('batch_rows')}) AS b FULL OUTER JOIN ({numbered('stream_rows')}) AS s ON {on}"
    )
    con.execute(f"CREATE TEMP TABLE paired AS {paired}")
    counts = con.execute(
        "SELECT count(*) FILTER (WHERE __sn IS NULL), count(*) FILTER (WHERE __bn IS NULL), "
        + ", ".join(f"count(*) FILTER (WHERE __bn IS NOT NULL AND __sn IS NOT NULL AND __same_{i})" for i in range(len(names)))
        + ", count(*) FILTER (WHERE __bn IS NOT NULL AND __sn IS NOT NULL) FROM paired"
    ).fetchall()[0]
    result.only_batch, result.only_stream = int(counts[0]), int(counts[1])
    both = int(counts[-1])
    result.columns = [ColumnResult(n, int(counts[2 + i]), both) for i, n in enumerate(names)]
    differing = " OR ".join(f"NOT __same_{i}" for i in range(len(names)))
    rows = con.execute(
        f"SELECT * FROM paired WHERE __bn IS NULL OR __sn IS NULL OR {differing} LIMIT {int(examples)}"
    ).fetchall()
    columns = [d[0] for d in con.description] if con.description else []
    for row in rows:
        values = dict(zip(columns, row))
        side = "__b_" if values["__bn"] is not None else "__s_"
        ident = {n: values[f"{side}{names.index(n)}"] for n in identity}
        diff = {
            n: (values[f"__b_{i}"] if values["__bn"] is not None else "(no row)",
                values[f"__s_{i}"] if values["__sn"] is not None else "(no row)")
            for i, n in enumerate(names)
            if not values[f"__same_{i}"] and n not in identity
        }
        if values["__bn"] is None or values["__sn"] is None:
            diff = {"(row)": ("present" if values["__bn"] is not None else "(no row)",
                              "present" if values["__sn"] is not None else "(no row)")}
        result.examples.append((ident, diff))
    return result


def render(comparison: Comparison) -> str:
    """A per-column table and the first differing rows, for the terminal."""
    lines = [
        f"{comparison.name}: batch {comparison.batch_rows:,} rows, stream {comparison.stream_rows:,} rows"
        + ("" if comparison.ok else "  MISMATCH")
    ]
    if comparison.schema_problem:
        return "\n".join([*lines, f"  {comparison.schema_problem}"])
    if comparison.only_batch or comparison.only_stream:
        lines.append(f"  rows only in batch: {comparison.only_batch:,}; only in stream: {comparison.only_stream:,}")
    width = max((len(c.name) for c in comparison.columns), default=6)
    lines.append(f"  {'column'.ljust(width)}  {'matching':>10}  {'compared':>10}")
    for column in comparison.columns:
        mark = "" if column.ok else "  <-"
        lines.append(f"  {column.name.ljust(width)}  {column.matching:>10,}  {column.compared:>10,}{mark}")
    for identity, diff in comparison.examples:
        key = ", ".join(f"{k}={v}" for k, v in identity.items())
        detail = "; ".join(f"{col}: batch {b!r} vs stream {s!r}" for col, (b, s) in diff.items())
        lines.append(f"  first differences: {key}: {detail}")
    return "\n".join(lines)
