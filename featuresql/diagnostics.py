"""One diagnostic type for every problem featuresql reports, and its renderings.

Problems are collected (all of them, not the first) as structured values and
rendered late, as text, JSON or GitHub Actions annotations.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass
from typing import Iterable, Literal

Severity = Literal["error", "warning"]

#: Every code featuresql can emit, with a one-line summary (used by `featuresql codes`
#: and the docs). Codes are stable: tests exist for each of them.
CODES: dict[str, str] = {
    "FS001": "SQL syntax error",
    "FS002": "template (Jinja) error",
    "FS003": "file is not a single header statement followed by one query",
    "FS004": "template not allowed (outside the sandbox, or over a size or time budget)",
    "FS005": "file not read (a link out of the project, too large, or not UTF-8)",
    "FS101": "unknown table",
    "FS102": "unknown column",
    "FS103": "type error",
    "FS104": "column is neither aggregated nor a GROUP BY key",
    "FS105": "GROUP BY does not match the declared entity",
    "FS106": "bad window spelling",
    "FS107": "bad label horizon",
    "FS108": "duplicate definition name",
    "FS109": "duplicate output column",
    "FS110": "non-deterministic function",
    "FS111": "leakage: the query could see data at or after its as-of time",
    "FS112": "leakage: feature reads a column known only later (label column)",
    "FS113": "unsupported construct",
    "FS120": "bad header property",
    "FS121": "unknown feature",
    "FS122": "spine lacks a key column",
    "FS130": "catalog table has no WATERMARK",
    "FS131": "bad catalog option",
    "FS132": "catalog file is not one CREATE TABLE",
    "FS133": "unknown stream option (stream.*)",
    "FS134": "incomplete stream binding (a Kafka binding without topic or bootstrap, SASL without credentials)",
    "FS135": "bad stream option value",
    "FS136": "secret written in a catalog (credentials come from environment variables)",
}


@dataclass(frozen=True, order=True)
class Diagnostic:
    """A problem at a position in a project file. Lines and columns are 1-based."""

    path: str
    line: int
    col: int
    code: str
    message: str
    severity: Severity = "error"

    def __post_init__(self) -> None:
        # One line per diagnostic is the format's promise (CI annotations, grep):
        # messages that quote source (a tokenizer's context, a value) may carry its
        # line breaks and control characters, which are shown escaped instead.
        for name in ("path", "message"):
            value = getattr(self, name)
            if _LINE_BREAKS.search(value):
                object.__setattr__(self, name, _LINE_BREAKS.sub(_escape_break, value))

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.col}: {self.code} {self.message}"


#: Everything Python's str.splitlines() breaks at (the Unicode separators too), and
#: the other control characters but tab: quoted from a hostile file, an escape
#: sequence could rewrite a CI log or a terminal.
_LINE_BREAKS = re.compile("[\x00-\x08\n-\x1f\x7f\x85\u2028\u2029]")


def _escape_break(match: re.Match[str]) -> str:
    char = match.group()
    return {"\n": "\\n", "\r": "\\r"}.get(char, f"\\u{ord(char):04x}")


class FeaturesqlError(Exception):
    """Raised when an operation cannot go on; carries the diagnostics that explain why."""

    def __init__(self, diagnostics: Iterable[Diagnostic] | str):
        if isinstance(diagnostics, str):
            self.diagnostics: list[Diagnostic] = []
            message = diagnostics
        else:
            self.diagnostics = sorted(diagnostics)
            message = "\n".join(str(d) for d in self.diagnostics)
        super().__init__(message)


def render(diagnostics: Iterable[Diagnostic], fmt: str = "text") -> str:
    """Render diagnostics as `text` (path:line:col: CODE message), `json` or `github`."""
    items = sorted(diagnostics)
    if fmt == "json":
        return json.dumps([asdict(d) for d in items], indent=2)
    if fmt == "github":
        # GitHub Actions workflow commands; newlines in messages must be escaped.
        return "\n".join(
            f"::{d.severity} file={d.path},line={d.line},col={d.col},title={d.code}::"
            + d.message.replace("%", "%25").replace("\n", "%0A")
            for d in items
        )
    return "\n".join(str(d) for d in items)
