"""The validator fuzz harness (issue 14): run one mutated project, check what must always hold.

A case is (seed, file): the example project with that one file replaced by
`fuzz_mutations.mutate(original, seed, other files)`. `check_case` runs
`Project(dir).validate()` on it and reports every broken invariant:

- `crash`: an exception escaped `validate()`;
- `multi-line`: a diagnostic is not one line (`str(d)` holds `\\n` or `\\r`, or its
  message any other line break: U+2028, U+0085, ...);
- `bad-position`: `d.path` is not a project file, or `d.line`/`d.col` is not in it.
  Lines are counted by `\\n` only (`text.count("\\n") + 1`) and a line is the text
  between two `\\n`, so a `\\r` before the `\\n` is a character of the line and
  `1 <= col <= len(line) + 1`. sqlglot (and Python's text-mode reading, which
  `Project` uses) also break lines at a bare `\\r`; such positions are flagged with
  "(valid if a bare \\r breaks lines)" so the two conventions can be told apart
  (`BARE_CR_BREAKS_LINES` switches to theirs);
- `unknown-code`: a code missing from `featuresql.diagnostics.CODES`;
- `compile-crash`: the project validated without errors, but `Project.compile`
  raised something other than `FeaturesqlError` for a feature or samples of the
  changed file (or for every definition, when a catalog or macro changed), for
  the DuckDB or the Flink target;
- `compile-error`: such a compile raised `FeaturesqlError` whose diagnostics are
  missing (a bare message) or are themselves multi-line or badly positioned;
- `hang`: the case ran past its time limit.

A `FeaturesqlError` from compile that carries only well-formed, positioned
diagnostics is not a failure: the user gets a one-line `path:line:col` message,
which is what the issue asks of every input. It is still recorded, as a note
(`compile-rejected`), since validate should ideally have said it first.
"""

from __future__ import annotations

import os
import time
import traceback
from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import featuresql
from featuresql.alarm import deadline
from featuresql.diagnostics import CODES, Diagnostic, FeaturesqlError
from featuresql.project import CATALOG_DIR, FEATURE_DIR, MACRO_DIR, SAMPLES_DIR, Project
from fuzz_mutations import mutate
from helpers import REPO_ROOT, copy_example_project

#: The folders whose `*.sql` files a project reads; a case mutates one of their files.
PROJECT_FOLDERS: tuple[str, ...] = (CATALOG_DIR, FEATURE_DIR, SAMPLES_DIR, MACRO_DIR)
#: Compile targets checked for whatever validates clean.
TARGETS: tuple[str, ...] = ("duckdb", "flink")
#: Every character some reader takes for a line break (`str.splitlines` breaks on all of them).
LINE_BREAKS = "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"
#: A warm validate of the example project takes ~20 ms and a compile of all of it ~70 ms.
DEFAULT_TIMEOUT = 10.0
#: The reproduction command printed with every failure.
REPLAY = "python tests/fuzz_run.py --replay {seed} {file}"

_PACKAGE_DIR = Path(featuresql.__file__).resolve().parent


@dataclass(frozen=True, order=True)
class Case:
    """One fuzz case: the example project with `file` replaced by its mutant for `seed`."""

    seed: int
    file: str


@dataclass(frozen=True)
class Failure:
    """One broken invariant. `kind` and `where` name its class (how runs group failures)."""

    kind: str
    where: str
    detail: str

    def __str__(self) -> str:
        return f"{self.kind}: {self.where}: {self.detail}"


@dataclass
class Checked:
    """What one run of a project gave: failures, notes (not failures) and what was compiled."""

    failures: list[Failure] = field(default_factory=list)
    notes: list[Failure] = field(default_factory=list)
    clean: bool = False
    compiled: int = 0


@dataclass
class CaseResult:
    """A case, its mutant (described) and what checking it found."""

    case: Case
    operations: list[str]
    excerpt: str
    checked: Checked
    seconds: float

    @property
    def failures(self) -> list[Failure]:
        return self.checked.failures

    def report(self) -> str:
        """A failure message that reproduces the case: seed, file, operations, mutated text."""
        lines = [
            f"fuzz case seed={self.case.seed} file={self.case.file} "
            f"(reproduce: {REPLAY.format(seed=self.case.seed, file=self.case.file)})",
            "operations: " + "; ".join(self.operations),
            "mutated text " + self.excerpt,
        ]
        lines += [f"  {failure}" for failure in self.failures]
        return "\n".join(lines)


class CaseTimeout(BaseException):
    """Raised in the case when its time is up; a BaseException, so `except Exception` in product code lets it through."""


def time_limit(seconds: float | None) -> AbstractContextManager[None]:
    """Interrupt the block with `CaseTimeout` after `seconds` (featuresql.alarm: main thread only).

    Only Python code is interrupted: a loop inside compiled code runs on until it
    returns. `fuzz_run` also kills a worker that overruns, for those.
    """
    return deadline(seconds, lambda: CaseTimeout(f"over {seconds:g} s"))


def crash_site(error: BaseException) -> str:
    """`Type @ featuresql/x.py:function [via lib]`: the innermost featuresql frame, and the
    library the error came from when it is raised outside featuresql."""
    # The harness's own frames (the SIGALRM handler) say nothing about where the case was.
    frames = [f for f in traceback.extract_tb(error.__traceback__) if _where(f.filename) != "harness"]
    ours = [f for f in frames if _where(f.filename) == "featuresql"]
    site = type(error).__name__
    if ours:
        relative = Path(ours[-1].filename).resolve().relative_to(_PACKAGE_DIR.parent)
        site += f" @ {relative}:{ours[-1].name}"
    if frames and _where(frames[-1].filename) != "featuresql":
        site += f" via {_where(frames[-1].filename)}"
    return site


@lru_cache(maxsize=None)
def _where(filename: str) -> str:
    """`featuresql`, `harness` (this file), or the library (or file name) of a frame's file."""
    if filename.startswith("<"):  # <frozen importlib._bootstrap>, <template>, <string>
        return filename
    path = Path(filename).resolve()
    if path == Path(__file__).resolve():
        return "harness"
    if path.is_relative_to(_PACKAGE_DIR):
        return "featuresql"
    if "site-packages" in path.parts:
        return "/".join(path.parts[path.parts.index("site-packages") + 1 :])
    # Compiled modules (sqlglotc) name the file they were built from, e.g. /project/sqlglot/parser.py.
    return "/".join(path.parts[-2:])


def _one_line(error: BaseException, limit: int = 160) -> str:
    text = " ".join(str(error).split()) or type(error).__name__
    return text if len(text) <= limit else text[:limit] + "..."


def project_files(root: Path) -> dict[str, str]:
    """Relative path -> text of every file a project reads, bytes that are not UTF-8 kept one char each."""
    files = {}
    for folder in PROJECT_FOLDERS:
        for path in sorted((root / folder).glob("*.sql")):
            files[str(path.relative_to(root))] = path.read_bytes().decode("utf-8", "surrogateescape")
    return files


#: Appended to a position that is only out of its file because lines are split on `\n` alone.
BARE_CR = " (valid if a bare \\r breaks lines)"
#: Whether such positions pass. The issue's invariant counts lines by `\n` alone, but
#: `Project` reads files in text mode (universal newlines: `\r\n` and a bare `\r` become
#: `\n`) and sqlglot breaks lines at `\r` too, so its positions count a bare `\r` as a
#: line break, as most editors do. That is featuresql's convention (docs/security.md):
#: lines end at `\n`, `\r\n` or a bare `\r`; U+2028 and the like are characters.
BARE_CR_BREAKS_LINES = True


def position_problem(diagnostic: Diagnostic, files: dict[str, str]) -> str | None:
    """Why a diagnostic's position is not in its file (lines split on `\\n` only), or None.

    The reason starts with its class: `path`, `line<1`, `line>end`, `col<1` or `col>end`.
    """
    text = files.get(diagnostic.path)
    if text is None:
        return f"path {diagnostic.path!r} is not a project file"
    problem = _outside(text.split("\n"), diagnostic.line, diagnostic.col)
    if problem is None:
        return None
    universal = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if _outside(universal, diagnostic.line, diagnostic.col) is None:
        return None if BARE_CR_BREAKS_LINES else problem + BARE_CR
    return problem


def _outside(lines: list[str], line: int, col: int) -> str | None:
    if not 1 <= line <= len(lines):
        return f"line{'<1' if line < 1 else '>end'}: line {line} outside 1..{len(lines)}"
    width = len(lines[line - 1])
    if not 1 <= col <= width + 1:
        return f"col{'<1' if col < 1 else '>end'}: col {col} outside 1..{width + 1} of line {line}"
    return None


def diagnostic_problems(diagnostics: Sequence[Diagnostic], files: dict[str, str], context: str = "") -> list[Failure]:
    """Every diagnostic that is not one line, not positioned in its file, or of an unknown code."""
    failures = []
    for diagnostic in diagnostics:
        shown = repr(str(diagnostic)[:200])
        if any(char in str(diagnostic) for char in LINE_BREAKS):
            failures.append(Failure("multi-line", f"{diagnostic.code}{context}", shown))
        problem = position_problem(diagnostic, files)
        if problem is not None:
            # The class: code, what is outside, and whether a bare \r explains it.
            outside = problem.split(":")[0].split()[0]
            bare_cr = " (bare \\r)" if problem.endswith(BARE_CR) else ""
            failures.append(Failure("bad-position", f"{diagnostic.code} {outside}{bare_cr}{context}", f"{problem}: {shown}"))
        if diagnostic.code not in CODES:
            failures.append(Failure("unknown-code", f"{diagnostic.code}{context}", shown))
    return failures


def _compile_names(project: Project, changed: str | None) -> list[str]:
    """The definitions a change can affect: those of the changed file and every samples
    (which read features); all of them when a catalog or macro changed, or nothing is known."""
    if changed is None or not changed.startswith((FEATURE_DIR + "/", SAMPLES_DIR + "/")):
        return project.feature_names + project.samples_names
    own = [f.name for f in project.features.values() if f.file == changed]
    return own + project.samples_names


def check_compiles(project: Project, files: dict[str, str], changed: str | None, targets: Sequence[str]) -> Checked:
    """Compile what a clean project defines, for every target; what goes wrong becomes failures."""
    checked = Checked(clean=True)
    for name in _compile_names(project, changed):
        for target in targets:
            context = f" [compile {target}]"
            try:
                project.compile(name, target)
                checked.compiled += 1
            except FeaturesqlError as err:
                problems = diagnostic_problems(err.diagnostics, files, context)
                if not err.diagnostics:
                    problems.append(Failure("compile-error", f"no diagnostics{context}", f"{name}: {_one_line(err)}"))
                if problems:
                    checked.failures += [Failure("compile-error", p.where, p.detail) for p in problems]
                else:
                    checked.notes.append(Failure("compile-rejected", f"{err.diagnostics[0].code}{context}", _one_line(err)))
            except Exception as err:  # noqa: BLE001 - any exception here is the finding
                checked.failures.append(Failure("compile-crash", crash_site(err), f"{name} {target}: {_one_line(err)}"))
    return checked


def check_case(
    root: Path, changed: str | None = None, targets: Sequence[str] = TARGETS, timeout: float | None = DEFAULT_TIMEOUT
) -> Checked:
    """Validate the project at `root`; check its diagnostics, and compile it if it is clean.

    Args:
        root: the project directory.
        changed: the project file that was changed (relative), to compile only what it affects.
        targets: compile targets for a clean project.
        timeout: seconds the whole check may take (None: no limit).
    """
    files = project_files(root)
    try:
        with time_limit(timeout):
            project = Project(root)
            try:
                diagnostics = project.validate()
            except Exception as err:  # noqa: BLE001 - the invariant under test
                return Checked([Failure("crash", crash_site(err), _one_line(err))])
            failures = diagnostic_problems(diagnostics, files)
            if any(d.severity == "error" for d in diagnostics):
                return Checked(failures)
            checked = check_compiles(project, files, changed, targets)
            checked.failures[:0] = failures
            return checked
    except CaseTimeout as err:
        return Checked([Failure("hang", crash_site(err).replace("CaseTimeout", f"over {timeout:g} s", 1), str(err))])


def excerpt(original: str, mutant: str, context: int = 30, limit: int = 300) -> str:
    """`at char N: '...'`: the changed part of `mutant` with some context, shortened to `limit`."""
    prefix = len(os.path.commonprefix([original, mutant]))
    suffix = 0
    longest = min(len(original), len(mutant)) - prefix
    while suffix < longest and original[-1 - suffix] == mutant[-1 - suffix]:
        suffix += 1
    start, end = max(0, prefix - context), min(len(mutant), len(mutant) - suffix + context)
    shown = mutant[start:end]
    if len(shown) > limit:
        shown = shown[: limit // 2] + f"<...{len(shown) - limit} chars...>" + shown[-limit // 2 :]
    return f"at char {prefix} (shown from {start}): {shown!r}"


def _text(data: str | bytes) -> str:
    return data.decode("utf-8", "surrogateescape") if isinstance(data, bytes) else data


class ScratchProject:
    """A copy of the example project in which one file at a time is swapped for a mutant.

    Args:
        root: an empty directory to copy the example project into.
    """

    def __init__(self, root: Path):
        self.root = copy_example_project(root)
        self.originals = {relative: (self.root / relative).read_bytes() for relative in project_files(self.root)}
        self._texts = {relative: data.decode("utf-8") for relative, data in self.originals.items()}
        self.started = time.monotonic()

    def warm_up(self) -> Checked:
        """Check the unmutated project once, so that the first case does not pay for imports
        (the Flink compiler's pyarrow: about a second) against its time limit."""
        return check_case(self.root, timeout=None)

    @property
    def files(self) -> list[str]:
        """The relative path of every project file, sorted."""
        return sorted(self.originals)

    def mutant(self, case: Case) -> tuple[str | bytes, list[str]]:
        """The mutated text of `case.file` and the operations that made it."""
        donors = [text for relative, text in sorted(self._texts.items()) if relative != case.file]
        return mutate(self._texts[case.file], case.seed, donors)

    def run(self, case: Case, targets: Sequence[str] = TARGETS, timeout: float | None = DEFAULT_TIMEOUT) -> CaseResult:
        """Write the case's mutant, check the project, and put the original back."""
        mutant, operations = self.mutant(case)
        path = self.root / case.file
        path.write_bytes(mutant if isinstance(mutant, bytes) else mutant.encode("utf-8"))
        began = time.perf_counter()
        try:
            checked = check_case(self.root, case.file, targets, timeout)
        finally:
            path.write_bytes(self.originals[case.file])
        shown = excerpt(self._texts[case.file], _text(mutant))
        return CaseResult(case, operations, shown, checked, time.perf_counter() - began)


def example_files() -> list[str]:
    """The example project's files (relative paths), without copying it."""
    return sorted(project_files(REPO_ROOT))
