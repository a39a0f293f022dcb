"""Stream sources that set bad records aside: typed columns and a reject reason, in Flink SQL.

A stream must keep running through bad records (docs/semantics.md section 4).
A Kafka source therefore reads each message value as one string (`'format' =
'raw'`) plus its topic, partition, offset and timestamp, and the catalog's
columns become computed columns parsed from that string. A computed column
`__reject` names what is wrong with a record, or is NULL for a good one. The
stream's arrivals view (compile/flink.py) keeps only `__reject IS NULL`, before
its running maximum of event times, so every query reads good records only; one
query per table reads the source table itself and writes the others to the
dead-letter folder. A folder (Parquet) source is typed already: it gets
the same `__reject` for the reasons that apply to typed rows.

Everything is SQL: no per-row Python. What Flink 2.3 allows, verified on it,
is in QUIRKS below.

Cost. Each JSON function parses the value again, and Flink inlines a computed
column wherever it is read: `__reject` is evaluated in the watermark generator
(inside `__rowtime`), in the arrivals view's filter and `__rowtime`, and in the
dead-letter query. So `__reject` starts with a cheap test that no reason
applies (one parse per column, see _all_good); the detailed CASE (about four
parses per column) runs only for the records that fail it. Measured on 2 cores
(189,193 engagement records in one Kafka partition, `featuresql stream
user_engagement`, read rate while catching up, runs side by side): Flink's json
format (the previous source, which failed the job on a bad record) 4,401 and
6,055 records/s; this source without the test 1,614/s; with it 2,460 and
2,248/s, i.e. 0.37-0.56x the json format. The lever left is a Java function
that parses the value once and returns a ROW (docs/research/flink-2.3.md,
"Session 4"). A watermark test on the time reasons only is not safe: a record
rejected for another reason would move Flink's watermark past the view's maximum.
"""

from __future__ import annotations

import re

from sqlglot import exp

from featuresql.compile.flink_dialect import flink_sql, interval
from featuresql.definitions import CatalogTable, StreamBinding

#: Flink 2.3 facts this module is built on (each one was tried on Flink 2.3.0).
QUIRKS: dict[str, str] = {
    # "Unknown identifier '__ok'": a computed column cannot read another computed column.
    "computed_reads_computed": "every computed column inlines the expressions it needs",
    # JSON_VALUE ... RETURNING BIGINT: "Unsupported type 'BIGINT' for RETURNING in JSON_VALUE()".
    "json_value_returning": "values are read as STRING and TRY_CAST to the catalog type (as the json format's "
                            "text parsing: '13' reads as 13 into BIGINT, 1.5 as 1 into INT, 17 as '17' into STRING)",
    # JSON_EXISTS and JSON_QUERY say the same for {"c": null} and {}: a member holding null 'does not exist'.
    "null_member_missing": "a multi-member JSON_QUERY `$['c','c']` keeps null members and omits missing ones: "
                           "'{}' means the field is missing",
    # Jayway filters and functions ($[?(...)], keys(), length()) need json-smart, not on Flink's classpath.
    "no_jsonpath_filters": "only plain member paths are used",
    # A NULL rowtime fails the job; a rowtime that jumps to 2200 makes every later event late.
    "rowtime_of_rejects": "a rejected record's rowtime is the epoch: it never moves the watermark",
}

REJECT = "__reject"
PAYLOAD = "__payload"
EPOCH = "TIMESTAMP '1970-01-01 00:00:00.000'"

#: The reasons a record is rejected, in the order they are tested (the first that applies is given).
REASONS: tuple[str, ...] = (
    "empty message",
    "malformed JSON",
    "not a JSON object",
    "missing field <c>",
    "wrong type for <c>: <type>",
    "NULL event time",
    "NULL key <c>",
    "event time too far in the future",
)

#: Kafka metadata a source declares (name in the DDL, metadata key, type).
_KAFKA_METADATA = (
    ("__topic", "topic", "STRING"),
    ("__partition", "partition", "INT"),
    ("__offset", "offset", "BIGINT"),
    ("__timestamp", "timestamp", "TIMESTAMP_LTZ(3)"),
)
#: Filesystem metadata a folder source declares.
_FILE_METADATA = (
    ("__file", "file.path", "STRING"),
    ("__modified", "file.modification-time", "TIMESTAMP_LTZ(3)"),
)
#: The dead-letter files' columns: where the record came from, why, and the record itself.
DEAD_LETTER_COLUMNS = ("reason", "topic", "partition", "offset", "file", "payload", "timestamp")


def _quote(name: str) -> str:
    return flink_sql(exp.to_identifier(name, quoted=True))


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _type(column_type: exp.DataType) -> str:
    # The contract's times are milliseconds; plain TIMESTAMP would be (6) in Flink.
    if column_type.is_type(exp.DType.TIMESTAMP, exp.DType.DATETIME):
        return "TIMESTAMP(3)"
    return flink_sql(column_type)


def _is_text(column_type: exp.DataType) -> bool:
    return column_type.is_type(*exp.DataType.TEXT_TYPES)


def _path(name: str, *members: str) -> str:
    """A JSON path literal: `$.c`, or `$['c']` for names a dotted path cannot hold."""
    if not members and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
        return _literal(f"$.{name}")
    names = ",".join("'" + n.replace("\\", "\\\\").replace("'", "\\'") + "'" for n in (name, *members))
    return _literal(f"$[{names}]")


def _text(name: str) -> str:
    return f"JSON_VALUE({_quote(PAYLOAD)}, {_path(name)} RETURNING STRING)"


def typed_value(table: CatalogTable, name: str) -> str:
    """The column `name` of a Kafka record, parsed from its JSON value (NULL when absent or unreadable)."""
    column = table.column(name)
    assert column is not None
    if _is_text(column.type):
        return _text(column.name)
    return f"TRY_CAST({_text(column.name)} AS {_type(column.type)})"


def _missing(name: str) -> str:
    # '$['c','c']' gives {"c": ...} for a present member, null included, and {} for a missing one.
    return f"JSON_QUERY({_quote(PAYLOAD)}, {_path(name, name)}) = '{{}}'"


def _wrong_type(table: CatalogTable, name: str) -> str:
    column = table.column(name)
    assert column is not None
    # An object or an array where a value belongs; or text the catalog type cannot read.
    nested = f"JSON_QUERY({_quote(PAYLOAD)}, {_path(name)}) IS NOT NULL"
    if _is_text(column.type):
        return nested
    return f"({nested} OR ({_text(name)} IS NOT NULL AND {typed_value(table, name)} IS NULL))"


def _too_far_ahead(time: str, written: str, max_future_ms: int | None) -> list[tuple[str, str]]:
    if max_future_ms is None:
        return []
    # Against the time the record was written (Kafka message timestamp, file modification
    # time), not the wall clock: each part of the job evaluates the expression on its own,
    # and a clock would let them disagree on a record near the bound, or change on a re-read.
    return [(f"{time} > CAST({_quote(written)} AS TIMESTAMP(3)) + {interval(max_future_ms)}",
             "event time too far in the future")]


def _case(branches: list[tuple[str, str]]) -> str:
    if not branches:
        return "CAST(NULL AS STRING)"
    whens = "".join(f"\n    WHEN {condition} THEN {_literal(reason)}" for condition, reason in branches)
    return f"CASE{whens}\n  END"


def kafka_reject(table: CatalogTable, keys: tuple[str, ...], max_future_ms: int | None) -> str:
    """The reason a Kafka record of `table` is rejected (NULL: a good record), tested in REASONS order.

    `keys` are the key columns every reader of the table in the job needs
    (a record with a NULL in one reaches no window)."""
    detailed = kafka_reasons(table, keys, max_future_ms)
    return f"CASE WHEN {_all_good(table, max_future_ms)} THEN CAST(NULL AS STRING) ELSE {detailed} END"


def kafka_reasons(table: CatalogTable, keys: tuple[str, ...], max_future_ms: int | None) -> str:
    """kafka_reject's detailed CASE, one WHEN per reason, without the cheap test in front."""
    payload = _quote(PAYLOAD)
    branches = [
        (f"{payload} IS NULL", "empty message"),
        (f"{payload} IS NOT JSON", "malformed JSON"),
        (f"{payload} IS NOT JSON OBJECT", "not a JSON object"),
    ]
    branches += [(_missing(c.name), f"missing field {c.name}") for c in table.columns]
    branches += [(_wrong_type(table, c.name), f"wrong type for {c.name}: {_type(c.type)}") for c in table.columns]
    time = typed_value(table, table.time_column)
    branches.append((f"{time} IS NULL", "NULL event time"))
    branches += [(f"{typed_value(table, k)} IS NULL", f"NULL key {_column_name(table, k)}") for k in keys]
    branches += _too_far_ahead(time, "__timestamp", max_future_ms)
    return _case(branches)


def _all_good(table: CatalogTable, max_future_ms: int | None) -> str:
    """A cheap test that no reason applies, in front of the detailed CASE (which then runs for few records).

    Each JSON function parses the value again: the detailed CASE costs about four
    parses per column, this one one per column. A JSON object whose every column
    reads as a non-NULL value of its type has no member missing, none of a wrong
    type (JSON_VALUE gives NULL for an object or an array) and no NULL time or key;
    only the future is left to test. A good record with a NULL in a nullable
    column falls through to the detailed CASE, which finds no reason either."""
    tests = [f"{_quote(PAYLOAD)} IS JSON OBJECT"]
    tests += [f"{typed_value(table, c.name)} IS NOT NULL" for c in table.columns]
    tests += [f"NOT ({condition})" for condition, _ in _too_far_ahead(typed_value(table, table.time_column),
                                                                      "__timestamp", max_future_ms)]
    return "(" + "\n      AND ".join(tests) + ")"


def folder_reject(table: CatalogTable, keys: tuple[str, ...], max_future_ms: int | None) -> str:
    """The reason a row of a Parquet folder stream is rejected: it is typed, so only NULLs and the future."""
    time = _quote(table.time_column)
    branches = [(f"{time} IS NULL", "NULL event time")]
    branches += [(f"{_quote(_column_name(table, k))} IS NULL", f"NULL key {_column_name(table, k)}") for k in keys]
    branches += _too_far_ahead(time, "__modified", max_future_ms)
    return _case(branches)


def _column_name(table: CatalogTable, name: str) -> str:
    column = table.column(name)
    return column.name if column is not None else name


def source_columns(
    table: CatalogTable, binding: StreamBinding, keys: tuple[str, ...], rowtime: str, shift: str
) -> list[str]:
    """The column lines of a stream source's DDL: physical and metadata columns (a Kafka
    source's `__partition` among them), the catalog's columns, `__reject` and the rowtime
    (`rowtime` + `shift`); the caller adds the arrival time and the WATERMARK."""
    lines: list[str] = []
    if binding.is_kafka:
        lines.append(f"  {_quote(PAYLOAD)} STRING")
        lines += [f"  {_quote(n)} {kind} METADATA FROM '{key}' VIRTUAL" for n, key, kind in _KAFKA_METADATA]
        lines += [f"  {_quote(c.name)} AS {typed_value(table, c.name)}" for c in table.columns]
        reject = kafka_reject(table, keys, binding.max_future_ms)
        time = typed_value(table, table.time_column)
    else:
        lines += [f"  {_quote(c.name)} {flink_sql(c.type)}" for c in table.columns]
        lines += [f"  {_quote(n)} {kind} METADATA FROM '{key}' VIRTUAL" for n, key, kind in _FILE_METADATA]
        reject = folder_reject(table, keys, binding.max_future_ms)
        time = _quote(table.time_column)
    lines.append(f"  {_quote(REJECT)} AS {reject}")
    # Only good records carry their time; a rejected one never moves Flink's watermark
    # (nor the stream's own: the arrivals view leaves rejected records out before its MAX).
    lines.append(f"  {rowtime} AS CASE WHEN {reject} IS NULL THEN {time} ELSE {EPOCH} END{shift}")
    return lines


def accepted() -> str:
    """The condition every query of a stream puts on its source: not rejected."""
    return f"{_quote(REJECT)} IS NULL"


def dead_letter_query(table: CatalogTable, binding: StreamBinding, source: str) -> str:
    """The rejected records of one source, with their reason and where they came from."""
    null_text = "CAST(NULL AS STRING)"
    if binding.is_kafka:
        # The message's bytes as they came: a STRING column would keep invalid UTF-8 as it is
        # and write it to Parquet as text no reader can decode.
        values = [_quote(REJECT), _quote("__topic"), _quote("__partition"), _quote("__offset"), null_text,
                  f"CAST({_quote(PAYLOAD)} AS BYTES)", f"CAST({_quote('__timestamp')} AS TIMESTAMP(3))"]
    else:
        # A typed row has no text of its own: the dead letter holds it as a JSON object.
        row = ", ".join(f"{_literal(c.name)} VALUE {_quote(c.name)}" for c in table.columns)
        values = [_quote(REJECT), null_text, "CAST(NULL AS INT)", "CAST(NULL AS BIGINT)", _quote("__file"),
                  f"CAST(JSON_OBJECT({row} NULL ON NULL) AS BYTES)", f"CAST({_quote('__modified')} AS TIMESTAMP(3))"]
    select = ",\n  ".join(f"{v} AS {_quote(c)}" for v, c in zip(values, DEAD_LETTER_COLUMNS))
    return f"SELECT {select}\nFROM {_quote(source)}\nWHERE {_quote(REJECT)} IS NOT NULL"
