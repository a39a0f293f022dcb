"""Catalog tables from `catalogs/*.sql`: Flink-style CREATE TABLE with a WATERMARK."""

from __future__ import annotations

import difflib
import re

from sqlglot import exp

from featuresql.definitions import CatalogColumn, CatalogTable, StreamBinding
from featuresql.diagnostics import Diagnostic, FeaturesqlError
from featuresql.parse import ParsedFile

FORMATS = ("parquet", "csv")
#: Batch options; `stream.*` options (STREAM_OPTIONS) bind the table for the streaming engine.
KNOWN_OPTIONS = ("path", "format", "label_columns", "description")

STREAM_CONNECTORS = ("filesystem", "kafka")
STREAM_FORMATS = ("json",)  # the only one for now; Avro / schema registry are a later step
STARTUP_MODES = ("earliest", "latest", "group")
SECURITY_PROTOCOLS = ("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL")
SASL_MECHANISMS = ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512")
#: Every `stream.*` option, with what it takes.
STREAM_OPTIONS: dict[str, str] = {
    "stream.connector": "kafka | filesystem (default: the directory of 'path', read as it grows)",
    "stream.topic": "the Kafka topic",
    "stream.format": "json (the only stream format for now)",
    "stream.bootstrap": "host:port[,host:port...]",
    "stream.group": "consumer group id (default featuresql-<table>)",
    "stream.startup": "earliest | latest | group (where a fresh job starts; default earliest)",
    "stream.security.protocol": "PLAINTEXT | SSL | SASL_PLAINTEXT | SASL_SSL (default SASL_SSL with SASL)",
    "stream.sasl.mechanism": "PLAIN | SCRAM-SHA-256 | SCRAM-SHA-512",
    "stream.sasl.username.env": "name of the environment variable holding the SASL user name",
    "stream.sasl.password.env": "name of the environment variable holding the SASL password",
    "stream.max-future": "how far an event time may be ahead of when the record was written, e.g. '1 d' "
                         "(the default), '6 h', '30 min'; 'none' turns the check off",
}
_KAFKA_ONLY = tuple(k for k in STREAM_OPTIONS if k not in ("stream.connector", "stream.max-future"))
_ENV_OPTIONS = ("stream.sasl.username.env", "stream.sasl.password.env")
#: A key with one of these words (split at . _ -) would hold a credential in the catalog file.
_SECRET_WORDS = frozenset({"password", "passwd", "pwd", "secret", "token", "jaas", "credential", "credentials",
                           "username", "user", "apikey"})
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_TOPIC = re.compile(r"^[A-Za-z0-9._-]{1,249}$")
_HOST_PORT = re.compile(r"^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+):([0-9]{1,5})$")
_UNIT_MS = {"MILLISECOND": 1, "SECOND": 1_000, "MINUTE": 60_000, "HOUR": 3_600_000, "DAY": 86_400_000}


def load_catalog_table(parsed: ParsedFile) -> tuple[CatalogTable | None, list[Diagnostic]]:
    """Interpret one catalog file; every problem is a diagnostic, never an exception."""
    creates = [s for s in parsed.statements if isinstance(s, exp.Create)]
    if len(parsed.statements) != 1 or len(creates) != 1 or not isinstance(creates[0].this, exp.Schema):
        node = parsed.statements[0] if parsed.statements else None
        return None, [parsed.diagnostic(node, "FS132", "a catalog file holds exactly one CREATE TABLE name (...) WITH (...)")]
    create = creates[0]
    schema: exp.Schema = create.this
    table = schema.this
    name = table.name
    diagnostics: list[Diagnostic] = []

    columns: list[CatalogColumn] = []
    watermark: exp.WatermarkColumnConstraint | None = None
    for item in schema.expressions:
        if isinstance(item, exp.ColumnDef):
            kind = item.args.get("kind")
            if kind is None:
                diagnostics.append(parsed.diagnostic(item, "FS132", f"column {item.name} needs a type"))
                continue
            if any(c.name.lower() == item.name.lower() for c in columns):
                diagnostics.append(parsed.diagnostic(item, "FS132", f"column {item.name} is declared twice"))
            columns.append(CatalogColumn(item.name, kind))
        elif isinstance(item, exp.WatermarkColumnConstraint):
            watermark = item
        elif isinstance(item, (exp.Identifier, exp.Column)):
            diagnostics.append(parsed.diagnostic(item, "FS132", f"column {item.name} needs a type, e.g. {item.name} VARCHAR"))
        else:
            diagnostics.append(parsed.diagnostic(item, "FS132", f"a catalog table holds columns and one WATERMARK, not {item.sql()}"))

    time_column, delay = "", 0
    if watermark is None:
        diagnostics.append(parsed.diagnostic(
            table, "FS130",
            f"table {name} has no WATERMARK: add `WATERMARK FOR <time column> AS <time column> - INTERVAL '5' SECOND`",
        ))
    elif not isinstance(watermark.this, exp.Column):
        diagnostics.append(parsed.diagnostic(
            watermark, "FS130", "write WATERMARK FOR <time column> AS <time column> - INTERVAL '5' SECOND"
        ))
    else:
        time_column = watermark.this.name
        column = next((c for c in columns if c.name.lower() == time_column.lower()), None)
        if column is None:
            diagnostics.append(parsed.diagnostic(watermark.this, "FS130", f"WATERMARK column {time_column} is not a column of {name}"))
        elif not column.type.is_type(exp.DType.TIMESTAMP, exp.DType.TIMESTAMP_MS):
            diagnostics.append(parsed.diagnostic(
                watermark.this, "FS130", f"event time column {time_column} must be TIMESTAMP(3), not {column.type.sql()}"
            ))
        else:
            time_column = column.name
        parsed_delay = _watermark_delay(watermark.expression, time_column)
        if parsed_delay is None:
            diagnostics.append(parsed.diagnostic(
                watermark.expression or watermark, "FS130",
                f"WATERMARK must be `{time_column}` or `{time_column} - INTERVAL 'n' SECOND` (or MILLISECOND/MINUTE/HOUR)",
            ))
        else:
            delay = parsed_delay

    options, option_diagnostics, stream_diagnostics, path_at = _options(parsed, create, name, columns)
    diagnostics.extend(option_diagnostics)
    if diagnostics:
        return None, diagnostics + stream_diagnostics
    # A bad stream binding does not hide the table from batch features (no FS101 cascade):
    # the diagnostics still make the project invalid.
    table = CatalogTable(name, parsed.source.path, tuple(columns), time_column, delay, options, path_at)
    return table, stream_diagnostics


def _watermark_delay(expression: exp.Expr | None, time_column: str) -> int | None:
    if isinstance(expression, exp.Column) and expression.name.lower() == time_column.lower():
        return 0
    if not isinstance(expression, exp.Sub) or not isinstance(expression.this, exp.Column):
        return None
    if expression.this.name.lower() != time_column.lower() or not isinstance(expression.expression, exp.Interval):
        return None
    interval = expression.expression
    unit = (interval.unit.name if interval.unit else "").upper().rstrip("S")
    try:
        amount = int(interval.this.name)
    except (TypeError, ValueError):
        return None
    if unit not in _UNIT_MS or amount < 0:
        return None
    return amount * _UNIT_MS[unit]


def _options(
    parsed: ParsedFile, create: exp.Create, name: str, columns: list[CatalogColumn]
) -> tuple[tuple[tuple[str, str], ...], list[Diagnostic], list[Diagnostic], tuple[int, int]]:
    diagnostics: list[Diagnostic] = []
    options: dict[str, str] = {}
    nodes: dict[str, tuple[exp.Expr, exp.Expr]] = {}
    properties = create.args.get("properties")
    for prop in properties.expressions if properties else []:
        key_node, value_node = prop.this, prop.args.get("value")
        if not isinstance(prop, exp.Property) or not isinstance(key_node, exp.Literal) or not isinstance(value_node, exp.Literal):
            diagnostics.append(parsed.diagnostic(prop, "FS131", "WITH options are written 'key' = 'value'"))
            continue
        key, value = key_node.name, value_node.name
        nodes[key] = (key_node, value_node)
        if key not in KNOWN_OPTIONS and not key.startswith("stream.") and looks_secret(key):
            diagnostics.append(parsed.diagnostic(key_node, "FS136", _secret_message(key)))
        elif key not in KNOWN_OPTIONS and not key.startswith("stream."):
            diagnostics.append(parsed.diagnostic(
                key_node, "FS131", f"unknown option '{key}' (known: {', '.join(KNOWN_OPTIONS)}, stream.*)"
            ))
        options[key] = value
        if key == "format" and value.lower() not in FORMATS:
            diagnostics.append(parsed.diagnostic(value_node, "FS131", f"format '{value}' is not one of {', '.join(FORMATS)}"))
        if key == "label_columns":
            for column in (c.strip() for c in value.split(",") if c.strip()):
                if not any(c.name.lower() == column.lower() for c in columns):
                    diagnostics.append(parsed.diagnostic(value_node, "FS131", f"label column {column} is not a column of {name}"))
    if not options.get("path"):
        diagnostics.append(parsed.diagnostic(
            create.this.this, "FS131", f"table {name} needs WITH ('path' = 'data/{name}/*.parquet')"
        ))
    stream_diagnostics = [
        parsed.diagnostic(nodes[key][1] if on_value else nodes[key][0], code, message)
        for key, on_value, code, message in check_stream_options(options)
    ]
    path_at = parsed.diagnostic(nodes["path"][1] if "path" in nodes else create, "FS131", "")
    return tuple(options.items()), diagnostics, stream_diagnostics, (path_at.line, path_at.col)


# -- stream bindings ------------------------------------------------------------------------

#: A problem with the stream options: (option key, points at its value?, code, message).
StreamProblem = tuple[str, bool, str, str]


def looks_secret(key: str) -> bool:
    """Whether an option key names a credential (a literal one is never allowed in a catalog)."""
    if key.endswith(".env"):
        return False
    return any(word in _SECRET_WORDS for word in re.split(r"[._-]", key.lower()))


def _secret_message(key: str) -> str:
    return (f"'{key}' would put a secret in the catalog file: credentials come from environment variables, "
            "e.g. 'stream.sasl.username.env' = 'KAFKA_USER', 'stream.sasl.password.env' = 'KAFKA_PASSWORD' "
            "(the value is not shown)")


def check_stream_options(options: dict[str, str]) -> list[StreamProblem]:
    """Every problem of the `stream.*` options (FS133 - FS136), in option order."""
    # Messages never quote an option's value: a credential typed into the wrong
    # option would otherwise land in CI logs. The diagnostic points at the value.
    problems: list[StreamProblem] = []
    stream = {k: v for k, v in options.items() if k.startswith("stream.")}
    for key in stream:
        if key in STREAM_OPTIONS:
            continue
        if looks_secret(key):
            problems.append((key, False, "FS136", _secret_message(key)))
        else:
            close = difflib.get_close_matches(key, list(STREAM_OPTIONS), n=1)
            hint = f"did you mean '{close[0]}'? " if close else ""
            problems.append((key, False, "FS133", f"unknown stream option '{key}': {hint}known: {', '.join(STREAM_OPTIONS)}"))

    if "stream.max-future" in stream and max_future_ms(stream["stream.max-future"]) == -1:
        problems.append(("stream.max-future", True, "FS135",
                         "stream.max-future is not a duration: write e.g. '1 d', "
                         "'6 h', '30 min', '90 s', or 'none'"))
    connector = stream.get("stream.connector", "filesystem").strip().lower()
    if "stream.connector" in stream and connector not in STREAM_CONNECTORS:
        problems.append(("stream.connector", True, "FS135",
                         f"stream.connector is not one of {', '.join(STREAM_CONNECTORS)}"))
    elif connector == "kafka":
        for required, example in (("stream.topic", "'stream.topic' = '<topic>'"),
                                  ("stream.bootstrap", "'stream.bootstrap' = 'localhost:9092'")):
            if not stream.get(required, "").strip():
                problems.append(("stream.connector", False, "FS134",
                                 f"a Kafka binding needs {required}: add {example}"))
    else:
        for key in stream:
            if key in _KAFKA_ONLY:
                problems.append((key, False, "FS134",
                                 f"'{key}' applies to Kafka: add 'stream.connector' = 'kafka' "
                                 f"(the {connector} connector reads the table's 'path')"))
    if connector != "kafka":
        return problems

    value = stream.get("stream.format", "json").strip().lower()
    if value not in STREAM_FORMATS:
        problems.append(("stream.format", True, "FS135",
                         "stream.format is not supported: 'json' is the only stream format for now"))
    topic = stream.get("stream.topic", "").strip()
    if topic and not _TOPIC.match(topic):
        problems.append(("stream.topic", True, "FS135",
                         "stream.topic is not a Kafka topic name (letters, digits, '.', '_', '-'; at most 249)"))
    for server in (s.strip() for s in stream.get("stream.bootstrap", "").split(",") if stream.get("stream.bootstrap", "").strip()):
        match = _HOST_PORT.match(server)
        if not match or not 1 <= int(match.group(2)) <= 65535:
            problems.append(("stream.bootstrap", True, "FS135",
                             "stream.bootstrap: each server must be host:port (e.g. 'localhost:9092'; several separated by commas)"))
            break
    if "stream.group" in stream and not stream["stream.group"].strip():
        problems.append(("stream.group", True, "FS135", "stream.group is empty: give a consumer group id or leave it out"))
    startup = stream.get("stream.startup", "earliest").strip().lower()
    if startup not in STARTUP_MODES:
        problems.append(("stream.startup", True, "FS135",
                         f"stream.startup is not one of {', '.join(STARTUP_MODES)}"))
    protocol = stream.get("stream.security.protocol", "").strip().upper()
    if protocol and protocol not in SECURITY_PROTOCOLS:
        problems.append(("stream.security.protocol", True, "FS135",
                         f"stream.security.protocol is not one of {', '.join(SECURITY_PROTOCOLS)}"))
    mechanism = stream.get("stream.sasl.mechanism")
    if mechanism is not None:
        if mechanism.strip().upper() not in SASL_MECHANISMS:
            problems.append(("stream.sasl.mechanism", True, "FS135",
                             f"stream.sasl.mechanism is not one of {', '.join(SASL_MECHANISMS)}"))
        for required in _ENV_OPTIONS:
            if required not in stream:
                example = "KAFKA_USER" if "username" in required else "KAFKA_PASSWORD"
                problems.append(("stream.sasl.mechanism", False, "FS134", f"SASL needs {required}: add '{required}' = '{example}'"))
        if protocol in ("PLAINTEXT", "SSL"):
            problems.append(("stream.security.protocol", True, "FS135",
                             f"SASL needs stream.security.protocol SASL_SSL or SASL_PLAINTEXT, not {protocol}"))
    else:
        for key in _ENV_OPTIONS:
            if key in stream:
                problems.append((key, False, "FS134", f"'{key}' needs 'stream.sasl.mechanism' (e.g. 'SCRAM-SHA-512')"))
        if protocol.startswith("SASL"):
            problems.append(("stream.security.protocol", False, "FS134",
                             f"stream.security.protocol {protocol} needs 'stream.sasl.mechanism' and its credentials"))
    for key in _ENV_OPTIONS:
        if key in stream and not _ENV_NAME.match(stream[key].strip()):
            # Never echo the value: it may be the secret itself, written in the wrong place.
            problems.append((key, True, "FS135",
                             f"'{key}' takes the NAME of an environment variable (letters, digits and _, e.g. "
                             f"{'KAFKA_USER' if 'username' in key else 'KAFKA_PASSWORD'}); the value is not shown"))
    return problems


_MAX_FUTURE = re.compile(r"^\s*(\d+)\s*(ms|s|sec|min|m|h|d|day|days)\s*$", re.IGNORECASE)
_MAX_FUTURE_UNITS = {"ms": 1, "s": 1_000, "sec": 1_000, "m": 60_000, "min": 60_000, "h": 3_600_000,
                     "d": 86_400_000, "day": 86_400_000, "days": 86_400_000}
#: Records whose event time is more than this ahead of their write time are rejected (docs/semantics.md section 4).
DEFAULT_MAX_FUTURE_MS = 86_400_000


def max_future_ms(value: str | None) -> int | None:
    """`stream.max-future` in milliseconds: None for 'none' (no check), -1 when it is not a duration."""
    if value is None:
        return DEFAULT_MAX_FUTURE_MS
    if value.strip().lower() == "none":
        return None
    match = _MAX_FUTURE.match(value)
    if not match:
        return -1
    return int(match.group(1)) * _MAX_FUTURE_UNITS[match.group(2).lower()]


def stream_binding(table: CatalogTable) -> StreamBinding:
    """The table's `StreamBinding`; FeaturesqlError naming each problem when its options are invalid."""
    options = dict(table.options)
    problems = check_stream_options(options)
    if problems:
        raise FeaturesqlError("\n".join(f"{table.file}: {code} {message}" for _, _, code, message in problems))
    stream = {k: v.strip() for k, v in options.items() if k.startswith("stream.")}
    connector = stream.get("stream.connector", "filesystem").lower()
    max_future = max_future_ms(stream.get("stream.max-future"))
    if connector != "kafka":
        return StreamBinding(table.name, connector, format=table.format, max_future_ms=max_future)
    mechanism = stream.get("stream.sasl.mechanism", "").upper() or None
    protocol = stream.get("stream.security.protocol", "").upper() or ("SASL_SSL" if mechanism else None)
    return StreamBinding(
        table=table.name,
        connector="kafka",
        topic=stream["stream.topic"],
        format=stream.get("stream.format", "json").lower(),
        bootstrap=tuple(s.strip() for s in stream["stream.bootstrap"].split(",") if s.strip()),
        group=stream.get("stream.group") or None,
        startup=stream.get("stream.startup", "earliest").lower(),
        security_protocol=protocol,
        sasl_mechanism=mechanism,
        sasl_username_env=stream.get("stream.sasl.username.env"),
        sasl_password_env=stream.get("stream.sasl.password.env"),
        max_future_ms=max_future,
    )
