"""Jinja rendering of `.sql` files, keeping a map back to source lines.

Templates are rendered before parsing (metadata is never discovered from
Jinja). Diagnostics are reported against the rendered text, so we keep a map
from rendered lines to source lines and translate positions through it.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from pathlib import Path

import jinja2

from featuresql.diagnostics import Diagnostic

_JINJA_MARKERS = ("{{", "{%", "{#")
_NUMBER = re.compile(r"^-?[0-9]+(\.[0-9]+)?$")


class SqlLiteral(str):
    """A `--var` value that renders as a SQL literal: numbers bare, anything else quoted.

    Quoting (with doubled single quotes) means a value can never inject SQL.
    `.raw` gives the unquoted text for use inside Jinja logic.
    """

    raw: str

    def __new__(cls, raw: str) -> "SqlLiteral":
        rendered = raw if _NUMBER.match(raw) else "'" + raw.replace("'", "''") + "'"
        obj = super().__new__(cls, rendered)
        obj.raw = raw
        return obj


@dataclass(frozen=True)
class RenderedSource:
    """A project file after Jinja: its text and, per rendered line, the source line."""

    path: str
    source: str
    text: str
    line_map: tuple[int, ...] = field(default=())
    exact: bool = True

    def source_position(self, line: int, col: int) -> tuple[int, int]:
        """Translate a 1-based rendered position to the source file."""
        if self.exact or not self.line_map:
            return line, col
        index = min(max(line, 1), len(self.line_map)) - 1
        src_line = self.line_map[index]
        rendered_line = self.text.splitlines()[index] if self.text.splitlines() else ""
        source_lines = self.source.splitlines()
        same = 0 < src_line <= len(source_lines) and source_lines[src_line - 1] == rendered_line
        return src_line, col if same else 1


def _line_map(source: str, rendered: str) -> tuple[int, ...]:
    """Map each rendered line to the source line it most likely came from."""
    src_lines, out_lines = source.splitlines(), rendered.splitlines()
    mapping = [1] * len(out_lines)
    matcher = difflib.SequenceMatcher(a=src_lines, b=out_lines, autojunk=False)
    for tag, a0, a1, b0, b1 in matcher.get_opcodes():
        for offset, b in enumerate(range(b0, b1)):
            if tag == "equal":
                mapping[b] = a0 + offset + 1
            else:
                # Lines produced by a macro or a block: point at the template line
                # that made them (clamped to the replaced source range).
                mapping[b] = min(a0 + offset, max(a1 - 1, a0)) + 1
    return tuple(mapping)


class TemplateRenderer:
    """Renders project files with shared macros from `sql/macros/` and `--var` values."""

    def __init__(self, macro_dir: Path | None, variables: dict[str, str] | None = None):
        self._variables = {key: SqlLiteral(value) for key, value in (variables or {}).items()}
        loader = jinja2.FileSystemLoader(str(macro_dir)) if macro_dir and macro_dir.is_dir() else None
        self._env = jinja2.Environment(
            loader=loader,
            undefined=jinja2.StrictUndefined,
            keep_trailing_newline=True,
            autoescape=False,
        )
        self._macro_files = sorted(p.name for p in macro_dir.glob("*.sql")) if loader and macro_dir else []
        self._macros_loaded = False
        self.macro_diagnostics: list[Diagnostic] = []
        self._macro_dir = macro_dir

    def load_macros(self) -> None:
        """Load every macro file now, so a broken one is reported even if no file uses it."""
        self._load_macros()

    def _load_macros(self) -> None:
        # Every macro of sql/macros/*.sql is a global, so feature files need no import lines.
        if self._macros_loaded:
            return
        self._macros_loaded = True
        for name in self._macro_files:
            try:
                module = self._env.get_template(name).make_module(vars=dict(self._variables))
            except jinja2.TemplateSyntaxError as err:
                path = str(Path("sql/macros") / name)
                self.macro_diagnostics.append(Diagnostic(path, err.lineno or 1, 1, "FS002", err.message or str(err)))
                continue
            except Exception as err:  # noqa: BLE001 - reported, never raised
                path = str(Path("sql/macros") / name)
                line = _template_error_line(err) or 1
                self.macro_diagnostics.append(Diagnostic(path, line, 1, "FS002", f"{type(err).__name__}: {err}"))
                continue
            for attr in dir(module):
                if not attr.startswith("_"):
                    self._env.globals[attr] = getattr(module, attr)

    def render(self, path: str, source: str) -> tuple[RenderedSource | None, list[Diagnostic]]:
        """Render one file; returns (None, diagnostics) when Jinja fails."""
        if not any(marker in source for marker in _JINJA_MARKERS):
            return RenderedSource(path, source, source), []
        self._load_macros()
        try:
            text = self._env.from_string(source).render(**self._variables)
        except jinja2.TemplateSyntaxError as err:
            return None, [Diagnostic(path, err.lineno or 1, 1, "FS002", err.message or str(err))]
        except jinja2.UndefinedError as err:
            line = _template_error_line(err) or 1
            return None, [Diagnostic(path, line, 1, "FS002", f"{err.message}: pass it with --var NAME=VALUE")]
        except jinja2.TemplateError as err:
            return None, [Diagnostic(path, _template_error_line(err) or 1, 1, "FS002", str(err))]
        except Exception as err:  # noqa: BLE001 - any failure inside a template is the template's error
            line = _template_error_line(err) or 1
            return None, [Diagnostic(path, line, 1, "FS002", f"template failed: {type(err).__name__}: {err}")]
        return RenderedSource(path, source, text, _line_map(source, text), exact=False), []


def _template_error_line(err: Exception) -> int | None:
    # Jinja rewrites tracebacks so that template frames carry the template line.
    tb = err.__traceback__
    line = None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == "<template>":
            line = tb.tb_lineno
        tb = tb.tb_next
    return line
