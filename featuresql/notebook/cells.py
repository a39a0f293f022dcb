"""Saving a definition written in a cell to the project's files."""

from __future__ import annotations

import os
from pathlib import Path

from featuresql.definitions import SamplesDef
from featuresql.diagnostics import FeaturesqlError
from featuresql.project import FEATURE_DIR, SAMPLES_DIR, Project


def save_definition(project: Project, name: str) -> Path:
    """Write a cell definition (`Project.define`) to its file, and use the file from then on.

    The file is the one that already defines the name, if any (so a cell that
    edits `user_engagement` rewrites `sql/features/user_engagement.sql`), else
    `sql/features/<name>.sql` or `sql/samples/<name>.sql`.

    Returns:
        The path written.
    """
    texts = {key.lower(): text for key, text in project.cells.items()}
    text = texts.get(name.lower())
    if text is None:
        known = ", ".join(sorted(project.cells)) or "none"
        raise FeaturesqlError(f"no cell defines {name} (cell definitions: {known})")
    key = name.lower()
    definition = project.features.get(key) or project.samples_defs.get(key)
    folder = SAMPLES_DIR if isinstance(definition, SamplesDef) else FEATURE_DIR
    # The project's files alone (a fresh object has no cells) say which file holds the name today;
    # a cell replaces a file of its own kind only (`Project.define`).
    on_disk = Project(project.root, project.variables)
    existing = on_disk.features.get(key) or on_disk.samples_defs.get(key)
    relative = existing.file if existing is not None else f"{folder}/{name}.sql"
    target = project.root / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    staged = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    staged.write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")
    staged.replace(target)  # atomic: a reader never sees half a file
    project.forget(name)
    project.reload()
    return target
