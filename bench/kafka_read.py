"""Kafka read rate of `featuresql stream`, for two versions of featuresql side by side.

    python -m bench.kafka_read --bootstrap 127.0.0.1:19092 --events 2500000 TREE_A TREE_B [TREE_A TREE_B ...]

Generates the example data once (`--events`: impressions and engagements; the
engagements, about 7.6% of them, are what is read), replays the engagements into
a fresh topic of the given broker (`scripts/kafka start --port 19092`), then runs
`featuresql stream user_engagement` from each source tree in turn (the trees are
git worktrees: each run imports featuresql from its tree) for `--seconds`, and
prints the rate at which it consumed records while catching up: the growth of
its status line's event count between the first line above zero and the last
line that grew. Run the trees in alternation (A B A B) on a quiet machine and
read the ratio, not the seconds.

Not part of `python -m bench`: it compares versions of the product (how a
change to the stream source moved the read rate), not featuresql with a
baseline of another kind.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from featuresql.datagen import generate

REPO = Path(__file__).resolve().parent.parent


def _project(folder: Path, events: int, bootstrap: str, topic: str) -> Path:
    for part in ("catalogs", "sql"):
        shutil.copytree(REPO / part, folder / part)
    generate(folder / "data", events=events, days=7)
    for catalog in (folder / "catalogs").glob("*.sql"):
        text = catalog.read_text().replace("'localhost:9092'", f"'{bootstrap}'")
        catalog.write_text(text.replace("'stream.topic' = 'engagements'", f"'stream.topic' = '{topic}'"))
    replay = subprocess.run([sys.executable, "-m", "featuresql.cli", "replay", "engagements", "--project", str(folder)],
                            capture_output=True, text=True, check=True)
    print(replay.stdout.strip())
    return folder


def rate(stderr: str) -> tuple[float, float, int]:
    """(records/s while catching up, seconds until the last growth, records consumed) from the status lines."""
    points = [(float(m.group(1)), int(m.group(2).replace(",", "")))
              for m in re.finditer(r"([0-9]+) s\s+events\s+([0-9,]+)", stderr)]
    growing = [p for i, p in enumerate(points) if p[1] > 0 and (i == 0 or p[1] > points[i - 1][1])]
    if len(growing) < 2:
        return 0.0, 0.0, growing[-1][1] if growing else 0
    (t0, n0), (t1, n1) = growing[0], growing[-1]
    return (n1 - n0) / (t1 - t0), t1, n1


def run(tree: Path, project: Path, seconds: float, out: Path) -> tuple[float, float, int]:
    env = {**os.environ, "PYTHONPATH": str(tree), "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "featuresql.cli", "stream", "user_engagement", "--out", str(out),
         "--checkpoint-interval", "10 s", "--project", str(project)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=tree)
    time.sleep(seconds)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=300)
    return rate(stderr)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("trees", nargs="+", type=Path, help="source trees, run in the order given")
    parser.add_argument("--bootstrap", default="127.0.0.1:19092")
    parser.add_argument("--events", type=int, default=2_500_000)
    parser.add_argument("--seconds", type=float, default=170.0, help="how long each run lasts")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="kafka-read-") as work:
        project = _project(Path(work) / "project", args.events, args.bootstrap, f"read_{uuid.uuid4().hex[:8]}")
        for i, tree in enumerate(args.trees):
            per_second, caught_up, consumed = run(tree.resolve(), project, args.seconds, Path(work) / f"out{i}")
            print(f"{tree}: {per_second:,.0f} records/s while catching up; {consumed:,} consumed, "
                  f"the last after {caught_up:.0f} s")


if __name__ == "__main__":
    main()
