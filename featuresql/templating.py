"""Jinja rendering of `.sql` files, sandboxed, keeping a map back to source lines.

Templates are rendered before parsing (metadata is never discovered from
Jinja). Diagnostics are reported against the rendered text, so we keep a map
from rendered lines to source lines and translate positions through it.

A project file is untrusted input: `featuresql validate` runs in CI on other
people's pull requests. So every file, macros included, renders in Jinja's
immutable sandbox (no attributes that reach Python internals, no mutation of
objects), with no globals beyond a few plain helpers, a loader that serves only
files inside `sql/macros/`, and budgets for size, numbers and time, so that a
template can neither run code, read the machine, nor hang or exhaust the process.
A breach of the sandbox is an FS004 diagnostic at the template line. The threat
model is written down in docs/security.md.
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
import re
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError

from featuresql.alarm import deadline
from featuresql.diagnostics import Diagnostic
from featuresql.paths import inside

_JINJA_MARKERS = ("{{", "{%", "{#")
_NUMBER = re.compile(r"^-?[0-9]+(\.[0-9]+)?$")

#: Budgets of one file's rendering. Real templates stay far below each; they
#: exist so that a hostile file fails fast with a diagnostic instead of holding
#: CI (a loop nest, `'x' * 10**10`, `'{:>9999999999}'.format(1)`).
MAX_RENDERED_CHARS = 10_000_000
MAX_TEMPLATE_NUMBER = 1_000_000
RENDER_SECONDS = 5.0

_MACRO_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")
# A width or precision of 7+ digits in a %- or {}-format spec: a string that size
# is not a SQL fragment but an attempt at memory.
_HUGE_FORMAT_WIDTH = re.compile(r"(%|\{[^{}]*:)[^{}%a-zA-Z]*?[0-9]{7,}")


_TEXT_REFUSED = ("a --var value cannot be turned into text inside a template (it would lose its quotes): "
                 "write {{ name }} for a quoted literal, {{ name | ident }} for an identifier, "
                 "and compare name.raw in {% if %} logic")


class VarText:
    """The unquoted text of a `--var` value, for Jinja logic only.

    It compares (`{% if mode.raw == 'daily' %}`), hashes and converts to a number,
    and nothing else: no string methods, no slicing, no conversion to text (`~`,
    `| string`, `| upper`, `'%s' %`, `format` all raise), and `{{ mode.raw }}` is
    refused. So a `--var` value never reaches SQL unquoted, whatever the template
    does with it.
    """

    __slots__ = ("_text",)

    def __init__(self, text: str):
        self._text = text

    def __eq__(self, other: object) -> bool:
        return self._text == (other._text if isinstance(other, VarText) else other)

    def __ne__(self, other: object) -> bool:
        return not self == other

    def __hash__(self) -> int:
        return hash(self._text)

    def __bool__(self) -> bool:
        return bool(self._text)

    def __str__(self) -> str:
        raise SecurityError(_TEXT_REFUSED)

    def __format__(self, spec: str) -> str:
        raise SecurityError(_TEXT_REFUSED)

    def __int__(self) -> int:
        return int(float(self._text))

    def __float__(self) -> float:
        return float(self._text)

    def __repr__(self) -> str:
        return "<--var text>"  # repr reaches templates through `| pprint`: it must not carry the value


class SqlLiteral:
    """A `--var` value as templates see it: `{{ name }}` writes a SQL literal, numbers bare, anything else quoted.

    Quoting (with doubled single quotes) means a value can never inject SQL. It is
    deliberately not a `str` (and its text is private: the sandbox refuses `_`
    attributes), and it refuses to become one inside a template:
    with the quoted text in hand, `[1:-1]` would take the quotes off again. Only
    the output of `{{ }}` (the environment's finalize) and the `ident` filter
    write it. `.raw` is the value for comparisons (`VarText`).
    """

    __slots__ = ("_sql", "raw")

    def __init__(self, raw: str):
        self._sql = raw if _NUMBER.match(raw) else "'" + raw.replace("'", "''") + "'"
        self.raw = VarText(raw)

    def __str__(self) -> str:
        raise SecurityError(_TEXT_REFUSED)

    def __format__(self, spec: str) -> str:
        raise SecurityError(_TEXT_REFUSED)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SqlLiteral) and other._sql == self._sql

    def __hash__(self) -> int:
        return hash(self._sql)

    def __int__(self) -> int:
        return int(self.raw)

    def __float__(self) -> float:
        return float(self.raw)

    def __repr__(self) -> str:
        return "<--var value>"


def sql_identifier(value: object) -> str:
    """The `ident` filter: a value as a double-quoted SQL identifier (`{{ var | ident }}`).

    For a `--var` naming a column or table: quoting makes any text one identifier.
    """
    text = value._text if isinstance(value, VarText) else value.raw._text if isinstance(value, SqlLiteral) else str(value)
    if not text or "\x00" in text:
        raise SecurityError("an empty identifier cannot be written into SQL")
    return '"' + text.replace('"', '""') + '"'


class TemplateTimeout(Exception):
    """A template rendered for longer than its time budget."""


@dataclass(frozen=True)
class RenderedSource:
    """A project file after Jinja: its text and, per rendered line, the source line.

    Lines are counted at `\\n` only, as sqlglot's tokenizer counts them, so a bare
    `\\r` or U+2028 inside a line never shifts a position.
    """

    path: str
    source: str
    text: str
    line_map: tuple[int, ...] = field(default=())
    exact: bool = True

    def source_position(self, line: int, col: int) -> tuple[int, int]:
        """Translate a 1-based rendered position to a position inside the source file."""
        source_lines = self.source.split("\n")
        if self.exact or not self.line_map:
            return _clamp(source_lines, line, col)
        rendered_lines = self.text.split("\n")
        index = min(max(line, 1), len(self.line_map)) - 1
        src_line = self.line_map[index]
        rendered_line = rendered_lines[index] if index < len(rendered_lines) else ""
        same = 0 < src_line <= len(source_lines) and source_lines[src_line - 1] == rendered_line
        return _clamp(source_lines, src_line, col if same else 1)


def _clamp(lines: list[str], line: int, col: int) -> tuple[int, int]:
    # A position is always inside the file: at most one past a line's last character.
    line = min(max(line, 1), len(lines))
    return line, min(max(col, 1), len(lines[line - 1]) + 1)


def _line_map(source: str, rendered: str) -> tuple[int, ...]:
    """Map each rendered line to the source line it most likely came from."""
    src_lines, out_lines = source.split("\n"), rendered.split("\n")
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


class _MacroLoader(jinja2.BaseLoader):
    """Serves `{% include %}` / `{% import %}` names from `sql/macros/` and nothing else.

    Names are plain relative paths (no `..`, no hidden parts), and the file must
    resolve inside the folder: a committed symlink to `/etc/passwd` is not served.
    """

    def __init__(self, folder: Path):
        self._folder = folder

    def get_source(self, environment: jinja2.Environment, template: str) -> tuple[str, str, Callable[[], bool]]:
        parts = template.split("/")
        if not all(_MACRO_NAME.fullmatch(part) for part in parts):
            raise jinja2.TemplateNotFound(template)
        path = self._folder.joinpath(*parts)
        if not path.is_file() or not inside(path, self._folder):
            raise jinja2.TemplateNotFound(template)
        if path.stat().st_size > MAX_RENDERED_CHARS:
            raise SecurityError(f"{template} is larger than {MAX_RENDERED_CHARS:,} bytes")
        return path.read_text(encoding="utf-8"), str(path), lambda: True


class _ProjectSandbox(ImmutableSandboxedEnvironment):
    """Jinja's immutable sandbox with bounds on the sizes a template can ask for."""

    intercepted_binops = frozenset({"*", "**", "%"})

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "**" and isinstance(right, int) and abs(right) > 64 and left not in (0, 1, -1):
            raise SecurityError(f"{left!r} ** {right} is larger than a template may compute")
        if operator == "*":
            for seq, count in ((left, right), (right, left)):
                if isinstance(seq, (str, list, tuple)) and isinstance(count, int) and len(seq) * count > MAX_RENDERED_CHARS:
                    raise SecurityError(f"a repetition of {len(seq) * count:,} items is larger than a template may build")
        if operator == "%" and isinstance(left, str) and _HUGE_FORMAT_WIDTH.search(left):
            raise SecurityError("a format width this large is not allowed in a template")
        return super().call_binop(context, operator, left, right)

    def call(self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        _check_arguments(args, kwargs)
        return super().call(__context, __obj, *args, **kwargs)

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        # The sandbox routes every `str.format` / `format_map` through here.
        owner = getattr(value, "__self__", None)
        if isinstance(owner, str) and getattr(value, "__name__", "") in ("format", "format_map"):
            if _HUGE_FORMAT_WIDTH.search(owner):
                raise SecurityError("a format width this large is not allowed in a template")
        return super().wrap_str_format(value)


def _bounded_filter(function: Callable[..., Any]) -> Callable[..., Any]:
    # Compiled templates call filters directly, not through `call`; each keeps
    # its Jinja markers (pass_context ...) through functools.wraps.
    @functools.wraps(function)
    def checked(*args: Any, **kwargs: Any) -> Any:
        _check_arguments(args[1:], kwargs)
        return function(*args, **kwargs)

    return checked


def _check_arguments(args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    # Widths and counts passed to methods and filters (`ljust`, `center`, `indent`,
    # `truncate`, `batch`...): a number this large only ever builds something huge.
    for value in (*args, *kwargs.values()):
        if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_TEMPLATE_NUMBER:
            raise SecurityError(f"the number {value} is larger than a template may pass to a function")


def _finalize(value: Any) -> Any:
    # Every `{{ }}` output passes here first: the one place a --var value becomes text.
    if isinstance(value, SqlLiteral):
        return value._sql
    if isinstance(value, VarText):
        raise SecurityError("a --var value's .raw text cannot be written into SQL: write {{ name }} "
                            "for a quoted literal, or {{ name | ident }} for an identifier")
    return value


def _deadline(seconds: float) -> AbstractContextManager[None]:
    return deadline(seconds, lambda: TemplateTimeout(f"the template rendered for more than {seconds:g} s"))


class TemplateRenderer:
    """Renders project files in a sandbox, with shared macros from `sql/macros/` and `--var` values."""

    def __init__(self, macro_dir: Path | None, variables: dict[str, str] | None = None):
        self._variables = {key: SqlLiteral(value) for key, value in (variables or {}).items()}
        has_macros = macro_dir is not None and macro_dir.is_dir()
        self._env = _ProjectSandbox(
            loader=_MacroLoader(macro_dir) if has_macros and macro_dir else None,
            undefined=jinja2.StrictUndefined,
            keep_trailing_newline=True,
            autoescape=False,
            finalize=_finalize,
        )
        # Jinja's default globals include objects (`cycler`, `joiner`, `lipsum`) whose
        # Python internals were the way out of an unsandboxed environment; a SQL
        # template needs none of them. `range`, `dict` and `namespace` stay.
        for name in ("cycler", "joiner", "lipsum"):
            self._env.globals.pop(name, None)
        self._env.filters = {name: _bounded_filter(f) for name, f in self._env.filters.items()}
        self._env.filters["ident"] = sql_identifier
        self._macro_files = (
            sorted(p.name for p in macro_dir.glob("*.sql") if inside(p, macro_dir)) if has_macros and macro_dir else []
        )
        self._folder = macro_dir or Path("sql/macros")
        self._macros_loaded = False
        self.macro_diagnostics: list[Diagnostic] = []

    def load_macros(self) -> None:
        """Load every macro file now, so a broken one is reported even if no file uses it."""
        self._load_macros()

    def _load_macros(self) -> None:
        # Every macro of sql/macros/*.sql is a global, so feature files need no import lines.
        if self._macros_loaded:
            return
        self._macros_loaded = True
        for name in self._macro_files:
            path = str(Path("sql/macros") / name)
            template: jinja2.Template | None = None
            try:
                with _deadline(RENDER_SECONDS):
                    template = self._env.get_template(name)
                    module = template.make_module(vars=dict(self._variables))
            except Exception as err:  # noqa: BLE001 - reported, never raised
                diagnostic = _template_diagnostic(path, err, str(self._folder / name))
                if template is not None and not isinstance(err, jinja2.TemplateSyntaxError):
                    # make_module leaves the traceback at lines of the compiled Python
                    # code (rendering rewrites them); the template maps them back.
                    line = template.get_corresponding_lineno(diagnostic.line)
                    diagnostic = dataclasses.replace(diagnostic, line=line)
                self.macro_diagnostics.append(diagnostic)
                continue
            for attr in dir(module):
                if not attr.startswith("_"):
                    self._env.globals[attr] = getattr(module, attr)

    def render(self, path: str, source: str) -> tuple[RenderedSource | None, list[Diagnostic]]:
        """Render one file; returns (None, diagnostics) when Jinja fails or the sandbox refuses."""
        if not any(marker in source for marker in _JINJA_MARKERS):
            return RenderedSource(path, source, source), []
        self._load_macros()
        try:
            with _deadline(RENDER_SECONDS):
                text = _bounded_join(self._env.from_string(source).generate(**self._variables))
        except Exception as err:  # noqa: BLE001 - any failure inside a template is the template's error
            return None, [_template_diagnostic(path, err)]
        return RenderedSource(path, source, text, _line_map(source, text), exact=False), []


def _bounded_join(chunks: Iterator[str]) -> str:
    parts: list[str] = []
    size = 0
    for chunk in chunks:
        size += len(chunk)
        if size > MAX_RENDERED_CHARS:
            raise SecurityError(f"the template renders more than {MAX_RENDERED_CHARS:,} characters")
        parts.append(chunk)
    return "".join(parts)


def _template_diagnostic(path: str, err: BaseException, filename: str = "<template>") -> Diagnostic:
    """One positioned diagnostic for anything that went wrong while rendering `path`.

    `filename` is the name Jinja compiled the template under (its traceback
    frames carry it), which is how the failing template line is found.
    """
    if isinstance(err, jinja2.TemplateSyntaxError):
        return Diagnostic(path, err.lineno or 1, 1, "FS002", err.message or str(err))
    line = _template_error_line(err, filename) or 1
    if isinstance(err, (SecurityError, TemplateTimeout)):
        return Diagnostic(path, line, 1, "FS004", f"template not allowed: {err}")
    if isinstance(err, jinja2.UndefinedError):
        hint = ": pass it with --var NAME=VALUE" if str(err.message).endswith("is undefined") else ""
        return Diagnostic(path, line, 1, "FS002", f"{err.message}{hint}")
    if isinstance(err, jinja2.TemplateNotFound):
        return Diagnostic(path, line, 1, "FS002", f"no macro file {err.name} in sql/macros/")
    if isinstance(err, jinja2.TemplateError):
        return Diagnostic(path, line, 1, "FS002", str(err))
    if isinstance(err, RecursionError):
        return Diagnostic(path, line, 1, "FS002", "template failed: macros call each other without end")
    return Diagnostic(path, line, 1, "FS002", f"template failed: {type(err).__name__}: {err}")


def _template_error_line(err: BaseException, filename: str = "<template>") -> int | None:
    # Jinja rewrites tracebacks so that template frames carry the template line.
    tb = err.__traceback__
    line = None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == filename:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line
