"""The notebooks in notebooks/: committed without outputs, and run top to bottom.

They run in a real Jupyter kernel (nbclient) against a copy of the example
project with 20,000 generated events, passed through $FEATURESQL_PROJECT.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from featuresql.datagen import generate
from helpers import REPO_ROOT, copy_example_project

NOTEBOOKS = sorted((REPO_ROOT / "notebooks").glob("*.ipynb"))


def test_the_issue_s_notebooks_exist() -> None:
    assert [p.name for p in NOTEBOOKS] == ["debugging.ipynb", "quickstart.ipynb"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebooks_are_committed_without_outputs(path: Path) -> None:
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, cell.source[:60]


@pytest.fixture(scope="module")
def tiny_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = copy_example_project(tmp_path_factory.mktemp("notebooks") / "project")
    generate(root / "data", events=20_000)
    return root


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_top_to_bottom(path: Path, tiny_project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from nbclient import NotebookClient

    monkeypatch.setenv("FEATURESQL_PROJECT", str(tiny_project))  # the kernel inherits it
    notebook = nbformat.read(path, as_version=4)
    NotebookClient(notebook, timeout=180, kernel_name="python3",
                   resources={"metadata": {"path": str(path.parent)}}).execute()  # raises on a failing cell
    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    text = "".join(str(o) for o in outputs)
    assert "Traceback" not in text
    assert "image/png" in text  # the plots rendered
    if path.stem == "debugging":
        assert "FS111" in text  # the leak is caught at its cell line
        assert "the lifetime counts match SAMPLES" in text
