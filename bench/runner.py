"""Run a command in its own process and measure it from outside.

Peak RSS comes from os.wait4 (the kernel's ru_maxrss of exactly that child).
A timeout and a memory cap (RSS polled from /proc) stop arms that cannot
finish; they are reported as such, never retried or hidden.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

_POLL_SECONDS = 0.05


@dataclass
class Run:
    """One process: `status` is ok, timeout, memory, or error (non-zero exit)."""

    status: str
    wall: float  # seconds, the whole process
    peak_rss_mb: float
    seconds: float | None = None  # the arm's own timed part, when it reports one
    rows: int | None = None
    detail: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def run(cmd: list[str], cwd: Path, timeout: float, memory_mb: float, env: dict[str, str] | None = None) -> Run:
    """Run `cmd`; if its last stdout line is JSON with `seconds`/`rows`, keep them."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        began = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=cwd, stdout=out, stderr=err, env=env)
        status, code, usage = "ok", 0, None
        while True:
            pid, wait_status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                code = os.waitstatus_to_exitcode(wait_status)
                break
            if time.perf_counter() - began > timeout:
                status = "timeout"
            elif _rss_mb(proc.pid) > memory_mb:
                status = "memory"
            if status != "ok":
                os.kill(proc.pid, signal.SIGKILL)
                _, wait_status, usage = os.wait4(proc.pid, 0)
                break
            time.sleep(_POLL_SECONDS)
        proc.returncode = code  # reaped above; stop Popen from waiting again
        wall = time.perf_counter() - began
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(errors="replace"), err.read().decode(errors="replace")
    result = Run(status, wall, usage.ru_maxrss / 1024 if usage else 0.0)
    if status == "timeout":
        result.detail = f"killed after {timeout:.0f} s"
    elif status == "memory":
        result.detail = f"killed above {memory_mb:.0f} MB RSS"
    elif code != 0:
        result.status = "error"
        result.detail = (stderr.strip().splitlines() or [f"exit {code}"])[-1][:300]
    else:
        lines = stdout.strip().splitlines()
        try:
            reported = json.loads(lines[-1]) if lines else {}
        except json.JSONDecodeError:
            reported = {}
        if isinstance(reported, dict):
            result.seconds = reported.get("seconds")
            result.rows = reported.get("rows")
        result.detail = lines[-1][:300] if lines and not reported else ""
    return result
