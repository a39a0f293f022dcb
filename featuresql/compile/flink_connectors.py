"""Flink SQL connector options (the WITH clause) for stream sources and sinks.

Pure functions over a catalog table's `StreamBinding` (`'stream.*'` options):
no JVM and no PyFlink import, so `validate`, `compile` and tests use them
freely. The options are the ones verified against Flink 2.3 with
flink-sql-connector-kafka 5.0.0-2.2 (docs/research/kafka.md):

* Kafka sources read each message value as one string (`'format' = 'raw'`):
  the JSON is parsed in SQL by the source's computed columns, and a bad
  record (malformed, a missing field, a wrong type, ...) is set aside with its
  reason instead of failing the job (`flink_rejects`, docs/semantics.md
  section 4).
* Kafka sinks are transactional (exactly-once, committed on checkpoints) and
  ask for a 15-minute transaction timeout, the broker's default maximum.
* Credentials: only the names of environment variables are in the catalog.
  Their values are read from the environment when the options are built
  (`resolve_secrets=True`, at run time) and never otherwise; `redacted()`
  masks them for anything printed or logged.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path

from featuresql.definitions import CatalogTable, StreamBinding
from featuresql.diagnostics import Diagnostic, FeaturesqlError

REDACTED = "***"
#: The broker's default `transaction.max.timeout.ms`: the connector's own default (1 h) is refused.
TRANSACTION_TIMEOUT_MS = "900000"
DEFAULT_MONITOR_INTERVAL = "10 s"
STARTUP_MODES = {"earliest": "earliest-offset", "latest": "latest-offset", "group": "group-offsets"}
#: The fat connector jar shades kafka-clients: JAAS must name the shaded login modules.
_SHADED = "org.apache.flink.kafka.shaded.org.apache.kafka.common.security"
LOGIN_MODULES = {
    "PLAIN": f"{_SHADED}.plain.PlainLoginModule",
    "SCRAM-SHA-256": f"{_SHADED}.scram.ScramLoginModule",
    "SCRAM-SHA-512": f"{_SHADED}.scram.ScramLoginModule",
}


def _servers(bootstrap: str | Iterable[str]) -> str:
    servers = bootstrap if isinstance(bootstrap, str) else ",".join(bootstrap)
    if not servers.strip():
        raise FeaturesqlError("a Kafka sink needs bootstrap servers (host:port)")
    return servers


def _require_kafka(table: CatalogTable) -> StreamBinding:
    binding = table.stream_binding()
    if not binding.is_kafka:
        raise FeaturesqlError(
            f"{table.file}: table {table.name} is not bound to Kafka (add 'stream.connector' = 'kafka', 'stream.topic', 'stream.bootstrap')"
        )
    return binding


# -- credentials ------------------------------------------------------------------------------


def credentials(binding: StreamBinding, environ: Mapping[str, str] | None = None) -> tuple[str, str]:
    """The SASL user name and password, read now from the environment variables the catalog names.

    A missing variable is an error that names the variable, never a value.
    """
    if not binding.sasl_mechanism or not binding.sasl_username_env or not binding.sasl_password_env:
        raise FeaturesqlError(f"table {binding.table} has no SASL binding")
    env = os.environ if environ is None else environ
    missing = [name for name in (binding.sasl_username_env, binding.sasl_password_env) if not env.get(name)]
    if missing:
        raise FeaturesqlError(
            f"table {binding.table}: SASL credentials come from the environment, and {' and '.join(missing)} "
            f"{'is' if len(missing) == 1 else 'are'} not set"
        )
    return env[binding.sasl_username_env], env[binding.sasl_password_env]


def _jaas_quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def security_options(
    binding: StreamBinding, *, environ: Mapping[str, str] | None = None, resolve_secrets: bool = True
) -> dict[str, str]:
    """`properties.security.protocol`, `properties.sasl.*` for the Flink Kafka connector.

    With `resolve_secrets=False` the JAAS line holds `${VAR}` placeholders
    instead of values (for showing what would run, without the environment).
    """
    options: dict[str, str] = {}
    if binding.security_protocol:
        options["properties.security.protocol"] = binding.security_protocol
    if binding.sasl_mechanism:
        if resolve_secrets:
            user, password = credentials(binding, environ)
            user, password = _jaas_quote(user), _jaas_quote(password)
        else:
            user, password = f'"${{{binding.sasl_username_env}}}"', f'"${{{binding.sasl_password_env}}}"'
        options["properties.sasl.mechanism"] = binding.sasl_mechanism
        options["properties.sasl.jaas.config"] = (
            f"{LOGIN_MODULES[binding.sasl_mechanism]} required username={user} password={password};"
        )
    return options


def client_config(binding: StreamBinding, environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The same binding as confluent-kafka (librdkafka) settings, credentials read now."""
    config = {"bootstrap.servers": binding.bootstrap_servers}
    if binding.security_protocol:
        config["security.protocol"] = binding.security_protocol
    if binding.sasl_mechanism:
        user, password = credentials(binding, environ)
        config.update({"sasl.mechanism": binding.sasl_mechanism, "sasl.username": user, "sasl.password": password})
    return config


def redacted(options: Mapping[str, str]) -> dict[str, str]:
    """A copy safe to print or log: every value of a credential-like key is `***`."""
    from featuresql.catalog import looks_secret

    return {key: REDACTED if looks_secret(key) else value for key, value in options.items()}


# -- sources ----------------------------------------------------------------------------------


def data_directory(table: CatalogTable, root: Path) -> Path:
    """The directory a filesystem source reads: the catalog path without its glob, made absolute."""
    path = Path(table.data_path)
    path = path if path.is_absolute() else Path(root) / path
    while any(ch in path.name for ch in "*?["):
        path = path.parent
    return path.resolve()


def source_options(
    table: CatalogTable,
    root: Path | str | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    resolve_secrets: bool = True,
    monitor_interval: str = DEFAULT_MONITOR_INTERVAL,
) -> dict[str, str]:
    """The WITH options that read `table` as a stream, from its `stream.*` binding.

    Kafka: the value as one string (JSON, parsed by the source's computed
    columns), the binding's group and startup mode, read_committed (our own
    outputs are transactional). Filesystem (the default): the
    directory of the catalog's Parquet glob as an absolute `file://` URI,
    watched for new files every `monitor_interval`; `root` (the project
    directory) resolves a relative path.
    """
    binding = table.stream_binding()
    if binding.is_kafka:
        options = {
            "connector": "kafka",
            "topic": binding.topic or "",
            "properties.bootstrap.servers": binding.bootstrap_servers,
            "properties.group.id": binding.group_id,
            "scan.startup.mode": STARTUP_MODES[binding.startup],
        }
        if binding.startup == "group":
            # A group without committed offsets starts at the beginning instead of failing.
            options["properties.auto.offset.reset"] = "earliest"
        options.update({
            "properties.isolation.level": "read_committed",
            # The value as text; flink_rejects parses it in SQL, so a bad record is set aside, not fatal.
            "format": "raw",
            "raw.charset": "UTF-8",
        })
        options.update(security_options(binding, environ=environ, resolve_secrets=resolve_secrets))
        return options

    pattern = Path(table.data_path).name
    if table.format != "parquet" or (any(ch in pattern for ch in "*?[") and pattern != "*.parquet"):
        # Flink reads a whole directory; only `dir/*.parquet` means the same files in both engines.
        raise FeaturesqlError([Diagnostic(
            table.file, *table.path_at, "FS131",
            f"a filesystem stream reads Parquet from a 'dir/*.parquet' path only "
            f"(table {table.name} has '{table.data_path}', format {table.format})",
        )])
    if root is None and not Path(table.data_path).is_absolute():
        raise FeaturesqlError(f"{table.file}: the relative path of table {table.name} needs the project root")
    return {
        "connector": "filesystem",
        "path": data_directory(table, Path(root or "/")).as_uri(),
        "format": "parquet",
        # Without it Flink reads Parquet timestamps in the JVM's time zone; the contract's times are UTC.
        "parquet.utc-timezone": "true",
        "source.monitor-interval": monitor_interval,
    }


# -- sinks ------------------------------------------------------------------------------------


def _sink_security(binding: StreamBinding | None, environ: Mapping[str, str] | None) -> dict[str, str]:
    return security_options(binding, environ=environ) if binding is not None else {}


def kafka_sink_options(
    topic: str,
    bootstrap: str | Iterable[str],
    transactional_prefix: str,
    *,
    key_fields: Iterable[str] = (),
    binding: StreamBinding | None = None,
    environ: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """An append Kafka sink (samples), exactly-once: transactions committed on checkpoints.

    `transactional_prefix` must be unique per job (two jobs sharing one fence
    each other off). `key_fields` optionally become a JSON message key.
    `binding` lends its security settings (SASL) to the sink.
    """
    if not transactional_prefix.strip():
        raise FeaturesqlError("an exactly-once Kafka sink needs a transactional id prefix, unique per job")
    options = {"connector": "kafka", "topic": topic, "properties.bootstrap.servers": _servers(bootstrap)}
    keys = list(key_fields)
    if keys:
        options.update({"key.format": "json", "key.fields": ";".join(keys), "value.format": "json"})
    else:
        options["format"] = "json"
    options.update({
        "sink.delivery-guarantee": "exactly-once",
        "sink.transactional-id-prefix": transactional_prefix,
        "properties.transaction.timeout.ms": TRANSACTION_TIMEOUT_MS,
    })
    options.update(_sink_security(binding, environ))
    return options


def upsert_kafka_sink_options(
    topic: str,
    bootstrap: str | Iterable[str],
    keys: Iterable[str],
    *,
    transactional_prefix: str | None = None,
    binding: StreamBinding | None = None,
    environ: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """An upsert-kafka sink (feature update logs): the latest values per entity key.

    The key is the sink table's PRIMARY KEY (`primary_key_clause(keys)` in its
    DDL), written as a JSON key; a compacted topic then holds what an online
    store needs. Without `transactional_prefix` delivery is at-least-once
    (a replay after a failure rewrites the same keys); with it, exactly-once.
    """
    keys = list(keys)
    if not keys:
        raise FeaturesqlError("an upsert-kafka sink needs the entity key columns")
    options = {
        "connector": "upsert-kafka",
        "topic": topic,
        "properties.bootstrap.servers": _servers(bootstrap),
        "key.format": "json",
        "value.format": "json",
    }
    if transactional_prefix:
        options.update({
            "sink.delivery-guarantee": "exactly-once",
            "sink.transactional-id-prefix": transactional_prefix,
            "properties.transaction.timeout.ms": TRANSACTION_TIMEOUT_MS,
        })
    else:
        options["sink.delivery-guarantee"] = "at-least-once"
    options.update(_sink_security(binding, environ))
    return options


def primary_key_clause(keys: Iterable[str]) -> str:
    """`PRIMARY KEY (`a`, `b`) NOT ENFORCED`: what an upsert-kafka sink's DDL declares."""
    names = ", ".join("`" + k.replace("`", "``") + "`" for k in keys)
    return f"PRIMARY KEY ({names}) NOT ENFORCED"


def with_clause(options: Mapping[str, str], indent: str = "  ") -> str:
    """The options as a Flink SQL WITH body, one `'key' = 'value'` a line (quotes doubled)."""
    def literal(text: str) -> str:
        return "'" + text.replace("'", "''") + "'"

    return ",\n".join(f"{indent}{literal(k)} = {literal(v)}" for k, v in options.items())
