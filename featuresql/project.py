"""A featuresql project: its catalogs, features and samples, loaded and checked.

`Project` is the one entry point the CLI, notebooks and tests share. Loading
never raises on bad input: every problem becomes a `Diagnostic`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from featuresql.catalog import load_catalog_table
from featuresql.definitions import CatalogTable, FeatureDef, SamplesDef
from featuresql.diagnostics import Diagnostic, FeaturesqlError
from featuresql.engines import compile_target, get_engine
from featuresql.gcpause import fewer_full_collections
from featuresql.headers import load_feature, load_samples
from featuresql.lazyplans import LazyPlans
from featuresql.output import RunSummary, output_root
from featuresql.parse import ParsedFile, parse_source
from featuresql.parse.header import Header
from featuresql.paths import ProjectFolder
from featuresql.plan import AggregatePlan, Plan, SamplesPlan, build_plan
from featuresql.rules import QueryContext, check_query
from featuresql.rules.outputs import check_outputs
from featuresql.rules.samples import check_samples
from featuresql.templating import TemplateRenderer
from featuresql.timeutil import Instant

if TYPE_CHECKING:
    import pyarrow as pa  # only in signatures: validate need not import pyarrow

    from featuresql.preview import Preview
    from featuresql.verify import Verification

__all__ = ["CATALOG_DIR", "FEATURE_DIR", "MACRO_DIR", "SAMPLES_DIR", "Instant", "Project"]
CATALOG_DIR = "catalogs"
FEATURE_DIR = "sql/features"
SAMPLES_DIR = "sql/samples"
MACRO_DIR = "sql/macros"


@dataclass
class _Loaded:
    tables: dict[str, CatalogTable] = field(default_factory=dict)
    features: dict[str, FeatureDef] = field(default_factory=dict)
    samples: dict[str, SamplesDef] = field(default_factory=dict)
    #: Feature plans, built on first read (`validate` alone needs few or none).
    plans: LazyPlans = field(default_factory=LazyPlans)
    label_plans: dict[str, AggregatePlan] = field(default_factory=dict)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    #: The project's files as this load reads them (links out of the project refused).
    folder: ProjectFolder | None = None


class Project:
    """A project directory: `catalogs/*.sql`, `sql/features/*.sql`, `sql/samples/*.sql`.

    Args:
        root: the project directory.
        variables: `--var` values, rendered into templates as SQL literals.
    """

    def __init__(self, root: str | Path = ".", variables: dict[str, str] | None = None):
        self.root = Path(root).resolve()
        self.variables = dict(variables or {})
        self._loaded: _Loaded | None = None
        #: Definitions written in notebook cells (`define`): lowered name -> (path, text).
        self._cells: dict[str, tuple[str, str]] = {}

    # -- loading ---------------------------------------------------------------------
    def reload(self) -> None:
        """Forget what was read, so the next access reads the files again (cell definitions stay)."""
        self._loaded = None

    @property
    def _state(self) -> _Loaded:
        if self._loaded is None:
            self._loaded = self._load()
        return self._loaded

    def _files(self, folder: str) -> list[Path]:
        return sorted((self.root / folder).glob("*.sql"))

    def _parse(self, renderer: TemplateRenderer, path: Path, state: _Loaded) -> ParsedFile | None:
        relative = str(path.relative_to(self.root))
        if state.folder is None:
            state.folder = ProjectFolder(self.root)
        text, problem = state.folder.read(path)
        if text is None:
            state.diagnostics.append(Diagnostic(relative, 1, 1, "FS005", problem))
            return None
        return self._parse_text(renderer, relative, text, state)

    def _parse_text(self, renderer: TemplateRenderer, relative: str, text: str, state: _Loaded) -> ParsedFile | None:
        rendered, diagnostics = renderer.render(relative, text)
        state.diagnostics.extend(diagnostics)
        if rendered is None:
            return None
        parsed, diagnostics = parse_source(rendered)
        state.diagnostics.extend(diagnostics)
        if parsed is not None and not parsed.statements:
            state.diagnostics.append(Diagnostic(relative, 1, 1, "FS003", "the file is empty"))
            return None
        return parsed

    @fewer_full_collections()
    def _load(self, cells: dict[str, tuple[str, str]] | None = None) -> _Loaded:
        state = _Loaded()
        renderer = TemplateRenderer(self.root / MACRO_DIR, self.variables)
        renderer.load_macros()
        cell_features, cell_samples = self._parse_cells(renderer, self._cells if cells is None else cells, state)

        for path in self._files(CATALOG_DIR):
            parsed = self._parse(renderer, path, state)
            if parsed is None:
                continue
            table, diagnostics = load_catalog_table(parsed)
            state.diagnostics.extend(diagnostics)
            if table is not None:
                if table.name.lower() in state.tables:
                    state.diagnostics.append(parsed.diagnostic(parsed.statements[0], "FS108",
                        f"table {table.name} is also declared in {state.tables[table.name.lower()].file}"))
                else:
                    state.tables[table.name.lower()] = table

        for parsed in self._sources(renderer, FEATURE_DIR, state) + cell_features:
            feature, diagnostics = load_feature(parsed)
            state.diagnostics.extend(diagnostics)
            if feature is None:
                continue
            key = feature.name.lower()
            if key in state.features and any(parsed is cell for cell in cell_features):
                _forget(state, key, state.features.pop(key).file)  # a cell overrides the file of the same name
            if key in state.features:
                state.diagnostics.append(parsed.diagnostic(parsed.statements[0], "FS108",
                    f"feature {feature.name} is also defined in {state.features[key].file}"))
                continue
            table = state.tables.get(feature.source.lower())
            ctx = QueryContext(parsed, feature.query, table, feature.entity, "feature")
            problems = check_query(ctx)
            problems += check_outputs(ctx)
            state.diagnostics.extend(problems)
            state.features[key] = feature
            if not problems and not diagnostics and table is not None:
                state.plans.defer(key, partial(build_plan, ctx, feature.name, feature.windows))

        for parsed in self._sources(renderer, SAMPLES_DIR, state) + cell_samples:
            samples, diagnostics = load_samples(parsed)
            state.diagnostics.extend(diagnostics)
            if samples is None:
                continue
            key = samples.name.lower()
            if key in state.samples and any(parsed is cell for cell in cell_samples):
                _forget(state, key, state.samples.pop(key).file)
            if key in state.samples or key in state.features:
                other = state.samples.get(key) or state.features[key]
                state.diagnostics.append(parsed.diagnostic(parsed.statements[0], "FS108",
                    f"name {samples.name} is also used by {other.file}"))
                continue
            state.samples[key] = samples
            problems, label_plan = check_samples(parsed, samples, state.tables, state.features, state.plans)
            state.diagnostics.extend(problems)
            if label_plan is not None:
                state.label_plans[key] = label_plan
        state.diagnostics.extend(renderer.macro_diagnostics)
        state.diagnostics.sort()
        return state

    def _sources(self, renderer: TemplateRenderer, folder: str, state: _Loaded) -> list[ParsedFile]:
        parsed = (self._parse(renderer, path, state) for path in self._files(folder))
        return [p for p in parsed if p is not None]

    def _parse_cells(
        self, renderer: TemplateRenderer, cells: dict[str, tuple[str, str]], state: _Loaded
    ) -> tuple[list[ParsedFile], list[ParsedFile]]:
        """Cell definitions parsed like files, split into (features, samples) by their header."""
        features: list[ParsedFile] = []
        samples: list[ParsedFile] = []
        for path, text in cells.values():
            parsed = self._parse_text(renderer, path, text, state)
            if parsed is not None:
                header = parsed.statements[0]
                is_samples = isinstance(header, Header) and header.kind == "SAMPLES"
                (samples if is_samples else features).append(parsed)
        return features, samples

    # -- definitions written in notebook cells ------------------------------------------------
    def define(self, text: str, path: str = "<cell>") -> tuple[FeatureDef | SamplesDef | None, list[Diagnostic]]:
        """Check a FEATURE or SAMPLES definition written outside the project's files.

        The text goes through the same path as a file (Jinja, parse, header, query
        rules, plan), checked against the project's catalogs. When that adds no
        error, the definition is used from then on by this object, as if it were a
        file, overriding a file that defines the same name. When it does, nothing
        changes.

        Args:
            text: the definition, e.g. a notebook cell.
            path: the name its diagnostics carry; their lines are lines of `text`.

        Returns:
            The definition (None if it has errors) and every diagnostic it adds to
            the project, including problems it causes in other files.
        """
        scratch = _Loaded()
        renderer = TemplateRenderer(self.root / MACRO_DIR, self.variables)
        parsed = self._parse_text(renderer, path, text, scratch)
        header = parsed.statements[0] if parsed is not None else None
        if not isinstance(header, Header):
            if parsed is not None:
                scratch.diagnostics.append(parsed.diagnostic(header, "FS003",
                    "a cell definition starts with `FEATURE name (...);` or `SAMPLES name (...);`"))
            return None, sorted(scratch.diagnostics)
        before = set(self._state.diagnostics)
        cells = {**self._cells, header.name.text.lower(): (path, text)}
        state = self._load(cells)
        added = [d for d in state.diagnostics if d not in before]
        if any(d.severity == "error" for d in added):
            return None, added
        self._cells, self._loaded = cells, state
        key = header.name.text.lower()
        return state.features.get(key) or state.samples.get(key), added

    def forget(self, name: str) -> None:
        """Drop a cell definition, so a file of the same name (if any) applies again."""
        if self._cells.pop(name.lower(), None) is not None:
            self._loaded = None

    @property
    def cells(self) -> dict[str, str]:
        """The text of each definition made with `define`, by name."""
        state = self._state
        names = {**{k: f.name for k, f in state.features.items()}, **{k: s.name for k, s in state.samples.items()}}
        return {names.get(key, key): text for key, (_, text) in self._cells.items()}

    # -- what the project holds -----------------------------------------------------------
    @property
    def tables(self) -> dict[str, CatalogTable]:
        return dict(self._state.tables)

    @property
    def features(self) -> dict[str, FeatureDef]:
        return dict(self._state.features)

    @property
    def samples_defs(self) -> dict[str, SamplesDef]:
        return dict(self._state.samples)

    def validate(self) -> list[Diagnostic]:
        """Every problem in the project, sorted by file and position; empty when clean."""
        return list(self._state.diagnostics)

    def _require_clean(self) -> None:
        errors = [d for d in self._state.diagnostics if d.severity == "error"]
        if errors:
            raise FeaturesqlError(errors)

    @property
    def feature_names(self) -> list[str]:
        return sorted(f.name for f in self._state.features.values())

    @property
    def samples_names(self) -> list[str]:
        return sorted(s.name for s in self._state.samples.values())

    def plan(self, name: str) -> Plan:
        """What `name` computes, resolved once: a feature's `AggregatePlan` or a `SamplesPlan`.

        The one lookup of a name (without case): engines, `preview` and `verify`
        take the plan, never the project, and the plan's type says what it is.

        Raises:
            FeaturesqlError: the project has errors, or no feature or samples
                definition has this name (the message lists both).
        """
        self._require_clean()
        state = self._state
        key = name.lower()
        samples = state.samples.get(key)
        if samples is not None:
            features = tuple(state.plans[feature.lower()] for feature in samples.features)
            return SamplesPlan(samples.name, state.tables[samples.spine.lower()], features, state.label_plans.get(key))
        if key in state.plans:
            return state.plans[key]
        known = ", ".join(self.feature_names + self.samples_names) or "none"
        raise FeaturesqlError(f"unknown feature or samples {name}; known: {known}")

    def _feature_plan(self, name: str) -> AggregatePlan:
        plan = self.plan(name)
        if isinstance(plan, SamplesPlan):
            raise FeaturesqlError(f"{plan.name} is a samples definition, not a feature; "
                                  f"features: {', '.join(self.feature_names) or 'none'}")
        return plan

    def _samples_plan(self, name: str) -> SamplesPlan:
        plan = self.plan(name)
        if not isinstance(plan, SamplesPlan):
            raise FeaturesqlError(f"{plan.name} is a feature, not a samples definition; "
                                  f"samples: {', '.join(self.samples_names) or 'none'}")
        return plan

    # -- running: each method resolves names, then hands plans to an engine -------------------
    def compile(self, name: str, target: str = "duckdb", start: Instant = "1970-01-01", end: Instant = "2100-01-01") -> str:
        """The SQL an engine would run for a feature (backfill) or samples definition.

        `target`: an engine (`featuresql.engines.ENGINES`), or `<engine>-stream` for
        the job that engine runs unbounded (`featuresql stream`).
        """
        engine, stream = compile_target(target)
        return engine.compile(self.plan(name), self.root, start, end, stream=stream)

    def table(self, name: str, start: Instant, end: Instant, engine_name: str = "duckdb") -> pa.Table:
        """A feature's update log (events in [start, end)) or samples (spine rows in [start, end)), as Arrow."""
        engine = get_engine(engine_name)
        return engine.table(self.plan(name), self.root, start, end)

    def backfill_table(self, name: str, start: Instant, end: Instant) -> pa.Table:
        """A feature's update log for events in [start, end), as an Arrow table."""
        return get_engine("duckdb").table(self._feature_plan(name), self.root, start, end)

    def samples_table(self, name: str, start: Instant, end: Instant) -> pa.Table:
        """Samples for spine rows in [start, end), as an Arrow table."""
        return get_engine("duckdb").table(self._samples_plan(name), self.root, start, end)

    def backfill(
        self, names: list[str] | None, start: Instant, end: Instant, out: str | Path, progress: bool = False,
        engine_name: str = "duckdb",
    ) -> list[RunSummary]:
        """Write update logs to `out/features/<name>/dt=YYYY-MM-DD/` (atomically, per partition)."""
        engine = get_engine(engine_name)
        plans = [self._feature_plan(n) for n in names or self.feature_names]  # every unknown name before any work
        return engine.write(plans, self.root, start, end, output_root(out), progress=progress)

    def samples(self, name: str, start: Instant, end: Instant, out: str | Path, engine_name: str = "duckdb") -> RunSummary:
        """Write samples to `out/samples/<name>/dt=YYYY-MM-DD/` (atomically, per partition)."""
        engine = get_engine(engine_name)
        [summary] = engine.write([self._samples_plan(name)], self.root, start, end, output_root(out))
        return summary

    def preview(
        self,
        name: str,
        start: Instant | None = None,
        end: Instant | None = None,
        entity: object = None,
        limit: int | None = 1000,
    ) -> Preview:
        """A quick look at a feature's update log or a samples definition's rows.

        See `featuresql.preview.preview`: by default the last day of data; the
        entity filter and the limit are applied inside the SQL.
        """
        from featuresql.preview import preview

        return preview(self.plan(name), self.root, start, end, entity, limit)

    def verify(self, name: str, start: Instant | None = None, end: Instant | None = None, limit: int | None = None) -> Verification:
        """Run `name` on DuckDB and on Flink over the same slice and compare (see `featuresql.verify`)."""
        from featuresql.verify import verify

        return verify(self.plan(name), self.root, start, end, limit)

    def _repr_html_(self) -> str:
        from featuresql.notebook.html import project_html

        return project_html(self)


def _forget(state: _Loaded, key: str, file: str) -> None:
    """Drop what a file contributed, when a cell definition of the same name takes its place."""
    state.plans.pop(key, None)
    state.label_plans.pop(key, None)
    state.diagnostics = [d for d in state.diagnostics if d.path != file]
