"""Saving a definition written in a cell to the project's files."""

from __future__ import annotations

import os
from pathlib import Path

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
    is_samples = name.lower() in {n.lower() for n in project.samples_names}
    # The project's files alone (a fresh object has no cells) say which file holds the name today.
    on_disk = Project(project.root, project.variables)
    existing = (on_disk.samples_defs if is_samples else on_disk.features).get(name.lower())
    relative = existing.file if existing is not None else f"{SAMPLES_DIR if is_samples else FEATURE_DIR}/{name}.sql"
    target = project.root / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    staged = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    staged.write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")
    staged.replace(target)  # atomic: a reader never sees half a file
    project.forget(name)
    project.reload()
    return target
