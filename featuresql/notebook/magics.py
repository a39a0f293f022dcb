"""The `%featuresql` line magic and the `%%featuresql` cell magic.

Each call returns a `Report`, which the notebook displays as the cell's output.
Expected failures (a bad definition, missing data, an engine that is not
installed) are part of the report, never a traceback; bad options are
IPython `UsageError`s, which it shows as one line.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_cell_magic, magics_class
from IPython.core.magic_arguments import MagicArgumentParser

from featuresql.definitions import FeatureDef
from featuresql.diagnostics import FeaturesqlError
from featuresql.engines import TARGETS
from featuresql.notebook.cells import save_definition
from featuresql.notebook.report import Report
from featuresql.plan import Plan, SamplesPlan
from featuresql.project import Project

CELL_PATH = "<cell>"
PROJECT_ENV = "FEATURESQL_PROJECT"
NO_FLINK = (
    "verify compares the DuckDB and Flink results of a definition; it is not part of this "
    "version of featuresql yet (Flink runs feature update logs: featuresql backfill --engine flink)."
)


def _range_options(parser: MagicArgumentParser, limit: int) -> None:
    parser.add_argument("--start", help="range start (UTC), inclusive; default: the last day of data")
    parser.add_argument("--end", help="range end (UTC), exclusive")
    parser.add_argument("--entity", action="append", metavar="VALUE|COLUMN=VALUE",
                        help="keep one entity (repeat for several values, or one per key column)")
    parser.add_argument("--limit", type=int, default=limit, help=f"most rows to compute or return (default {limit})")


def _cell_parser() -> MagicArgumentParser:
    parser = MagicArgumentParser(prog="%%featuresql", description="Check a FEATURE or SAMPLES cell, then preview it.")
    _range_options(parser, 1000)
    parser.add_argument("--save", action="store_true", help="write the definition to sql/features/ or sql/samples/")
    parser.add_argument("--no-preview", dest="preview", action="store_false", help="only check the definition")
    parser.add_argument("--plot", action="store_true", help="draw the distribution of each computed column")
    return parser


def _line_parser() -> MagicArgumentParser:
    parser = MagicArgumentParser(prog="%featuresql")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    use = commands.add_parser("project", help="show the project, or use PATH (or a Project variable)")
    use.add_argument("target", nargs="?")
    use.add_argument("--var", action="append", default=[], metavar="NAME=VALUE")
    commands.add_parser("validate", help="check every file (and cell definition) of the project")
    for name, help_text, limit in (("preview", "preview a feature or samples definition", 1000),
                                   ("samples", "preview a samples definition's rows", 1000)):
        sub = commands.add_parser(name, help=help_text)
        sub.add_argument("name")
        _range_options(sub, limit)
        sub.add_argument("--plot", action="store_true", help="draw the distribution of each computed column")
    verify = commands.add_parser("verify", help="compare DuckDB with Flink for a definition")
    verify.add_argument("name")
    verify.add_argument("--start")
    verify.add_argument("--end")
    compile_ = commands.add_parser("compile", help="show the SQL an engine runs")
    compile_.add_argument("name")
    compile_.add_argument("--target", default="duckdb", choices=TARGETS)
    for name, help_text in (("save", "write a cell definition to the project's files"),
                            ("forget", "drop a cell definition (the file of that name applies again)")):
        commands.add_parser(name, help=help_text).add_argument("name")
    return parser


def parse_entity(values: list[str] | None) -> Any:
    """`--entity` values: `COLUMN=VALUE` pairs become {column: [values]}, bare values a value or a list."""
    if not values:
        return None
    pairs = [value.partition("=") for value in values]
    if all(sep and key.strip().isidentifier() for key, sep, _ in pairs):
        mapping: dict[str, list[str]] = {}
        for key, _, value in pairs:
            mapping.setdefault(key.strip(), []).append(value)
        return mapping
    return values[0] if len(values) == 1 else list(values)


def find_project_root(start: Path | None = None) -> Path | None:
    """$FEATURESQL_PROJECT, else the nearest directory at or above `start` with a `catalogs/` folder."""
    configured = os.environ.get(PROJECT_ENV)
    if configured:
        return Path(configured)
    here = (start or Path.cwd()).resolve()
    return next((d for d in (here, *here.parents) if (d / "catalogs").is_dir()), None)


@magics_class
class FeaturesqlMagics(Magics):
    """`%featuresql COMMAND ...` and `%%featuresql [options]` over one `Project`."""

    def __init__(self, shell: Any = None, **kwargs: Any) -> None:
        super().__init__(shell, **kwargs)
        self.project: Project | None = None
        self._cell_args = _cell_parser()
        self._line_args = _line_parser()

    def _require_project(self) -> Project:
        if self.project is None:
            root = find_project_root()
            if root is None:
                raise FeaturesqlError(
                    f"no featuresql project found at or above {Path.cwd()}: "
                    f"run `%featuresql project PATH`, or set ${PROJECT_ENV}"
                )
            self.project = Project(root)
        return self.project

    @line_cell_magic
    def featuresql(self, line: str, cell: str | None = None) -> Any:
        """Check and preview FEATURE / SAMPLES definitions; see `%featuresql` with no arguments."""
        if cell is not None:
            return self._cell(line, cell)
        args = self._line_args.parse_argstring(line)
        if args.command is None:
            return Report("usage", value=self._line_args.format_help() + "\n" + self._cell_args.format_help())
        handler: Callable[[Any], Any] = getattr(self, f"_command_{args.command}")
        try:
            return handler(args)
        except FeaturesqlError as err:
            return _failure(f"{args.command} {getattr(args, 'name', '')}".strip(), err, self.project)

    # -- the cell magic ---------------------------------------------------------------------
    def _cell(self, line: str, cell: str) -> Report:
        args = self._cell_args.parse_argstring(line)
        try:
            project = self._require_project()
        except FeaturesqlError as err:
            return _failure("cell", err, None)
        definition, diagnostics = project.define(cell, CELL_PATH)
        kind = "feature" if isinstance(definition, FeatureDef) else "samples"
        report = Report(
            f"{kind} {definition.name}: valid, usable by later cells" if definition is not None
            else "not defined: fix the problems below",
            diagnostics=diagnostics, sources={CELL_PATH: cell}, root=project.root, definition=definition,
        )
        if definition is None:
            return report
        try:
            if args.save:
                report.notes.append(f"saved to {save_definition(project, definition.name).relative_to(project.root)}")
            if args.preview:
                self._add_preview(report, project, project.plan(definition.name), args)
        except FeaturesqlError as err:
            _add_failure(report, err)
        return report

    def _add_preview(self, report: Report, project: Project, plan: Plan, args: Any) -> None:
        from featuresql.preview import preview

        if args.limit is not None and args.limit < 1:
            raise UsageError("--limit must be a positive number of rows")
        report.preview = preview(plan, project.root, args.start, args.end, parse_entity(args.entity), args.limit)
        if args.plot:
            from featuresql.notebook.plots import plot_distributions

            report.figures.append(plot_distributions(report.preview))

    # -- line commands ------------------------------------------------------------------------
    def _command_project(self, args: Any) -> Any:
        if args.target is None:
            return self._require_project()
        candidate = self.shell.user_ns.get(args.target) if self.shell is not None else None
        if isinstance(candidate, Project):
            self.project = candidate
        else:
            root = Path(args.target).expanduser()
            if not root.is_dir():
                raise UsageError(f"{args.target} is neither a directory nor a Project variable")
            variables = dict(v.partition("=")[::2] for v in args.var)
            self.project = Project(root, variables)
        return self.project

    def _command_validate(self, args: Any) -> Report:
        project = self._require_project()
        diagnostics = project.validate()
        report = Report("validate", diagnostics=diagnostics, sources=_cell_sources(project), root=project.root)
        if not diagnostics:
            report.notes.append(f"ok: {len(project.tables)} tables, {len(project.features)} features, "
                                f"{len(project.samples_defs)} samples")
        return report

    def _command_preview(self, args: Any) -> Report:
        project = self._require_project()
        report = Report(f"preview {args.name}", root=project.root)
        self._add_preview(report, project, project.plan(args.name), args)
        return report

    def _command_samples(self, args: Any) -> Report:
        project = self._require_project()
        plan = project.plan(args.name)
        if not isinstance(plan, SamplesPlan):
            known = ", ".join(project.samples_names) or "none"
            return Report(f"samples {args.name}", error=f"unknown samples {args.name}; known samples: {known}")
        report = Report(f"samples {args.name}", root=project.root)
        self._add_preview(report, project, plan, args)
        return report

    def _command_verify(self, args: Any) -> Report:
        project = self._require_project()
        runner = _verifier(project)
        if runner is None:
            return Report(f"verify {args.name}", notes=[NO_FLINK])
        options = {k: v for k, v in (("start", args.start), ("end", args.end)) if v is not None}
        try:
            value = runner(args.name, **options)
        except ImportError as err:
            return Report(f"verify {args.name}", error=f"the Flink engine is not available here: {err}")
        return Report(f"verify {args.name}", value=value)

    def _command_compile(self, args: Any) -> Report:
        text = self._require_project().compile(args.name, args.target)
        return Report(f"compile {args.name} --target {args.target}", value=_Code(text))

    def _command_save(self, args: Any) -> Report:
        project = self._require_project()
        path = save_definition(project, args.name)
        return Report(f"save {args.name}", notes=[f"saved to {path.relative_to(project.root)}"])

    def _command_forget(self, args: Any) -> Report:
        self._require_project().forget(args.name)
        return Report(f"forget {args.name}", notes=[f"{args.name}: the project's files apply again"])


class _Code:
    """SQL text that shows as a code block in a notebook."""

    def __init__(self, text: str) -> None:
        self.text = text

    def _repr_html_(self) -> str:
        from featuresql.notebook.html import code

        return code(self.text)

    def __str__(self) -> str:
        return self.text

    __repr__ = __str__


def _verifier(project: Project) -> Callable[..., Any] | None:
    """`Project.verify`, or None in a version without the Flink engine."""
    method = getattr(project, "verify", None)
    return method if callable(method) else None


def _cell_sources(project: Project) -> dict[str, str]:
    # Cell definitions all carry the path `<cell>`; with one, its lines can be quoted.
    cells = list(project.cells.values())
    return {CELL_PATH: cells[0]} if len(cells) == 1 else {}


def _failure(title: str, err: FeaturesqlError, project: Project | None) -> Report:
    report = Report(title, root=project.root if project else None,
                    sources=_cell_sources(project) if project else {})
    _add_failure(report, err)
    return report


def _add_failure(report: Report, err: FeaturesqlError) -> None:
    if err.diagnostics:
        report.diagnostics.extend(err.diagnostics)
        report.error = "the project has errors: fix them (or override the file from a cell) to run anything"
    else:
        report.error = str(err)
