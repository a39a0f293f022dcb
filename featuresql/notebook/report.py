"""What a magic returns: one object that shows diagnostics, a preview and plots.

Returning a value (rather than printing) lets IPython display it as the cell's
output through `_repr_html_`, a terminal show `__repr__`, and tests inspect it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from featuresql.definitions import FeatureDef, SamplesDef
from featuresql.diagnostics import Diagnostic
from featuresql.notebook import html

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from featuresql.preview import Preview


@dataclass
class Report:
    """The outcome of a `%featuresql` / `%%featuresql` call.

    Attributes:
        title: what was done, e.g. "feature user_engagement".
        diagnostics: problems found (cell lines for a cell's own problems).
        sources: text of non-file sources by diagnostic path (the cell), for excerpts.
        root: the project root, to quote file lines in diagnostics.
        definition: the definition a cell made, when it is clean.
        preview: the preview, when one ran.
        figures: plots, shown below the preview.
        notes: one-line messages (saved files, what is not available).
        error: why the work stopped, when it did (no traceback).
        value: anything else to show (e.g. what `verify` returned).
    """

    title: str
    diagnostics: list[Diagnostic] = field(default_factory=list)
    sources: dict[str, str] = field(default_factory=dict)
    root: Path | None = None
    definition: FeatureDef | SamplesDef | None = None
    preview: Preview | None = None
    figures: list[Figure] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    error: str | None = None
    value: Any = None

    @property
    def ok(self) -> bool:
        """No error diagnostic and no error."""
        return self.error is None and not any(d.severity == "error" for d in self.diagnostics)

    def _repr_html_(self) -> str:
        parts = [f"<div><b>{html.esc(self.title)}</b></div>"]
        if self.diagnostics:
            parts.append(html.diagnostics_html(self.diagnostics, self.sources, self.root))
        if self.error:
            parts.append(f'<div style="color:#b00020">{html.esc(self.error)}</div>')
        parts.extend(f"<div>{html.esc(note)}</div>" for note in self.notes)
        if self.preview is not None:
            parts.append(html.preview_html(self.preview))
        parts.extend(html.figure_html(figure) for figure in self.figures)
        if self.value is not None:
            rich = getattr(self.value, "_repr_html_", None)
            parts.append(rich() if callable(rich) else html.code(str(self.value)))
        return "".join(parts)

    def __repr__(self) -> str:
        lines = [self.title]
        lines += [str(d) for d in self.diagnostics]
        lines += [f"error: {self.error}"] if self.error else []
        lines += self.notes
        if self.preview is not None:
            lines.append(repr(self.preview))
            lines.append(self.preview.table.slice(0, 10).to_pandas().to_string(max_cols=12))
        lines += [f"<figure {i + 1} of {len(self.figures)}>" for i in range(len(self.figures))]
        if self.value is not None:
            lines.append(repr(self.value))
        return "\n".join(lines)
