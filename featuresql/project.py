"""A featuresql project: its catalogs, features and samples, loaded and checked.

`Project` is the one entry point the CLI, notebooks and tests share. Loading
never raises on bad input: every problem becomes a `Diagnostic`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import pyarrow as pa

from featuresql.catalog import load_catalog_table
from featuresql.definitions import CatalogTable, FeatureDef, SamplesDef
from featuresql.diagnostics import Diagnostic, FeaturesqlError
from featuresql.headers import load_feature, load_samples
from featuresql.output import RunSummary
from featuresql.parse import ParsedFile, parse_source
from featuresql.plan import AggregatePlan, build_plan
from featuresql.rules import QueryContext, check_query
from featuresql.templating import TemplateRenderer

Instant = str | date | datetime
CATALOG_DIR = "catalogs"
FEATURE_DIR = "sql/features"
SAMPLES_DIR = "sql/samples"
MACRO_DIR = "sql/macros"


@dataclass
class _Loaded:
    tables: dict[str, CatalogTable] = field(default_factory=dict)
    features: dict[str, FeatureDef] = field(default_factory=dict)
    samples: dict[str, SamplesDef] = field(default_factory=dict)
    plans: dict[str, AggregatePlan] = field(default_factory=dict)
    label_plans: dict[str, AggregatePlan] = field(default_factory=dict)
    diagnostics: list[Diagnostic] = field(default_factory=list)


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

    # -- loading ---------------------------------------------------------------------
    def reload(self) -> None:
        """Forget what was read, so the next access reads the files again."""
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
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as err:
            state.diagnostics.append(Diagnostic(relative, 1, 1, "FS001", f"cannot read file: {err}"))
            return None
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

    def _load(self) -> _Loaded:
        state = _Loaded()
        renderer = TemplateRenderer(self.root / MACRO_DIR, self.variables)
        renderer.load_macros()

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

        for path in self._files(FEATURE_DIR):
            parsed = self._parse(renderer, path, state)
            if parsed is None:
                continue
            feature, diagnostics = load_feature(parsed)
            state.diagnostics.extend(diagnostics)
            if feature is None:
                continue
            key = feature.name.lower()
            if key in state.features:
                state.diagnostics.append(parsed.diagnostic(parsed.statements[0], "FS108",
                    f"feature {feature.name} is also defined in {state.features[key].file}"))
                continue
            table = state.tables.get(feature.source.lower())
            ctx = QueryContext(parsed, feature.query, table, feature.entity, "feature")
            problems = check_query(ctx)
            problems += _duplicate_outputs(ctx)
            state.diagnostics.extend(problems)
            state.features[key] = feature
            if not problems and not diagnostics and table is not None:
                state.plans[key] = build_plan(ctx, feature.name, feature.windows)

        for path in self._files(SAMPLES_DIR):
            parsed = self._parse(renderer, path, state)
            if parsed is None:
                continue
            samples, diagnostics = load_samples(parsed)
            state.diagnostics.extend(diagnostics)
            if samples is None:
                continue
            key = samples.name.lower()
            if key in state.samples or key in state.features:
                other = state.samples.get(key) or state.features[key]
                state.diagnostics.append(parsed.diagnostic(parsed.statements[0], "FS108",
                    f"name {samples.name} is also used by {other.file}"))
                continue
            state.samples[key] = samples
            state.diagnostics.extend(self._check_samples(parsed, samples, state))
        state.diagnostics.extend(renderer.macro_diagnostics)
        state.diagnostics.sort()
        return state

    def _check_samples(self, parsed: ParsedFile, samples: SamplesDef, state: _Loaded) -> list[Diagnostic]:
        from sqlglot import exp

        from featuresql.parse.dialect import Header, HeaderProperty

        header = parsed.statements[0]
        assert isinstance(header, Header)

        def at(prop_name: str, value: str | None = None) -> exp.Expr:
            for prop in header.expressions:
                if isinstance(prop, HeaderProperty) and prop.name.lower() == prop_name:
                    if value is None:
                        return prop
                    for node in prop.args["value"].walk():
                        if isinstance(node, exp.Identifier) and node.name.lower() == value.lower():
                            return node
                    return prop
            return header

        problems: list[Diagnostic] = []
        spine = state.tables.get(samples.spine.lower())
        if spine is None:
            problems.append(parsed.diagnostic(at("spine", samples.spine), "FS101",
                f"unknown spine table {samples.spine}: no catalogs/*.sql declares it"))
        seen_columns: dict[str, str] = {c.name.lower(): f"spine {samples.spine}" for c in spine.columns} if spine else {}
        for name in samples.features:
            feature = state.features.get(name.lower())
            if feature is None:
                known = ", ".join(sorted(f.name for f in state.features.values())) or "none"
                problems.append(parsed.diagnostic(at("features", name), "FS121", f"unknown feature {name} (known: {known})"))
                continue
            if spine is not None:
                for key in feature.entity:
                    if spine.column(key) is None:
                        problems.append(parsed.diagnostic(at("features", name), "FS122",
                            f"feature {name} is keyed by {key}, which spine {spine.name} does not have"))
            plan = state.plans.get(name.lower())
            for column in plan.output_columns if plan else []:
                if column.lower() in seen_columns:
                    problems.append(parsed.diagnostic(at("features", name), "FS109",
                        f"column {column} of feature {name} is also produced by {seen_columns[column.lower()]}"))
                seen_columns.setdefault(column.lower(), f"feature {feature.name}")
        label = samples.label
        if label is not None:
            table = state.tables.get(label.source.lower())
            ctx = QueryContext(parsed, label.query, table, label.keys, "label")
            label_problems = check_query(ctx) + _duplicate_outputs(ctx)
            if table is None:
                label_problems.append(parsed.diagnostic(at("label", label.source), "FS101",
                    f"unknown label source {label.source}: no catalogs/*.sql declares it"))
            if spine is not None:
                group = label.query.args["group"]
                for node in group.expressions:
                    if isinstance(node, exp.Column) and spine.column(node.name) is None:
                        label_problems.append(parsed.diagnostic(node, "FS122",
                            f"label key {node.name} is not a column of spine {spine.name}"))
            problems.extend(label_problems)
            if not label_problems and table is not None:
                plan = build_plan(ctx, samples.name, (label.horizon,), suffix_windows=False)
                for column in plan.output_columns:
                    if column.lower() in seen_columns:
                        problems.append(parsed.diagnostic(label.query, "FS109",
                            f"label column {column} is also produced by {seen_columns[column.lower()]}"))
                state.label_plans[samples.name.lower()] = plan
        return problems

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

    def feature_plan(self, name: str) -> AggregatePlan:
        self._require_clean()
        plan = self._state.plans.get(name.lower())
        if plan is None:
            raise FeaturesqlError(f"unknown feature {name}; known features: {', '.join(self.feature_names) or 'none'}")
        return plan

    @property
    def feature_names(self) -> list[str]:
        return sorted(f.name for f in self._state.features.values())

    @property
    def samples_names(self) -> list[str]:
        return sorted(s.name for s in self._state.samples.values())

    def samples_def(self, name: str) -> SamplesDef:
        self._require_clean()
        samples = self._state.samples.get(name.lower())
        if samples is None:
            raise FeaturesqlError(f"unknown samples {name}; known samples: {', '.join(self.samples_names) or 'none'}")
        return samples

    def samples_plans(self, name: str) -> tuple[CatalogTable, list[AggregatePlan], AggregatePlan | None]:
        samples = self.samples_def(name)
        spine = self._state.tables[samples.spine.lower()]
        features = [self._state.plans[f.lower()] for f in samples.features]
        return spine, features, self._state.label_plans.get(name.lower())

    # -- running (DuckDB, the embedded default) ---------------------------------------------
    def compile(self, name: str, target: str = "duckdb", start: Instant = "1970-01-01", end: Instant = "2100-01-01") -> str:
        """The SQL an engine would run for a feature (backfill) or samples definition."""
        from featuresql.engines import duckdb as engine

        if target == "flink":
            from featuresql.engines import flink

            return flink.compile_definition(self, name, start, end)
        if target != "duckdb":
            raise FeaturesqlError(f"unknown target {target}; targets: duckdb, flink")
        return engine.compile_definition(self, name, start, end)

    def backfill_table(self, name: str, start: Instant, end: Instant) -> pa.Table:
        """A feature's update log for events in [start, end), as an Arrow table."""
        from featuresql.engines import duckdb as engine

        return engine.backfill_table(self, name, start, end)

    def samples_table(self, name: str, start: Instant, end: Instant) -> pa.Table:
        """Samples for spine rows in [start, end), as an Arrow table."""
        from featuresql.engines import duckdb as engine

        return engine.samples_table(self, name, start, end)

    def backfill(
        self, names: list[str] | None, start: Instant, end: Instant, out: str | Path, progress: bool = False,
        engine_name: str = "duckdb",
    ) -> list[RunSummary]:
        """Write update logs to `out/features/<name>/dt=YYYY-MM-DD/` (atomically, per partition)."""
        from featuresql.engines import duckdb as engine

        if engine_name == "flink":
            from featuresql.engines import flink

            return flink.backfill(self, names or self.feature_names, start, end, Path(out))

        return engine.backfill(self, names or self.feature_names, start, end, Path(out), progress=progress)

    def samples(self, name: str, start: Instant, end: Instant, out: str | Path) -> RunSummary:
        """Write samples to `out/samples/<name>/dt=YYYY-MM-DD/` (atomically, per partition)."""
        from featuresql.engines import duckdb as engine

        return engine.samples(self, name, start, end, Path(out))


def _duplicate_outputs(ctx: QueryContext) -> list[Diagnostic]:
    from sqlglot import exp

    seen: set[str] = set()
    problems = []
    for item in ctx.query.expressions:
        if isinstance(item, exp.Alias):
            name = item.alias.lower()
            if name in seen:
                problems.append(ctx.diagnostic(item.args["alias"], "FS109", f"output {item.alias} is defined twice"))
            seen.add(name)
    return problems
