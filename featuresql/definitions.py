"""The parsed and interpreted project: catalog tables, features and samples.

Frozen dataclasses only; building them (with diagnostics) lives in
`featuresql.catalog` and `featuresql.headers`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlglot import exp

from featuresql.timeutil import Window


@dataclass(frozen=True)
class CatalogColumn:
    name: str
    type: exp.DataType

    @property
    def type_sql(self) -> str:
        return self.type.sql(dialect="duckdb")


@dataclass(frozen=True)
class StreamBinding:
    """Where the streaming engine reads a catalog table: its `stream.*` WITH options.

    `connector` is `filesystem` (the default: the directory of the table's
    `path`, read as it grows) or `kafka`. Credentials are never held here, only
    the names of the environment variables that carry them at run time.
    """

    table: str
    connector: str = "filesystem"
    topic: str | None = None
    format: str = "json"
    bootstrap: tuple[str, ...] = ()
    group: str | None = None
    startup: str = "earliest"
    security_protocol: str | None = None
    sasl_mechanism: str | None = None
    sasl_username_env: str | None = None
    sasl_password_env: str | None = None
    #: `stream.max-future`: an event time more than this ahead of its record's write time is rejected; None: no check.
    max_future_ms: int | None = 86_400_000

    @property
    def is_kafka(self) -> bool:
        return self.connector == "kafka"

    @property
    def bootstrap_servers(self) -> str:
        return ",".join(self.bootstrap)

    @property
    def group_id(self) -> str:
        """The consumer group: `stream.group`, else `featuresql-<table>`."""
        return self.group or f"featuresql-{self.table}"


@dataclass(frozen=True)
class CatalogTable:
    """One table of `catalogs/`: its columns, event time and where its data lives."""

    name: str
    file: str
    columns: tuple[CatalogColumn, ...]
    time_column: str
    watermark_delay_ms: int
    options: tuple[tuple[str, str], ...]
    #: Where the 'path' option's value is written in `file` (line, column), for run-time errors about it.
    path_at: tuple[int, int] = (1, 1)

    def column(self, name: str) -> CatalogColumn | None:
        lowered = name.lower()
        return next((c for c in self.columns if c.name.lower() == lowered), None)

    def option(self, key: str, default: str | None = None) -> str | None:
        return dict(self.options).get(key, default)

    @property
    def data_path(self) -> str:
        return self.option("path", "") or ""

    @property
    def format(self) -> str:
        return (self.option("format", "parquet") or "parquet").lower()

    @property
    def label_columns(self) -> tuple[str, ...]:
        raw = self.option("label_columns", "") or ""
        return tuple(c.strip().lower() for c in raw.split(",") if c.strip())

    def stream_binding(self) -> StreamBinding:
        """The table's stream binding; FeaturesqlError if its `stream.*` options are invalid
        (`validate` reports the same problems with positions)."""
        from featuresql.catalog import stream_binding

        return stream_binding(self)


@dataclass(frozen=True)
class FeatureDef:
    """A `FEATURE` file: windows over one GROUP BY aggregate of one source table."""

    name: str
    file: str
    entity: tuple[str, ...]
    windows: tuple[Window, ...]
    description: str
    query: exp.Select = field(compare=False)
    source: str


@dataclass(frozen=True)
class LabelDef:
    """The forward-looking part of a SAMPLES file: `label (source T, horizon 10m)`."""

    source: str
    horizon: Window
    keys: tuple[str, ...]
    query: exp.Select = field(compare=False)


@dataclass(frozen=True)
class SamplesDef:
    """A `SAMPLES` file: a spine, the features to attach, and an optional label."""

    name: str
    file: str
    spine: str
    features: tuple[str, ...]
    label: LabelDef | None
    description: str
