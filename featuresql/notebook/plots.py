"""Plots for where people would rather look than read (matplotlib).

Figures are made with `matplotlib.figure.Figure`, not pyplot: no global figure
state, no backend choice, nothing left open. In a notebook they display once
`%load_ext featuresql` has registered a PNG formatter (or with IPython's own
matplotlib integration).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from matplotlib.figure import Figure
from matplotlib.ticker import NullLocator

from featuresql.compile import duckdb as sql
from featuresql.diagnostics import FeaturesqlError
from featuresql.plan import AggregatePlan, SamplesPlan
from featuresql.preview import Preview, entity_condition, preview
from featuresql.runchecks import connect, engine_errors

if TYPE_CHECKING:
    from featuresql.project import Instant, Project


def _numeric(column: pa.ChunkedArray) -> np.ndarray | None:
    """A column as float64 values with NaN for NULL; None when it is not a number or boolean."""
    kind = column.type
    if not (pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_boolean(kind) or pa.types.is_decimal(kind)):
        return None
    return pc.cast(column, pa.float64()).to_numpy(zero_copy_only=False)


def _as_table(data: Preview | pa.Table | Any) -> tuple[pa.Table, Sequence[str] | None]:
    if isinstance(data, Preview):
        return data.table, data.value_columns
    if isinstance(data, pa.Table):
        return data, None
    return pa.Table.from_pandas(data, preserve_index=False), None  # a pandas DataFrame


def plot_distributions(
    data: Preview | pa.Table | Any, columns: Sequence[str] | None = None, bins: int = 30, ncols: int = 5
) -> Figure:
    """One histogram per numeric column (a bar of FALSE/TRUE shares for booleans, e.g. a label).

    Args:
        data: a `Preview` (its computed columns), an Arrow table or a pandas DataFrame.
        columns: the columns to draw; by default a preview's value columns, else every numeric one.
        bins: histogram bins.
        ncols: plots per row.
    """
    table, default = _as_table(data)
    names = list(columns) if columns is not None else list(default) if default is not None else table.column_names
    series = [(n, _numeric(table.column(n)), pa.types.is_boolean(table.column(n).type)) for n in names]
    series = [(n, v, b) for n, v, b in series if v is not None]
    rows = max(1, math.ceil(len(series) / ncols))
    figure = Figure(figsize=(3.0 * min(ncols, max(len(series), 1)), 2.3 * rows))
    if not series:
        figure.text(0.5, 0.5, "no numeric columns to plot", ha="center", va="center")
        return figure
    # Fixed margins rather than constrained layout: with dozens of small axes the
    # layout solver costs seconds, and a preview should not wait for it.
    axes = figure.subplots(rows, min(ncols, len(series)), squeeze=False, gridspec_kw={
        "hspace": 0.55, "wspace": 0.3, "left": 0.05, "right": 0.98, "top": 1 - 0.35 / (2.3 * rows), "bottom": 0.3 / (2.3 * rows),
    }).ravel()
    for ax, (name, values, boolean) in zip(axes, series):
        present = values[~np.isnan(values)]
        nulls = len(values) - len(present)
        title = name + (f" ({nulls / len(values):.0%} NULL)" if nulls else "")
        ax.set_title(title, fontsize=9)
        ax.tick_params(labelsize=7)
        if boolean:
            counts = [int((present == 0).sum()), int((present == 1).sum())]
            total = max(sum(counts), 1)
            ax.bar(["false", "true"], counts, color=["#9aa5b1", "#2f6fdf"])
            for x, count in enumerate(counts):
                ax.annotate(f"{count / total:.1%}", (x, count), ha="center", va="bottom", fontsize=8)
        elif len(present):
            heights, _, _ = ax.hist(present, bins=bins, color="#2f6fdf")
            nonzero = heights[heights > 0]
            # Counts of skewed entities put nearly everything in the first bin: a log axis shows the tail.
            if len(nonzero) > 1 and nonzero.max() > 20 * nonzero.min():
                ax.set_yscale("log")
                ax.yaxis.set_minor_locator(NullLocator())  # minor log ticks are slow to lay out and add little
        else:
            ax.text(0.5, 0.5, "all NULL", ha="center", va="center", transform=ax.transAxes)
    for ax in axes[len(series):]:
        ax.set_visible(False)
    return figure


def _entity_text(entity: dict[str, tuple[Any, ...]]) -> str:
    return ", ".join(f"{k} = {', '.join(map(str, v))}" for k, v in entity.items())


def plot_entity(
    project: Project,
    feature: str,
    entity: Any,
    start: Instant | None = None,
    end: Instant | None = None,
    columns: Sequence[str] | None = None,
    by: str | None = None,
) -> Figure:
    """One entity's feature values over time, above its raw events.

    The top panel draws the update log (the values as of each of the entity's
    events, section 5 of docs/semantics.md); the bottom panel every raw event of
    the entity in the source table, those the feature's WHERE drops in grey.

    Args:
        project: the project.
        feature: the feature name.
        entity: one entity, as for `Project.preview`.
        start, end: the range; by default the last day of data.
        columns: output columns to draw; by default the first output in every window.
        by: a source column to spread the raw events over (e.g. `action`).
    """
    if entity is None:
        raise FeaturesqlError("plot_entity needs an entity: a key value, or {column: value}")
    plan = project.plan(feature)
    if isinstance(plan, SamplesPlan):
        raise FeaturesqlError(f"plot_entity draws a feature; {plan.name} is a samples definition")
    rows = preview(plan, project.root, start, end, entity=entity, limit=None)
    columns = list(columns) if columns else [plan.column_name(plan.outputs[0], w) for w in plan.windows]
    events = raw_events(plan, project.root, rows.entity, rows.start, rows.end, by)

    figure = Figure(figsize=(10, 5.5), layout="constrained")
    top, bottom = figure.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [3, 1.3]})
    times = rows.table.column("event_time").to_numpy()
    for name in columns:
        values = _numeric(rows.table.column(name))
        if values is not None:
            top.step(times, values, where="post", marker=".", markersize=4, linewidth=1, label=name)
    top.set_title(f"{plan.name} for {_entity_text(rows.entity)}: {rows.table.num_rows:,} update(s)", fontsize=10)
    top.set_ylabel("value after each event", fontsize=8)
    if columns and rows.table.num_rows:
        top.legend(fontsize=7, loc="upper left")

    kept = events.column("__kept").to_numpy(zero_copy_only=False).astype(bool)
    event_times = events.column("__time").to_numpy()
    if by is not None:
        labels = [str(v) for v in events.column(by).to_pylist()]
        categories = sorted(set(labels))
        y = np.array([categories.index(v) for v in labels]) if labels else np.array([])
        bottom.set_yticks(range(len(categories)), categories, fontsize=7)
    else:
        y = np.zeros(len(event_times))
        bottom.set_yticks([])
    bottom.scatter(event_times[kept], y[kept], s=12, color="#2f6fdf", label="counted")
    if (~kept).any():
        bottom.scatter(event_times[~kept], y[~kept], s=12, color="#9aa5b1", marker="x", label="dropped by WHERE")
    bottom.set_title(f"raw events in {plan.source.name}: {events.num_rows:,}", fontsize=9)
    bottom.set_xlim(np.datetime64(rows.start, "ms"), np.datetime64(rows.end, "ms"))
    if events.num_rows:
        bottom.legend(fontsize=7, loc="upper left")
    bottom.tick_params(labelsize=7)
    return figure


def raw_events(
    plan: AggregatePlan, root: Path, entity: dict[str, tuple[Any, ...]], start: datetime, end: datetime,
    by: str | None = None,
) -> pa.Table:
    """An entity's events in the feature's source table: `__time`, `by`, and `__kept` (passes WHERE).

    `root` is the project folder that the catalog's relative paths start from."""
    if by is not None and plan.source.column(by) is None:
        raise FeaturesqlError(f"{plan.source.name} has no column {by}")
    condition = entity_condition(plan.source, entity)
    time_col = sql.quote(plan.source.time_column)
    kept = f"COALESCE(({sql.render(plan.where)}), false)" if plan.where is not None else "true"
    where = [f"{time_col} >= TIMESTAMP '{sql.timestamp_text(start)}'", f"{time_col} < TIMESTAMP '{sql.timestamp_text(end)}'"]
    if condition is not None:
        where.append(sql.render(condition))
    columns = [f"CAST({time_col} AS TIMESTAMP_MS) AS __time", f"{kept} AS __kept"] + ([sql.quote(by)] if by else [])
    con = connect()
    with engine_errors():
        return con.sql(
            f"SELECT {', '.join(columns)} FROM {sql.scan(plan.source, root)} WHERE {' AND '.join(where)} ORDER BY 1"
        ).to_arrow_table()
