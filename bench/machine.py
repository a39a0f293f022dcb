"""Where a benchmark ran: cores, memory, versions, the commit. Shared machines are
noisy, which is why results are read as ratios of arms run side by side."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import Any


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def _memory_gb() -> float:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return round(int(line.split()[1]) / 1024 / 1024, 1)
    return 0.0


def _cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor()


def _git(repo: Path, *args: str) -> str:
    found = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True)
    return found.stdout.strip()


def describe(repo: Path, feast_python: Path | None) -> dict[str, Any]:
    feast = "not installed"
    if feast_python is not None and feast_python.exists():
        feast = subprocess.run(
            [str(feast_python), "-c", "import feast; print(feast.__version__)"], capture_output=True, text=True
        ).stdout.strip() or "broken install"
    return {
        "cores": os.cpu_count(),
        "cpu": _cpu_model(),
        "memory_gb": _memory_gb(),
        "load_avg_1m": round(os.getloadavg()[0], 2),
        "os": platform.platform(),
        "python": sys.version.split()[0],
        "duckdb": _version("duckdb"),
        "pyarrow": _version("pyarrow"),
        "pandas": _version("pandas"),
        "featuresql": _version("featuresql"),
        "feast": feast,
        "git_commit": _git(repo, "rev-parse", "--short", "HEAD"),
        "git_dirty": bool(_git(repo, "status", "--porcelain", "--untracked-files=no")),
    }
