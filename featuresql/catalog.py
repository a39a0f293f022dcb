"""Catalog tables from `catalogs/*.sql`: Flink-style CREATE TABLE with a WATERMARK."""

from __future__ import annotations

from sqlglot import exp

from featuresql.definitions import CatalogColumn, CatalogTable
from featuresql.diagnostics import Diagnostic
from featuresql.parse import ParsedFile

FORMATS = ("parquet", "csv")
#: Options this issue understands; `stream.*` options are bindings for the streaming
#: engine and are checked by it.
KNOWN_OPTIONS = ("path", "format", "label_columns", "description")
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

    options, option_diagnostics = _options(parsed, create, name, columns)
    diagnostics.extend(option_diagnostics)
    if diagnostics:
        return None, diagnostics
    return CatalogTable(name, parsed.source.path, tuple(columns), time_column, delay, options), []


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
) -> tuple[tuple[tuple[str, str], ...], list[Diagnostic]]:
    diagnostics: list[Diagnostic] = []
    options: dict[str, str] = {}
    properties = create.args.get("properties")
    for prop in properties.expressions if properties else []:
        key_node, value_node = prop.this, prop.args.get("value")
        if not isinstance(prop, exp.Property) or not isinstance(key_node, exp.Literal) or not isinstance(value_node, exp.Literal):
            diagnostics.append(parsed.diagnostic(prop, "FS131", "WITH options are written 'key' = 'value'"))
            continue
        key, value = key_node.name, value_node.name
        if key not in KNOWN_OPTIONS and not key.startswith("stream."):
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
    return tuple(options.items()), diagnostics
