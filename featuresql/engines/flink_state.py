"""Where a stream keeps its state, and which snapshot a resumed stream starts from.

A stream's state folder (default `OUT/_state/<name>/`) holds:

* `checkpoints/<flink job id>/chk-<n>/` - periodic checkpoints, kept when the
  job is cancelled or killed (a hard kill resumes from the newest one);
* `savepoints/savepoint-.../` - written by a graceful stop (Ctrl-C, SIGTERM);
* `job.json` - what the state belongs to: the compiled job's fingerprint, and
  the Kafka transactional-id prefix, which must stay the same across restarts
  so that a restored sink can abort the transactions its killed predecessor
  left open (a new prefix would leave them open, and read_committed readers
  would stall behind them until the transaction timeout).

State is only valid for the job that wrote it: resuming after the definition
changed would map old operator state onto a different plan, so it is refused.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from pathlib import Path

from featuresql.diagnostics import FeaturesqlError

METADATA = "_metadata"  # the file Flink writes last: a snapshot without it is incomplete


@dataclass(frozen=True)
class Snapshot:
    """A completed checkpoint or savepoint a job can restore from."""

    path: Path
    kind: str  # checkpoint | savepoint
    written: float  # mtime of its metadata file

    def describe(self) -> str:
        return f"{self.kind} {self.path}"


@dataclass(frozen=True)
class StreamState:
    folder: Path

    @property
    def checkpoints(self) -> Path:
        return self.folder / "checkpoints"

    @property
    def savepoints(self) -> Path:
        return self.folder / "savepoints"

    @property
    def record(self) -> Path:
        return self.folder / "job.json"

    def snapshots(self) -> list[Snapshot]:
        """Every complete snapshot, oldest first."""
        found = [
            Snapshot(meta.parent, "checkpoint", meta.stat().st_mtime)
            for meta in self.checkpoints.glob(f"*/chk-*/{METADATA}")
        ]
        found += [
            Snapshot(meta.parent, "savepoint", meta.stat().st_mtime)
            for meta in self.savepoints.glob(f"*/{METADATA}")
        ]
        return sorted(found, key=lambda s: s.written)

    def latest(self) -> Snapshot | None:
        snapshots = self.snapshots()
        return snapshots[-1] if snapshots else None

    def open(self, name: str, fingerprint: str, resume: bool) -> tuple[str, Snapshot | None]:
        """Check the folder against this run; returns (transactional prefix, snapshot to restore).

        A fresh run refuses a folder with a completed snapshot (the output
        committed with it would be written a second time); a resumed run needs
        one, of the same job. A folder without a snapshot (a run that never
        checkpointed) committed nothing and starts fresh, keeping its prefix.
        """
        recorded = json.loads(self.record.read_text()) if self.record.exists() else {}
        latest = self.latest()
        if not resume:
            if latest is not None:
                raise FeaturesqlError(
                    f"{self.folder} holds the state of an earlier stream of {name}: pass --resume to "
                    f"continue it, or remove the folder (and the output) to start over"
                )
            return str(recorded.get("kafka_prefix") or f"featuresql-{name}-{uuid.uuid4().hex[:8]}"), None
        if latest is None or "fingerprint" not in recorded:
            raise FeaturesqlError(f"--resume: {self.folder} has no completed checkpoint or savepoint of {name}")
        if recorded["fingerprint"] != fingerprint:
            raise FeaturesqlError(
                f"--resume: {name} is not the job whose state is in {self.folder} (its definition, a catalog "
                f"or --start changed); that state cannot be reused: remove the folder (and the output) and start over"
            )
        return str(recorded["kafka_prefix"]), latest

    def remember(self, name: str, fingerprint: str, prefix: str) -> None:
        """Record what the state belongs to, once the job is running."""
        self.folder.mkdir(parents=True, exist_ok=True)
        record = {"name": name, "fingerprint": fingerprint, "kafka_prefix": prefix}
        self.record.write_text(json.dumps(record, indent=2) + "\n")


def fingerprint(job_text: str) -> str:
    """Identifies the compiled job; the same definition and catalogs give the same text."""
    return hashlib.sha256(job_text.encode()).hexdigest()[:16]
