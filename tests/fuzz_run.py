"""The long validator fuzz run (issue 14): `make fuzz`, or

    python tests/fuzz_run.py --cases 100000 --workers 2     # a run; summary to stdout and fuzz-results/
    python tests/fuzz_run.py --replay SEED FILE [--write DIR] [--minimize]   # one case again

Case i is (seed FIRST_SEED + i, file i mod the number of project files), run by
tests/fuzz_support.py in worker processes, one case at a time each. A worker
interrupts its own case after --timeout seconds; one that does not answer
within twice that (stuck in compiled code) or dies is killed and replaced, and
its case counts as a hang or a death. The summary groups failures by class
(kind and where), with counts per file and the smallest reproducer of each
class (optionally shrunk with --minimize). Exit status 1 when anything failed.
"""

from __future__ import annotations

import argparse
import multiprocessing
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from multiprocessing.connection import Connection, wait
from pathlib import Path

from fuzz_support import (
    DEFAULT_TIMEOUT,
    REPLAY,
    TARGETS,
    Case,
    CaseResult,
    Checked,
    Failure,
    ScratchProject,
    check_case,
    example_files,
)
from helpers import REPO_ROOT

RESULTS_DIR = REPO_ROOT / "fuzz-results"
#: Classes listed in this order (then by count): what breaks validate first.
KIND_ORDER = ("crash", "hang", "died", "multi-line", "bad-position", "unknown-code", "compile-crash", "compile-error")
#: Address space per worker: a mutant that makes a template or the parser allocate
#: without bound fails its case instead of pushing a shared machine into swap.
MEMORY_LIMIT_MB = 4096


# -- the workers ------------------------------------------------------------------------
def _work(conn: Connection, scratch_dir: str, targets: tuple[str, ...], timeout: float) -> None:
    """Run cases received on `conn` until None; send back each CaseResult."""
    import resource

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent stops the run
    limit = MEMORY_LIMIT_MB * 2**20
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    scratch = ScratchProject(Path(scratch_dir))
    scratch.warm_up()
    while (case := conn.recv()) is not None:
        conn.send(scratch.run(case, targets, timeout))


@dataclass
class _Worker:
    process: multiprocessing.process.BaseProcess
    conn: Connection
    case: Case | None = None
    deadline: float = 0.0


class _Pool:
    """Worker processes, each given one case at a time; replaced when stuck or dead."""

    def __init__(self, size: int, targets: tuple[str, ...], timeout: float, scratch: Path):
        self._context = multiprocessing.get_context("spawn")  # a fresh interpreter: no state shared with the parent
        self._targets, self._timeout, self._scratch = targets, timeout, scratch
        self._started = 0
        self.workers = [self._start() for _ in range(size)]

    def _start(self) -> _Worker:
        self._started += 1
        parent, child = self._context.Pipe()
        directory = self._scratch / f"worker-{self._started}"
        process = self._context.Process(target=_work, args=(child, str(directory), self._targets, self._timeout), daemon=True)
        process.start()
        child.close()
        return _Worker(process, parent)

    def give(self, worker: _Worker, case: Case | None) -> None:
        worker.case = case
        # Twice the case's own limit, plus start-up time for a new worker.
        worker.deadline = time.monotonic() + 2 * self._timeout + 30
        worker.conn.send(case)

    def replace(self, worker: _Worker) -> _Worker:
        worker.process.kill()
        worker.process.join()
        fresh = self._start()
        self.workers[self.workers.index(worker)] = fresh
        return fresh

    def close(self) -> None:
        for worker in self.workers:
            worker.process.kill()
            worker.process.join()


def _lost(case: Case, kind: str, where: str, detail: str) -> CaseResult:
    return CaseResult(case, ["(see --replay)"], "", Checked([Failure(kind, where, detail)]), 0.0)


def run_cases(
    cases: list[Case], workers: int, targets: tuple[str, ...], timeout: float, on_result: Callable[[CaseResult], None]
) -> None:
    """Run every case on `workers` processes; `on_result` gets each result, in completion order."""
    queue: Iterator[Case] = iter(cases)
    with tempfile.TemporaryDirectory(prefix="featuresql-fuzz-") as scratch:
        pool = _Pool(workers, targets, timeout, Path(scratch))
        try:
            for worker in list(pool.workers):
                pool.give(worker, next(queue, None))
            while any(w.case is not None for w in pool.workers):
                busy = [w for w in pool.workers if w.case is not None]
                wait([w.conn for w in busy], timeout=max(0.0, min(w.deadline for w in busy) - time.monotonic()))
                for worker in busy:
                    _collect(pool, worker, queue, timeout, on_result)
        finally:
            pool.close()


def _collect(pool: _Pool, worker: _Worker, queue: Iterator[Case], timeout: float, on_result: Callable[[CaseResult], None]) -> None:
    """Take a worker's result if it has one; replace it if it died or overran; give it the next case."""
    assert worker.case is not None
    case = worker.case
    try:
        if worker.conn.poll():
            on_result(worker.conn.recv())
        elif time.monotonic() > worker.deadline:
            on_result(_lost(case, "hang", f"no answer in {2 * timeout + 30:g} s (worker killed)", "stuck outside Python code?"))
            worker = pool.replace(worker)
        else:
            return
    except (EOFError, OSError):
        code = worker.process.exitcode
        on_result(_lost(case, "died", f"worker exit code {code}", "the worker process ended during the case"))
        worker = pool.replace(worker)
    pool.give(worker, next(queue, None))


# -- the summary ------------------------------------------------------------------------
@dataclass
class _Class:
    count: int = 0
    files: Counter[str] = field(default_factory=Counter)
    reproducer: CaseResult | None = None
    detail: str = ""


@dataclass
class Summary:
    """Counts of a run, failures grouped by (kind, where), the smallest reproducer of each."""

    cases: int = 0
    clean: int = 0
    compiled: int = 0
    failed: int = 0
    seconds: float = 0.0
    classes: dict[tuple[str, str], _Class] = field(default_factory=dict)
    notes: dict[tuple[str, str], _Class] = field(default_factory=dict)

    def add(self, result: CaseResult) -> None:
        self.cases += 1
        self.clean += result.checked.clean
        self.compiled += result.checked.compiled
        self.failed += bool(result.failures)
        _tally(self.classes, result, result.failures)
        _tally(self.notes, result, result.checked.notes)


def _tally(classes: dict[tuple[str, str], _Class], result: CaseResult, failures: list[Failure]) -> None:
    # A case counts once per class, however many diagnostics or targets show it.
    for failure in {(f.kind, f.where): f for f in failures}.values():
        group = classes.setdefault((failure.kind, failure.where), _Class())
        group.count += 1
        group.files[result.case.file] += 1
        if group.reproducer is None or _size(result) < _size(group.reproducer):
            group.reproducer, group.detail = result, failure.detail


def _size(result: CaseResult) -> tuple[int, int]:
    """Fewer operations and a shorter changed text make a better reproducer."""
    return len(result.operations), len(result.excerpt)


def _commit() -> str:
    try:
        head = subprocess.run(["git", "-C", str(REPO_ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True)
        dirty = subprocess.run(["git", "-C", str(REPO_ROOT), "status", "--porcelain", "featuresql"], capture_output=True, text=True)
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head.stdout.strip() + (" (featuresql/ modified)" if dirty.stdout.strip() else "")


def render(summary: Summary, args: argparse.Namespace, files: list[str], minimal: dict[tuple[str, str], str]) -> str:
    """The run's report: what ran, then each failure class with a reproducer, then the notes."""
    rate = summary.cases / summary.seconds if summary.seconds else 0.0
    last = args.first_seed + max(summary.cases - 1, 0)
    lines = [
        f"featuresql validator fuzz: {summary.cases:,} cases (seeds {args.first_seed}..{last} over {len(files)} files), "
        f"{args.workers} worker(s), {summary.seconds:.1f} s, {rate:.1f} cases/s",
        f"code: {_commit()}; targets: {', '.join(args.targets)}; time limit {args.timeout:g} s per case",
        f"validated clean: {summary.clean:,} cases; compiles done: {summary.compiled:,}",
        f"FAILED: {summary.failed:,} cases in {len(summary.classes)} classes" if summary.failed else "OK: no failures",
    ]
    order = {kind: i for i, kind in enumerate(KIND_ORDER)}
    ranked = sorted(summary.classes.items(), key=lambda item: (order.get(item[0][0], 99), -item[1].count, item[0]))
    for key, group in ranked:
        lines += ["", *_describe(key, group, minimal.get(key))]
    if summary.notes:
        lines += ["", "notes (not failures):"]
        for key, group in sorted(summary.notes.items(), key=lambda item: -item[1].count):
            lines += _describe(key, group, None)
    return "\n".join(lines) + "\n"


def _describe(key: tuple[str, str], group: _Class, minimal: str | None) -> list[str]:
    kind, where = key
    result = group.reproducer
    assert result is not None
    files = ", ".join(f"{name} {count}" for name, count in group.files.most_common())
    lines = [
        f"{kind:<13} {where}    {group.count:,} cases",
        f"    files: {files}",
        f"    e.g.: {group.detail[:300]}",
        f"    reproduce: {REPLAY.format(seed=result.case.seed, file=result.case.file)}",
        f"    operations: {'; '.join(result.operations)}",
    ]
    if result.excerpt:
        lines.append(f"    mutated text {result.excerpt}")
    if minimal is not None:
        lines.append(f"    minimized file: {minimal}")
    return lines


# -- shrinking a reproducer -------------------------------------------------------------
def minimize(text: str, fails: Callable[[str], bool], max_checks: int = 400) -> str:
    """A smaller text for which `fails` still holds: chunks of lines, then of characters, removed greedily."""
    checks = 0
    for split in (lambda t: t.splitlines(keepends=True), list):
        pieces: list[str] = split(text)
        parts = 2
        while len(pieces) >= 2 and checks < max_checks:
            size = -(-len(pieces) // parts)
            for start in range(0, len(pieces), size):
                candidate = pieces[:start] + pieces[start + size :]
                checks += 1
                if fails("".join(candidate)):
                    pieces, parts = candidate, max(parts - 1, 2)
                    break
                if checks >= max_checks:
                    break
            else:
                if size == 1:
                    break
                parts = min(len(pieces), parts * 2)
        text = "".join(pieces)
    return text


def minimize_case(scratch: ScratchProject, result: CaseResult, key: tuple[str, str], targets: tuple[str, ...], timeout: float) -> str:
    """The case's mutant shrunk while it still fails in class `key`, shown as a Python literal."""
    mutant, _ = scratch.mutant(result.case)
    text = mutant.decode("utf-8", "surrogateescape") if isinstance(mutant, bytes) else mutant
    path = scratch.root / result.case.file

    def fails(candidate: str) -> bool:
        path.write_bytes(candidate.encode("utf-8", "surrogateescape"))
        checked = check_case(scratch.root, result.case.file, targets, timeout)
        return any((f.kind, f.where) == key for f in checked.failures)

    try:
        shrunk = minimize(text, fails)
    finally:
        path.write_bytes(scratch.originals[result.case.file])
    shown = repr(shrunk)
    return shown if len(shown) <= 600 else shown[:300] + f"<...{len(shown) - 600} chars...>" + shown[-300:]


# -- commands ---------------------------------------------------------------------------
def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=10_000, help="cases to run (default 10,000)")
    parser.add_argument("--workers", type=int, default=2, help="worker processes (default 2)")
    parser.add_argument("--first-seed", type=int, default=0, help="seed of case 0 (default 0)")
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT, help="seconds per case (default %(default)s)")
    parser.add_argument("--targets", type=lambda s: tuple(s.split(",")), default=TARGETS, help="compile targets, comma-separated")
    parser.add_argument("--minimize", action="store_true", help="shrink each class's reproducer (a few hundred validates per class)")
    parser.add_argument("--out", type=Path, default=RESULTS_DIR, help="folder for the summary file (default fuzz-results/)")
    parser.add_argument("--replay", nargs=2, metavar=("SEED", "FILE"), help="run one case and show it")
    parser.add_argument("--write", type=Path, help="with --replay: also write the mutated project to this folder")
    return parser.parse_args(argv)


def replay(args: argparse.Namespace) -> int:
    """Run one case in this process; print it, its failures, and optionally shrink them."""
    case = Case(int(args.replay[0]), args.replay[1])
    with tempfile.TemporaryDirectory(prefix="featuresql-fuzz-") as scratch_dir:
        scratch = ScratchProject(Path(scratch_dir) / "project")
        if case.file not in scratch.files:
            print(f"unknown file {case.file}; files: {', '.join(scratch.files)}", file=sys.stderr)
            return 2
        result = scratch.run(case, args.targets, args.timeout)
        mutant, _ = scratch.mutant(case)
        print(result.report())
        print(f"mutated {case.file} in full:\n{mutant!r}")
        if args.write:
            written = ScratchProject(args.write)  # a copy of the example project, with the mutant in place
            (written.root / case.file).write_bytes(mutant if isinstance(mutant, bytes) else mutant.encode("utf-8"))
            print(f"written: {written.root} (featuresql validate --project {written.root})")
        if args.minimize:
            for key in dict.fromkeys((f.kind, f.where) for f in result.failures):
                print(f"minimized for {key[0]} {key[1]}: {minimize_case(scratch, result, key, args.targets, args.timeout)}")
    return 1 if result.failures else 0


def fuzz(args: argparse.Namespace) -> int:
    """Run the cases, print the summary and write it under --out; 1 if anything failed."""
    files = example_files()
    cases = [Case(args.first_seed + i, files[i % len(files)]) for i in range(args.cases)]
    summary = Summary()
    began = time.monotonic()
    last_progress = began

    def on_result(result: CaseResult) -> None:
        nonlocal last_progress
        summary.add(result)
        if time.monotonic() - last_progress > 15:
            last_progress = time.monotonic()
            elapsed = last_progress - began
            print(f"  {summary.cases:,}/{len(cases):,} cases, {summary.cases / elapsed:.1f}/s, "
                  f"{summary.failed:,} failed in {len(summary.classes)} classes", file=sys.stderr, flush=True)

    interrupted = False
    try:
        run_cases(cases, args.workers, args.targets, args.timeout, on_result)
    except KeyboardInterrupt:
        interrupted = True
    summary.seconds = time.monotonic() - began
    minimal: dict[tuple[str, str], str] = {}
    if args.minimize and not interrupted:
        with tempfile.TemporaryDirectory(prefix="featuresql-fuzz-") as scratch_dir:
            scratch = ScratchProject(Path(scratch_dir) / "project")
            for key, group in summary.classes.items():
                if key[0] not in ("hang", "died") and group.reproducer is not None:
                    minimal[key] = minimize_case(scratch, group.reproducer, key, args.targets, args.timeout)
    text = render(summary, args, files, minimal) + ("(interrupted: partial run)\n" if interrupted else "")
    print(text, end="")
    args.out.mkdir(parents=True, exist_ok=True)
    report = args.out / f"{datetime.now():%Y-%m-%d-%H%M%S}-{summary.cases}-cases.txt"
    report.write_text(text, encoding="utf-8")
    print(f"summary written to {report}")
    return 1 if summary.failed or interrupted else 0


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    return replay(args) if args.replay else fuzz(args)


if __name__ == "__main__":
    sys.exit(main())
