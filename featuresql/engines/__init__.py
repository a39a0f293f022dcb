"""Engines that execute compiled plans. DuckDB is the embedded default."""

from __future__ import annotations

from datetime import date, datetime

from featuresql.diagnostics import FeaturesqlError
from featuresql.timeutil import parse_range, require_whole_days


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
