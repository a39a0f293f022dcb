"""featuresql: SQL-first features and training samples with one boundary contract.

    >>> from featuresql import Project
    >>> project = Project("path/to/project")
    >>> project.validate()                  # list of Diagnostic, empty when clean
    >>> project.samples_table("ctr", "2026-01-10", "2026-01-11")   # pyarrow.Table

In Jupyter, `%load_ext featuresql` adds the `%featuresql` / `%%featuresql`
magics (see `featuresql.notebook`).

See docs/semantics.md for what every value means.
"""

from typing import Any

from featuresql.diagnostics import Diagnostic, FeaturesqlError
from featuresql.output import RunSummary
from featuresql.project import Project

__all__ = ["Diagnostic", "FeaturesqlError", "Project", "RunSummary"]


def load_ipython_extension(ipython: Any) -> None:
    """`%load_ext featuresql`: register the notebook magics and displays."""
    from featuresql.notebook import load_ipython_extension as load

    load(ipython)
