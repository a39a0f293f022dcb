"""One timed run of one arm, in a process of its own: `python -m bench.child ARM ROOT [RESULT]`.

The parent (bench.runner) measures the process from outside (wall time, peak
RSS via wait4); the child measures only the arm's timed part, so interpreter
start-up and imports are not counted. The last line on stdout is JSON.
Stdlib and pyarrow only at import time: Feast's virtualenv runs this too.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any


def _peak_rss_mb() -> float | None:
    # VmHWM is this process image's own high-water mark. wait4's ru_maxrss is not:
    # Linux carries the parent's peak over fork/exec, so every arm would report at
    # least the harness's own size.
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def _rows(result: Any) -> int:
    return int(result.num_rows if hasattr(result, "num_rows") else len(result))


def _write(result: Any, path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = result if isinstance(result, pa.Table) else pa.Table.from_pandas(result, preserve_index=False)
    temp = path.with_name(f".{path.name}.tmp")
    pq.write_table(table, temp)
    temp.replace(path)


def _keep(written: Path, result_path: Path | None) -> None:
    """Files an arm wrote become its result (a folder named like the file results), or go."""
    import shutil

    if result_path is None:
        shutil.rmtree(written, ignore_errors=True)
        return
    if result_path.is_dir():
        shutil.rmtree(result_path)
    else:
        result_path.unlink(missing_ok=True)
    written.rename(result_path)


def main(argv: list[str]) -> None:
    from bench.arms import load

    name, root = argv[0], Path(argv[1])
    result_path = Path(argv[2]) if len(argv) > 2 else None
    run = load(name)(root)
    began = time.perf_counter()
    result = run()
    seconds = time.perf_counter() - began
    written = getattr(result, "path", None)  # a bench.arms.Written: the arm wrote Parquet files itself
    if written is not None:
        _keep(written, result_path)
    elif result_path is not None:  # after the clock stops: writing is not the arm's work
        # An arm whose timed run keeps no rows (a Flink job into a blackhole) makes them on request.
        _write(result.result() if hasattr(result, "result") else result, result_path)
    extra = getattr(result, "extra", {})  # arm-specific numbers for the report (e.g. Flink start-up)
    print(json.dumps({"seconds": seconds, "rows": _rows(result), "peak_rss_mb": _peak_rss_mb(), **extra}), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
