"""Engines run resolved plans: DuckDB (embedded, batch; the default) and Flink (a local mini-cluster).

An engine takes a plan (`featuresql.plan.Plan`: a feature's or a samples
definition's), the project folder that relative data paths start from, and a
half-open time range; it never sees the project, and never looks a name up.
`ENGINES` is the one list of them: the CLI's `--engine` and `--target`
choices, the Python API and the notebook magics all read it.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from featuresql.diagnostics import FeaturesqlError
from featuresql.timeutil import Instant, parse_range, require_whole_days

if TYPE_CHECKING:
    import pyarrow as pa

    from featuresql.output import RunSummary
    from featuresql.plan import Plan


class Engine(Protocol):
    """What every engine does with a plan. A samples plan writes under `out/samples/`,
    a feature's under `out/features/`; the plan's type decides, nothing else."""

    @property
    def streams(self) -> bool:
        """Whether the engine also runs unbounded (`featuresql stream`, `compile --target <name>-stream`)."""
        ...

    def compile(self, plan: Plan, root: Path, start: Instant, end: Instant, stream: bool = False) -> str:
        """The SQL the engine runs for `plan` over [start, end); with `stream`, the
        job of its unbounded mode (FeaturesqlError if it has none)."""
        ...

    def table(self, plan: Plan, root: Path, start: Instant, end: Instant) -> pa.Table:
        """The plan's rows over [start, end), as an Arrow table."""
        ...

    def write(
        self, plans: Sequence[Plan], root: Path, start: Instant, end: Instant, out: Path, progress: bool = False
    ) -> list[RunSummary]:
        """Write each plan's rows for the whole days of [start, end) under `out`, one summary per plan.

        Several plans at once, so that a table they share is checked once."""
        ...


@dataclass(frozen=True)
class _OnFirstUse:
    """An engine whose module is imported when first used: `validate` and `--help`
    must load neither DuckDB nor the JVM. The module defines `ENGINE`."""

    module: str
    streams: bool = False

    def _engine(self) -> Engine:
        engine: Engine = importlib.import_module(self.module).ENGINE
        return engine

    def compile(self, plan: Plan, root: Path, start: Instant, end: Instant, stream: bool = False) -> str:
        return self._engine().compile(plan, root, start, end, stream=stream)

    def table(self, plan: Plan, root: Path, start: Instant, end: Instant) -> pa.Table:
        return self._engine().table(plan, root, start, end)

    def write(
        self, plans: Sequence[Plan], root: Path, start: Instant, end: Instant, out: Path, progress: bool = False
    ) -> list[RunSummary]:
        return self._engine().write(plans, root, start, end, out, progress=progress)


#: Every engine, by the name the CLI, the Python API and the magics take.
ENGINES: dict[str, Engine] = {
    "duckdb": _OnFirstUse("featuresql.engines.duckdb"),
    "flink": _OnFirstUse("featuresql.engines.flink", streams=True),
}

#: What `compile` can print: each engine's bounded job, and `<name>-stream` for an engine's unbounded one.
TARGETS: tuple[str, ...] = (*ENGINES, *(f"{name}-stream" for name, engine in ENGINES.items() if engine.streams))


def get_engine(name: str) -> Engine:
    """The engine called `name`; FeaturesqlError naming the engines if none is."""
    if name not in ENGINES:
        raise FeaturesqlError(f"unknown engine {name}; engines: {', '.join(ENGINES)}")
    return ENGINES[name]


def compile_target(target: str) -> tuple[Engine, bool]:
    """The engine a compile target names, and whether it is the engine's stream job."""
    if target not in TARGETS:
        raise FeaturesqlError(f"unknown target {target}; targets: {', '.join(TARGETS)}")
    name, _, mode = target.partition("-")
    return ENGINES[name], mode == "stream"


def run_range(start: Instant, end: Instant, whole_days: bool = False) -> tuple[datetime, datetime]:
    """A run's half-open UTC range; a bad one is a FeaturesqlError (a clear CLI error)."""
    try:
        lower, upper = parse_range(start, end)
        if whole_days:
            require_whole_days(lower, upper)
    except ValueError as err:
        raise FeaturesqlError(str(err)) from None
    return lower, upper
