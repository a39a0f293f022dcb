"""featuresql: SQL-first features and training samples with one boundary contract.

    >>> from featuresql import Project
    >>> project = Project("path/to/project")
    >>> project.validate()                  # list of Diagnostic, empty when clean
    >>> project.samples_table("ctr", "2026-01-10", "2026-01-11")   # pyarrow.Table

See docs/semantics.md for what every value means.
"""

from featuresql.diagnostics import Diagnostic, FeaturesqlError
from featuresql.output import RunSummary
from featuresql.project import Project

__all__ = ["Diagnostic", "FeaturesqlError", "Project", "RunSummary"]
