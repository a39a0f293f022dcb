"""Run a command in its own process and measure it from outside.

Peak RSS is the child's own VmHWM: reported by the child itself when it is a
bench.child (read just before it exits), else the highest value polled from
/proc while it ran. Not wait4's ru_maxrss: Linux carries the parent's peak
into a child across fork and exec, so every arm would show at least the
harness's size. A timeout and a memory cap (RSS polled from /proc) stop arms that cannot
finish; they are reported as such, never retried or hidden.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import tempfile
import time
from dataclasses import asdict, dataclass, field
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
    extra: dict[str, Any] = field(default_factory=dict)  # what else the arm reported (e.g. Flink start-up)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _status_mb(pid: int) -> dict[str, float]:
    """VmRSS and VmHWM of a live process, in MB ({} once it has gone)."""
    found = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(("VmRSS:", "VmHWM:")):
                found[line.split(":")[0]] = int(line.split()[1]) / 1024
    except OSError:
        pass
    return found


def _error_line(stderr: str) -> str:
    """The exception line of a traceback (a message may go on for lines of hints after it), else the last line."""
    lines = [line.strip() for line in stderr.strip().splitlines() if line.strip()]
    raised = [line for line in lines if re.match(r"^[\w.]+(Error|Exception)\b.*:", line)]
    return (raised or lines or [""])[-1][:300]


def run(cmd: list[str], cwd: Path, timeout: float, memory_mb: float, env: dict[str, str] | None = None) -> Run:
    """Run `cmd`; if its last stdout line is JSON with `seconds`/`rows`, keep them."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        began = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=cwd, stdout=out, stderr=err, env=env)
        status, code, polled_peak = "ok", 0, 0.0
        while True:
            pid, wait_status, _ = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                code = os.waitstatus_to_exitcode(wait_status)
                break
            memory = _status_mb(proc.pid)
            polled_peak = max(polled_peak, memory.get("VmHWM", 0.0))
            if time.perf_counter() - began > timeout:
                status = "timeout"
            elif memory.get("VmRSS", 0.0) > memory_mb:
                status = "memory"
            if status != "ok":
                os.kill(proc.pid, signal.SIGKILL)
                os.wait4(proc.pid, 0)
                break
            time.sleep(_POLL_SECONDS)
        proc.returncode = code  # reaped above; stop Popen from waiting again
        wall = time.perf_counter() - began
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(errors="replace"), err.read().decode(errors="replace")
    result = Run(status, wall, polled_peak)
    if status == "timeout":
        result.detail = f"killed after {timeout:.0f} s"
    elif status == "memory":
        result.detail = f"killed above {memory_mb:.0f} MB RSS"
    elif code != 0:
        result.status = "error"
        result.detail = _error_line(stderr) or f"exit {code}"
    else:
        lines = stdout.strip().splitlines()
        try:
            reported = json.loads(lines[-1]) if lines else {}
        except json.JSONDecodeError:
            reported = {}
        if isinstance(reported, dict):
            result.seconds = reported.get("seconds")
            result.rows = reported.get("rows")
            result.peak_rss_mb = max(polled_peak, reported.get("peak_rss_mb") or 0.0)
            result.extra = {k: v for k, v in reported.items() if k not in ("seconds", "rows", "peak_rss_mb")}
        result.detail = lines[-1][:300] if lines and not reported else ""
    return result
