"""Engines that execute compiled plans. DuckDB is the embedded default."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

from featuresql.definitions import CatalogTable
from featuresql.diagnostics import FeaturesqlError
from featuresql.timeutil import parse_range, require_whole_days

if TYPE_CHECKING:
    from featuresql.project import Project


def run_range(
    start: str | date | datetime, end: str | date | datetime, whole_days: bool = False
) -> tuple[datetime, datetime]:
    """A run's half-open UTC range; a bad one is a FeaturesqlError (a clear CLI error)."""
    try:
        lower, upper = parse_range(start, end)
        if whole_days:
            require_whole_days(lower, upper)
    except ValueError as err:
        raise FeaturesqlError(str(err)) from None
    return lower, upper


def definition_tables(project: "Project", name: str) -> list[CatalogTable]:
    """Every table a feature or samples definition reads, each once."""
    if name.lower() in {n.lower() for n in project.samples_names}:
        spine, features, label = project.samples_plans(name)
        tables = [spine] + [p.source for p in features] + ([label.source] if label else [])
    else:
        tables = [project.feature_plan(name).source]
    return list({t.name.lower(): t for t in tables}.values())
