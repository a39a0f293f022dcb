"""Catalog stream bindings (`stream.*` options) and the Flink connector options built from them.

The expected option dicts are the spec: they are what was verified against
Flink 2.3 and the Kafka connector 5.0.0-2.2 (docs/research/kafka.md).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from featuresql import Project
from featuresql.compile import flink_connectors as fc
from featuresql.definitions import StreamBinding
from featuresql.diagnostics import FeaturesqlError
from helpers import REPO_ROOT, write_project

CATALOG = """\
CREATE TABLE clicks (
  user_id    VARCHAR,
  event_time TIMESTAMP(3),
  WATERMARK FOR event_time AS event_time - INTERVAL '5' SECOND
) WITH ('path' = 'data/clicks/*.parquet', 'format' = 'parquet'{extra});
"""
KAFKA = ", 'stream.connector' = 'kafka', 'stream.topic' = 'clicks', 'stream.bootstrap' = 'k1:9092, k2:9093'"
SASL = (", 'stream.sasl.mechanism' = 'scram-sha-512', 'stream.sasl.username.env' = 'KAFKA_USER',"
        " 'stream.sasl.password.env' = 'KAFKA_PASSWORD'")
SECRET_ENV = {"KAFKA_USER": "feature-svc", "KAFKA_PASSWORD": 'p"a\\ss;word'}


def table(tmp_path: Path, extra: str = ""):
    write_project(tmp_path, catalogs={"clicks": CATALOG.format(extra=extra)})
    project = Project(tmp_path)
    return project.tables["clicks"]


# -- CatalogTable.stream_binding ---------------------------------------------------------------


def test_default_binding_is_the_filesystem_path(tmp_path: Path) -> None:
    assert table(tmp_path).stream_binding() == StreamBinding("clicks", "filesystem", format="parquet")


def test_kafka_binding_is_normalized(tmp_path: Path) -> None:
    binding = table(tmp_path, KAFKA + SASL + ", 'stream.startup' = 'LATEST'").stream_binding()
    assert binding == StreamBinding(
        table="clicks", connector="kafka", topic="clicks", format="json", bootstrap=("k1:9092", "k2:9093"),
        group=None, startup="latest", security_protocol="SASL_SSL", sasl_mechanism="SCRAM-SHA-512",
        sasl_username_env="KAFKA_USER", sasl_password_env="KAFKA_PASSWORD",
    )
    assert binding.is_kafka and binding.bootstrap_servers == "k1:9092,k2:9093"
    assert binding.group_id == "featuresql-clicks"


def test_invalid_binding_raises_with_the_code_and_file(tmp_path: Path) -> None:
    bad = table(tmp_path, ", 'stream.connector' = 'kafka', 'stream.topic' = 'clicks'")
    assert [d.code for d in Project(tmp_path).validate()] == ["FS134"]
    with pytest.raises(FeaturesqlError, match=r"catalogs/clicks.sql: FS134 a Kafka binding needs stream.bootstrap"):
        bad.stream_binding()


def test_example_catalogs_bind_to_local_kafka() -> None:
    tables = Project(REPO_ROOT).tables
    for name in ("impressions", "engagements"):
        binding = tables[name].stream_binding()
        assert (binding.connector, binding.topic, binding.bootstrap, binding.format) == ("kafka", name, ("localhost:9092",), "json")


# -- sources -----------------------------------------------------------------------------------


def test_kafka_source_options(tmp_path: Path) -> None:
    assert fc.source_options(table(tmp_path, KAFKA + ", 'stream.group' = 'fx'"), tmp_path) == {
        "connector": "kafka",
        "topic": "clicks",
        "properties.bootstrap.servers": "k1:9092,k2:9093",
        "properties.group.id": "fx",
        "scan.startup.mode": "earliest-offset",
        "properties.isolation.level": "read_committed",
        "format": "raw",
        "raw.charset": "UTF-8",
    }


@pytest.mark.parametrize("startup, mode", [("earliest", "earliest-offset"), ("latest", "latest-offset"),
                                           ("group", "group-offsets")])
def test_kafka_startup_modes(tmp_path: Path, startup: str, mode: str) -> None:
    options = fc.source_options(table(tmp_path, KAFKA + f", 'stream.startup' = '{startup}'"))
    assert options["scan.startup.mode"] == mode
    # A group with no committed offsets yet starts from the beginning rather than failing.
    assert options.get("properties.auto.offset.reset") == ("earliest" if startup == "group" else None)


def test_filesystem_source_options(tmp_path: Path) -> None:
    assert fc.source_options(table(tmp_path), tmp_path, monitor_interval="2 s") == {
        "connector": "filesystem",
        "path": (tmp_path / "data" / "clicks").resolve().as_uri(),
        "format": "parquet",
        "parquet.utc-timezone": "true",
        "source.monitor-interval": "2 s",
    }
    assert fc.source_options(table(tmp_path), tmp_path)["path"].startswith("file:///")


def test_filesystem_source_refuses_what_flink_cannot_read_the_same(tmp_path: Path) -> None:
    write_project(tmp_path, catalogs={"clicks": CATALOG.replace("*.parquet", "day-*.parquet").format(extra="")})
    with pytest.raises(FeaturesqlError, match="'dir/\\*.parquet' path only"):
        fc.source_options(Project(tmp_path).tables["clicks"], tmp_path)


def test_sasl_source_reads_credentials_from_the_environment_at_call_time(tmp_path: Path) -> None:
    options = fc.source_options(table(tmp_path, KAFKA + SASL), environ=SECRET_ENV)
    assert options["properties.security.protocol"] == "SASL_SSL"
    assert options["properties.sasl.mechanism"] == "SCRAM-SHA-512"
    assert options["properties.sasl.jaas.config"] == (
        "org.apache.flink.kafka.shaded.org.apache.kafka.common.security.scram.ScramLoginModule required "
        'username="feature-svc" password="p\\"a\\\\ss;word";'
    )
    shown = fc.redacted(options)
    assert shown["properties.sasl.jaas.config"] == "***"
    assert shown["topic"] == "clicks" and "word" not in repr(shown)


def test_sasl_plain_uses_the_shaded_plain_module_and_an_explicit_protocol(tmp_path: Path) -> None:
    extra = KAFKA + SASL.replace("scram-sha-512", "PLAIN") + ", 'stream.security.protocol' = 'SASL_PLAINTEXT'"
    options = fc.source_options(table(tmp_path, extra), environ=SECRET_ENV)
    assert options["properties.security.protocol"] == "SASL_PLAINTEXT"
    assert options["properties.sasl.jaas.config"].startswith(
        "org.apache.flink.kafka.shaded.org.apache.kafka.common.security.plain.PlainLoginModule required ")


def test_sasl_with_unset_variables_names_them_and_shows_no_value(tmp_path: Path) -> None:
    kafka = table(tmp_path, KAFKA + SASL)
    with pytest.raises(FeaturesqlError, match="KAFKA_USER and KAFKA_PASSWORD are not set"):
        fc.source_options(kafka, environ={})
    with pytest.raises(FeaturesqlError, match="KAFKA_PASSWORD is not set") as err:
        fc.source_options(kafka, environ={"KAFKA_USER": "feature-svc"})
    assert "feature-svc" not in str(err.value)


def test_sasl_placeholders_when_secrets_are_not_resolved(tmp_path: Path) -> None:
    options = fc.source_options(table(tmp_path, KAFKA + SASL), environ={}, resolve_secrets=False)
    assert options["properties.sasl.jaas.config"].endswith(' required username="${KAFKA_USER}" password="${KAFKA_PASSWORD}";')


def test_os_environ_is_read_when_no_mapping_is_given(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KAFKA_USER", "u1")
    monkeypatch.setenv("KAFKA_PASSWORD", "pw1")
    binding = table(tmp_path, KAFKA + SASL).stream_binding()
    assert fc.client_config(binding) == {
        "bootstrap.servers": "k1:9092,k2:9093", "security.protocol": "SASL_SSL",
        "sasl.mechanism": "SCRAM-SHA-512", "sasl.username": "u1", "sasl.password": "pw1",
    }
    assert fc.redacted(fc.client_config(binding))["sasl.password"] == "***"


def test_source_options_of_a_table_without_kafka_need_no_environment(tmp_path: Path) -> None:
    assert fc.client_config(table(tmp_path, KAFKA).stream_binding(), environ={}) == {"bootstrap.servers": "k1:9092,k2:9093"}


# -- sinks -------------------------------------------------------------------------------------


def test_kafka_sink_options_are_exactly_once() -> None:
    assert fc.kafka_sink_options("ctr_samples", "127.0.0.1:9092", "featuresql-ctr-1") == {
        "connector": "kafka",
        "topic": "ctr_samples",
        "properties.bootstrap.servers": "127.0.0.1:9092",
        "format": "json",
        "sink.delivery-guarantee": "exactly-once",
        "sink.transactional-id-prefix": "featuresql-ctr-1",
        "properties.transaction.timeout.ms": "900000",
    }


def test_kafka_sink_with_a_key_and_sasl(tmp_path: Path) -> None:
    binding = table(tmp_path, KAFKA + SASL).stream_binding()
    options = fc.kafka_sink_options("s", ["a:1", "b:2"], "p", key_fields=["user_id", "post_id"],
                                    binding=binding, environ=SECRET_ENV)
    assert {k: options[k] for k in ("properties.bootstrap.servers", "key.format", "key.fields", "value.format")} == {
        "properties.bootstrap.servers": "a:1,b:2", "key.format": "json", "key.fields": "user_id;post_id",
        "value.format": "json",
    }
    assert "format" not in options and options["properties.sasl.mechanism"] == "SCRAM-SHA-512"


def test_kafka_sink_needs_a_transactional_prefix() -> None:
    with pytest.raises(FeaturesqlError, match="transactional id prefix"):
        fc.kafka_sink_options("s", "a:1", " ")


def test_upsert_kafka_sink_options() -> None:
    assert fc.upsert_kafka_sink_options("user_engagement", "127.0.0.1:9092", ["user_id"]) == {
        "connector": "upsert-kafka",
        "topic": "user_engagement",
        "properties.bootstrap.servers": "127.0.0.1:9092",
        "key.format": "json",
        "value.format": "json",
        "sink.delivery-guarantee": "at-least-once",
    }
    exactly = fc.upsert_kafka_sink_options("f", "h:1", ["user_id", "author_id"], transactional_prefix="fx")
    assert {k: exactly[k] for k in ("sink.delivery-guarantee", "sink.transactional-id-prefix",
                                    "properties.transaction.timeout.ms")} == {
        "sink.delivery-guarantee": "exactly-once", "sink.transactional-id-prefix": "fx",
        "properties.transaction.timeout.ms": "900000",
    }
    assert fc.primary_key_clause(["user_id", "author_id"]) == "PRIMARY KEY (`user_id`, `author_id`) NOT ENFORCED"
    with pytest.raises(FeaturesqlError, match="entity key"):
        fc.upsert_kafka_sink_options("f", "h:1", [])


def test_redacted_and_with_clause() -> None:
    options = {"topic": "it's", "properties.sasl.jaas.config": "x password=\"y\";", "sasl.password": "y",
               "sasl.username": "u", "properties.bootstrap.servers": "h:1"}
    assert fc.redacted(options) == {"topic": "it's", "properties.sasl.jaas.config": "***", "sasl.password": "***",
                                    "sasl.username": "***", "properties.bootstrap.servers": "h:1"}
    assert fc.with_clause({"topic": "it's", "format": "json"}) == "  'topic' = 'it''s',\n  'format' = 'json'"


def test_module_needs_no_jvm() -> None:
    import subprocess
    import sys

    code = "import sys, featuresql.compile.flink_connectors; print('pyflink' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip() == "False"
