"""The validator fuzz test (issue 14): mutated project files never crash validate or compile.

Hypothesis draws (file, seed) cases, derandomized, so every run checks the same
cases; each case rewrites one file of a scratch copy of the example project with
its seeded mutant (tests/fuzz_mutations.py) and checks the invariants of
tests/fuzz_support.py. The run is time-boxed: after FUZZ_SECONDS (default 60)
the remaining examples return at once. `make fuzz` runs many more cases.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from hypothesis import Phase, given, settings
from hypothesis import strategies as st

from featuresql.diagnostics import Diagnostic
from featuresql.project import Project
from fuzz_mutations import mutate
from fuzz_support import TARGETS, Case, ScratchProject, example_files, position_problem

#: Seconds of fuzzing in `make test`; at ~35 cases/s that is about 2,000 cases.
BUDGET_SECONDS = float(os.environ.get("FUZZ_SECONDS", "60"))
#: An upper bound only: the time budget ends the run first on this machine.
MAX_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "5000"))

FILES = example_files()


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> ScratchProject:
    project = ScratchProject(tmp_path_factory.mktemp("fuzz") / "project")
    project.warm_up()
    return project


def test_example_project_passes_every_check(tmp_path: Path) -> None:
    """Unmutated, the example project validates clean and compiles: a failure below is the mutant's."""
    scratch = ScratchProject(tmp_path / "project")
    checked, root = scratch.warm_up(), scratch.root
    assert checked.clean and not checked.failures and not checked.notes, checked
    project = Project(root)
    assert checked.compiled == len(TARGETS) * len(project.feature_names + project.samples_names)


def test_mutants_are_reproducible_from_their_seed() -> None:
    text = (Path(__file__).parent.parent / FILES[0]).read_text(encoding="utf-8")
    mutants = [mutate(text, seed, ["donor text"]) for seed in range(200)]
    assert mutants == [mutate(text, seed, ["donor text"]) for seed in range(200)]
    assert len({str(m) for m, _ in mutants}) > 150  # and they differ from one seed to the next


@pytest.mark.parametrize("text, line, col, problem", [
    ("ab\ncd", 2, 3, None),
    ("ab\ncd", 2, 4, "col>end: col 4 outside 1..3 of line 2"),
    ("ab\r\ncd", 1, 4, None),  # the \r before \n is a character of line 1
    ("ab\ncd\n", 3, 1, None),  # the empty last line after a final \n
    ("ab\ncd\n", 4, 1, "line>end: line 4 outside 1..3"),
    ("ab\rcd", 2, 1, None),  # a bare \r ends a line too (universal newlines, as files are read)
    ("ab\rcd", 3, 1, "line>end: line 3 outside 1..1"),
    ("ab\u2028cd", 2, 1, "line>end: line 2 outside 1..1"),
    ("ab", 1, 0, "col<1: col 0 outside 1..3 of line 1"),
])
def test_position_convention(text: str, line: int, col: int, problem: str | None) -> None:
    """Lines end at \\n, \\r\\n or a bare \\r (not U+2028); a column may point just past the line's last character."""
    diagnostic = Diagnostic("f.sql", line, col, "FS001", "x")
    assert position_problem(diagnostic, {"f.sql": text}) == problem


@pytest.mark.slow
@settings(derandomize=True, database=None, deadline=None, max_examples=MAX_EXAMPLES,
          phases=[Phase.explicit, Phase.generate])  # no shrinking: a seed's mutant is already the smallest name of the case
@given(file=st.sampled_from(FILES), seed=st.integers(min_value=0, max_value=2**32 - 1))
def test_mutated_file_keeps_the_invariants(scratch: ScratchProject, file: str, seed: int) -> None:
    """No traceback from validate, one-line diagnostics inside their files, clean means compilable."""
    if time.monotonic() - scratch.started > BUDGET_SECONDS:
        return
    result = scratch.run(Case(seed, file))
    if result.failures:
        pytest.fail(result.report(), pytrace=False)
