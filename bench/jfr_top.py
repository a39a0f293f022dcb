"""Summarise a JFR recording of a Flink arm: `python -m bench.jfr_top FILE.jfr [N]`.

Counts jdk.ExecutionSample events (stack samples of running Java threads) by
thread, by top frame, and inclusively by method (a frame anywhere on the
stack), and reads jdk.CPULoad (this JVM's share of the machine vs the
machine's total): enough to say which operator and which method limit a job,
and whether the JVM got the CPU at all. Uses the JDK's `jfr` tool.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path


def _events(path: Path, name: str) -> list[dict]:
    text = subprocess.run(["jfr", "print", "--json", "--events", name, str(path)], capture_output=True, text=True,
                          check=True).stdout
    return json.loads(text)["recording"]["events"]


def _method(frame: dict) -> str:
    method = frame["method"]
    return f"{method['type']['name'].rsplit('.', 1)[-1]}.{method['name']}"


def summarise(path: Path, top: int = 15) -> str:
    samples = _events(path, "jdk.ExecutionSample")
    threads: Counter[str] = Counter()
    leaves: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    for event in samples:
        values = event["values"]
        thread = (values.get("sampledThread") or {}).get("javaName") or "?"
        threads[thread.split(" (")[0][:90]] += 1
        frames = (values.get("stackTrace") or {}).get("frames") or []
        if frames:
            leaves[_method(frames[0])] += 1
        for method in {_method(f) for f in frames}:
            inclusive[method] += 1
    total = max(len(samples), 1)
    lines = [f"{path.name}: {len(samples):,} execution samples"]
    loads = [e["values"] for e in _events(path, "jdk.CPULoad")]
    if loads:
        jvm = sum(v["jvmUser"] + v["jvmSystem"] for v in loads) / len(loads)
        machine = sum(v["machineTotal"] for v in loads) / len(loads)
        lines.append(f"CPU (jdk.CPULoad, mean of {len(loads)}): this JVM {jvm:.0%} of the machine, machine total {machine:.0%}")
    for title, counter in (("by thread", threads), ("top frame", leaves), ("on the stack (inclusive)", inclusive)):
        lines.append(f"\n{title}:")
        lines += [f"  {n / total:6.1%}  {name}" for name, n in counter.most_common(top)]
    return "\n".join(lines)


if __name__ == "__main__":
    print(summarise(Path(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else 15))
