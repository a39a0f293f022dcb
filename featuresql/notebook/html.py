"""HTML for notebooks: projects, definitions, diagnostics and previews.

Plain strings with escaped values and a little inline CSS: no template engine
and no IPython import, so these render anywhere (and are easy to test).
"""

from __future__ import annotations

import base64
import html
import io
import math
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from featuresql.definitions import CatalogTable, FeatureDef, SamplesDef
from featuresql.diagnostics import Diagnostic

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from featuresql.preview import Preview
    from featuresql.project import Project

_TABLE = 'style="border-collapse:collapse;font-size:12px;margin:4px 0"'
_CELL = 'style="padding:2px 8px;text-align:left;vertical-align:top;border-bottom:1px solid #ddd"'
_NUM = 'style="padding:2px 8px;text-align:right;vertical-align:top;border-bottom:1px solid #ddd"'
_MUTED = 'style="color:#888"'
_ERROR = 'style="color:#b00020;font-weight:600"'
_WARNING = 'style="color:#9a6700;font-weight:600"'
_OK = 'style="color:#1a7f37;font-weight:600"'


def esc(value: object) -> str:
    return html.escape(str(value), quote=True)


def _row(cells: Sequence[str], header: bool = False) -> str:
    tag = "th" if header else "td"
    return "<tr>" + "".join(f"<{tag} {_CELL}>{c}</{tag}>" for c in cells) + "</tr>"


def kv_table(rows: Iterable[tuple[str, str]]) -> str:
    """A two-column table of already-escaped (label, value) pairs."""
    return f"<table {_TABLE}>" + "".join(_row([f"<b>{esc(k)}</b>", v]) for k, v in rows) + "</table>"


def grid(header: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """A table with an escaped header and already-escaped cells."""
    body = "".join(_row(list(r)) for r in rows)
    return f"<table {_TABLE}>{_row([esc(h) for h in header], header=True)}{body}</table>"


def code(text: str) -> str:
    return f'<pre style="font-size:12px;margin:4px 0;padding:6px;background:#f6f8fa">{esc(text)}</pre>'


def where(d: Diagnostic) -> str:
    """`cell line 3, col 7` for a cell, `sql/features/x.sql:3:7` for a file."""
    if d.path.startswith("<"):
        return f"{d.path.strip('<>')} line {d.line}, col {d.col}"
    return f"{d.path}:{d.line}:{d.col}"


def _excerpt(d: Diagnostic, sources: Mapping[str, str], root: Path | None) -> str:
    text = sources.get(d.path)
    if text is None and root is not None and not d.path.startswith("<"):
        try:
            text = (root / d.path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            text = None
    lines = text.splitlines() if text else []
    if not 0 < d.line <= len(lines):
        return ""
    line = lines[d.line - 1]
    caret = " " * (max(d.col, 1) - 1) + "^"
    return f'<pre style="margin:0;font-size:12px">{esc(line)}\n{esc(caret)}</pre>'


def diagnostics_html(
    diagnostics: Sequence[Diagnostic], sources: Mapping[str, str] | None = None, root: Path | None = None
) -> str:
    """A table of diagnostics, each with the source line it points at and a caret.

    `sources` maps a diagnostic path (e.g. `<cell>`) to its text; other paths
    are read below `root` when given.
    """
    if not diagnostics:
        return f"<div {_OK}>no problems</div>"
    errors = sum(d.severity == "error" for d in diagnostics)
    warnings = len(diagnostics) - errors
    title = ", ".join(p for p in (f"{errors} error(s)" if errors else "", f"{warnings} warning(s)" if warnings else "") if p)
    rows = [
        [
            f"<span {_ERROR if d.severity == 'error' else _WARNING}>{esc(d.code)}</span>",
            f"<code>{esc(where(d))}</code>",
            esc(d.message) + _excerpt(d, sources or {}, root),
        ]
        for d in diagnostics
    ]
    return f"<div {_ERROR if errors else _WARNING}>{esc(title)}</div>" + grid(["code", "where", "problem"], rows)


def format_value(value: Any) -> str:
    """A cell value for display: NULL marked, floats shortened."""
    if value is None:
        return f"<span {_MUTED}>NULL</span>"
    if isinstance(value, datetime):
        return esc(value.isoformat(sep=" ", timespec="milliseconds"))
    if isinstance(value, float):
        if math.isnan(value):
            return f"<span {_MUTED}>NaN</span>"
        return esc(f"{value:.6g}")
    return esc(value)


def arrow_html(table: pa.Table, max_rows: int = 10) -> str:
    """The first rows of an Arrow table, scrollable sideways for wide feature tables."""
    head = table.slice(0, max_rows).to_pylist()
    rows = [[format_value(r[c]) for c in table.column_names] for r in head]
    more = f"<div {_MUTED}>{table.num_rows - len(head):,} more row(s)</div>" if table.num_rows > len(head) else ""
    return f'<div style="overflow-x:auto">{grid(table.column_names, rows)}</div>{more}'


def summary_html(summary: pa.Table) -> str:
    """The per-column summary of a preview: null share, min, mean, max."""
    rows = []
    for item in summary.to_pylist():
        share = item["null_share"]
        nulls = f"<span {_MUTED}>-</span>" if share is None else esc(f"{share:.1%}")
        rows.append([f"<code>{esc(item['column'])}</code>", esc(item["type"].lower()), nulls,
                     format_value(item["min"]), format_value(item["mean"]), format_value(item["max"])])
    return f'<div style="overflow-x:auto">{grid(["column", "type", "null", "min", "mean", "max"], rows)}</div>'


def preview_title(preview: Preview) -> str:
    # A samples preview computes only the first `limit` spine rows of its range.
    first = "the first " if preview.kind == "samples" and preview.total_rows == preview.limit else ""
    entity = ", ".join(f"{k} in ({', '.join(map(str, v))})" for k, v in preview.entity.items())
    parts = [
        f"{preview.kind} <b>{esc(preview.name)}</b>",
        f"{first}{preview.total_rows:,} row(s) in [{preview.start:%Y-%m-%d %H:%M:%S}, {preview.end:%Y-%m-%d %H:%M:%S})",
        f"entity {esc(entity)}" if entity else "",
        f"{preview.seconds:.2f} s",
    ]
    return " · ".join(p for p in parts if p)


def preview_html(preview: Preview, max_rows: int = 10) -> str:
    """Title, first rows and summary of a preview."""
    return (
        f"<div>{preview_title(preview)}</div>"
        + arrow_html(preview.table, max_rows)
        + f"<details><summary>summary of {preview.total_rows:,} row(s) per column</summary>{summary_html(preview.summary)}</details>"
    )


def figure_html(figure: Figure) -> str:
    """A matplotlib figure as an inline PNG."""
    data = base64.b64encode(figure_png(figure)).decode("ascii")
    return f'<img src="data:image/png;base64,{data}" style="max-width:100%"/>'


def figure_png(figure: Figure) -> bytes:
    """PNG bytes of a figure: IPython's image/png formatter for figures made without pyplot."""
    buffer = io.BytesIO()
    # No bbox_inches="tight": it draws the figure twice; our figures set their own margins.
    figure.savefig(buffer, format="png", dpi=90)
    return buffer.getvalue()


# -- definitions ----------------------------------------------------------------------------
def table_def_html(table: CatalogTable) -> str:
    columns = ", ".join(
        f"<code>{esc(c.name)}</code> {esc(c.type_sql.lower())}" + (" <i>(event time)</i>" if c.name == table.time_column else "")
        for c in table.columns
    )
    rows = [("table", f"<b>{esc(table.name)}</b> <span {_MUTED}>{esc(table.file)}</span>"), ("columns", columns),
            ("data", f"<code>{esc(table.data_path)}</code> ({esc(table.format)})"),
            ("watermark delay", esc(f"{table.watermark_delay_ms} ms"))]
    if table.label_columns:
        rows.append(("label columns", esc(", ".join(table.label_columns))))
    return kv_table(rows)


def feature_html(feature: FeatureDef) -> str:
    from featuresql.parse.dialect import FeatureSQL

    rows = [("feature", f"<b>{esc(feature.name)}</b> <span {_MUTED}>{esc(feature.file)}</span>"),
            ("entity", esc(", ".join(feature.entity))), ("windows", esc(", ".join(w.name for w in feature.windows))),
            ("source", esc(feature.source))]
    if feature.description:
        rows.append(("description", esc(feature.description)))
    rows.append(("query", code(feature.query.sql(dialect=FeatureSQL, pretty=True))))
    return kv_table(rows)


def samples_html(samples: SamplesDef) -> str:
    rows = [("samples", f"<b>{esc(samples.name)}</b> <span {_MUTED}>{esc(samples.file)}</span>"),
            ("spine", esc(samples.spine)), ("features", esc(", ".join(samples.features)) or "none")]
    if samples.label is not None:
        rows.append(("label", esc(f"source {samples.label.source}, horizon {samples.label.horizon.name}, "
                                  f"keys ({', '.join(samples.label.keys)})")))
    if samples.description:
        rows.append(("description", esc(samples.description)))
    return kv_table(rows)


def definition_html(definition: FeatureDef | SamplesDef | CatalogTable) -> str:
    if isinstance(definition, FeatureDef):
        return feature_html(definition)
    if isinstance(definition, SamplesDef):
        return samples_html(definition)
    return table_def_html(definition)


def project_html(project: Project) -> str:
    """What a project holds, and whether it is clean."""
    diagnostics = project.validate()
    errors = sum(d.severity == "error" for d in diagnostics)
    status = f"<span {_ERROR}>{errors} error(s)</span>" if errors else f"<span {_OK}>valid</span>"
    parts = [f"<div>featuresql project <code>{esc(project.root)}</code> · {status}</div>"]
    tables = [[f"<b>{esc(t.name)}</b>", esc(", ".join(c.name for c in t.columns)), esc(t.time_column),
               f"<code>{esc(t.data_path)}</code>"] for t in project.tables.values()]
    parts.append(grid(["table", "columns", "event time", "data"], tables))
    features = []
    for f in project.features.values():
        outputs = [c.alias_or_name for c in f.query.expressions if c.alias_or_name.lower() not in {k.lower() for k in f.entity}]
        features.append([f"<b>{esc(f.name)}</b>", esc(", ".join(f.entity)), esc(", ".join(w.name for w in f.windows)),
                         esc(f.source), esc(", ".join(outputs)), f"<span {_MUTED}>{esc(f.file)}</span>"])
    parts.append(grid(["feature", "entity", "windows", "source", "outputs", "file"], features))
    samples = [[f"<b>{esc(s.name)}</b>", esc(s.spine), esc(", ".join(s.features)),
                esc(f"{s.label.source}, {s.label.horizon.name}" if s.label else "none"), f"<span {_MUTED}>{esc(s.file)}</span>"]
               for s in project.samples_defs.values()]
    parts.append(grid(["samples", "spine", "features", "label", "file"], samples))
    if diagnostics:
        parts.append(diagnostics_html(diagnostics, root=project.root))
    return "".join(parts)
