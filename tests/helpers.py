"""Shared helpers for the featuresql tests: tiny projects written from dicts."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent

#: A small catalog most diagnostic tests build on.
EVENTS_CATALOG = """\
CREATE TABLE events (
  user_id    VARCHAR,
  item_id    VARCHAR,
  action     VARCHAR,
  amount     BIGINT,
  clicked    BOOLEAN,
  event_time TIMESTAMP(3),
  WATERMARK FOR event_time AS event_time - INTERVAL '5' SECOND
) WITH ('path' = 'data/events/*.parquet', 'format' = 'parquet', 'label_columns' = 'clicked');
"""

SPINE_CATALOG = """\
CREATE TABLE spine (
  user_id    VARCHAR,
  item_id    VARCHAR,
  event_time TIMESTAMP(3),
  WATERMARK FOR event_time AS event_time
) WITH ('path' = 'data/spine/*.parquet');
"""

GOOD_FEATURE = """\
FEATURE user_stats (
  entity user_id,
  windows (1h, lifetime)
);

SELECT
  user_id,
  COUNT(*) AS events,
  SUM(amount) AS total
FROM events
GROUP BY user_id;
"""


def _dedent(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


def write_project(
    root: Path,
    catalogs: dict[str, str] | None = None,
    features: dict[str, str] | None = None,
    samples: dict[str, str] | None = None,
    macros: dict[str, str] | None = None,
    *,
    dedent: bool = True,
) -> Path:
    """Write `catalogs/<k>.sql`, `sql/features/<k>.sql`, `sql/samples/<k>.sql`, `sql/macros/<k>.sql`.

    Keys are file stems (``"events"`` -> ``catalogs/events.sql``). Texts are dedented
    and stripped of a leading newline unless ``dedent=False``, so line numbers in
    tests count from the first non-empty line of the literal.
    """
    root = Path(root)
    for folder, files in (
        ("catalogs", catalogs),
        ("sql/features", features),
        ("sql/samples", samples),
        ("sql/macros", macros),
    ):
        (root / folder).mkdir(parents=True, exist_ok=True)
        for stem, text in (files or {}).items():
            body = _dedent(text) if dedent else text
            (root / folder / f"{stem}.sql").write_text(body, encoding="utf-8")
    return root


def locate(text: str, needle: str, occurrence: int = 1) -> tuple[int, int]:
    """The 1-based (line, col) of the `occurrence`-th `needle` in the dedented `text`."""
    body = _dedent(text)
    index = -1
    for _ in range(occurrence):
        index = body.find(needle, index + 1)
        if index < 0:
            raise AssertionError(f"{needle!r} not found in {body!r}")
    line = body.count("\n", 0, index) + 1
    col = index - (body.rfind("\n", 0, index) + 1) + 1
    return line, col


def copy_example_project(dest: Path, with_data: bool = False) -> Path:
    """Copy the repo's example project (catalogs, sql) into `dest`; data only if asked."""
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    for folder in ("catalogs", "sql"):
        shutil.copytree(REPO_ROOT / folder, dest / folder)
    if with_data and (REPO_ROOT / "data").is_dir():
        shutil.copytree(REPO_ROOT / "data", dest / "data")
    return dest

