"""Jupyter support: `%load_ext featuresql`, HTML reprs, previews and plots.

    %load_ext featuresql
    %featuresql project ..                # or: featuresql.notebook.use(project)

    %%featuresql --entity u42 --plot
    FEATURE my_feature (entity user_id, windows (1h, 1d));
    SELECT user_id, COUNT(*) AS events FROM engagements GROUP BY user_id;

The magics live in `magics`, the HTML in `html`, the plots in `plots`. Only
`magics` imports IPython, and only `plots` imports matplotlib.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from featuresql.notebook.cells import save_definition

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from featuresql.project import Project

__all__ = ["load_ipython_extension", "plot_distributions", "plot_entity", "save_definition", "use"]


def load_ipython_extension(ipython: Any) -> None:
    """Register the magics and HTML / PNG formatters for featuresql objects in this shell."""
    from matplotlib.figure import Figure

    from featuresql.definitions import CatalogTable, FeatureDef, SamplesDef
    from featuresql.diagnostics import Diagnostic
    from featuresql.notebook import html
    from featuresql.notebook.magics import FeaturesqlMagics

    ipython.register_magics(FeaturesqlMagics)
    formatters = ipython.display_formatter.formatters
    # Formatters, not methods patched onto the classes: they exist in this shell only.
    for kind in (FeatureDef, SamplesDef, CatalogTable):
        formatters["text/html"].for_type(kind, html.definition_html)
    formatters["text/html"].for_type(Diagnostic, lambda d: html.diagnostics_html([d]))
    # Our figures are made without pyplot; IPython's matplotlib integration, when
    # active, registers its own printer for them and takes precedence.
    if Figure not in formatters["image/png"].type_printers:
        formatters["image/png"].for_type(Figure, html.figure_png)


def use(project: Project) -> None:
    """Make the magics of the running IPython work on `project` (cell definitions included)."""
    from IPython import get_ipython

    from featuresql.notebook.magics import FeaturesqlMagics

    shell = get_ipython()
    if shell is None:
        raise RuntimeError("featuresql.notebook.use needs a running IPython")
    if "FeaturesqlMagics" not in shell.magics_manager.registry:
        load_ipython_extension(shell)
    magics = shell.magics_manager.registry["FeaturesqlMagics"]
    assert isinstance(magics, FeaturesqlMagics)
    magics.project = project


def plot_distributions(*args: Any, **kwargs: Any) -> Figure:
    """See `featuresql.notebook.plots.plot_distributions`."""
    from featuresql.notebook.plots import plot_distributions as plot

    return plot(*args, **kwargs)


def plot_entity(*args: Any, **kwargs: Any) -> Figure:
    """See `featuresql.notebook.plots.plot_entity`."""
    from featuresql.notebook.plots import plot_entity as plot

    return plot(*args, **kwargs)
