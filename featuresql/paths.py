"""Where a project file really is: links out of the project are not followed."""

from __future__ import annotations

from pathlib import Path


def inside(path: Path, folder: Path) -> bool:
    """True if `path`, with every link resolved, lies within `folder`.

    A pull request can commit a symlink (`sql/features/x.sql -> ~/.ssh/id_rsa`);
    reading project files only where this holds keeps `validate` from reading the
    machine through one.
    """
    try:
        return path.resolve().is_relative_to(folder.resolve())
    except (OSError, RuntimeError):  # a link loop, or a path that cannot be resolved
        return False


#: Project files larger than this are not read: a `.sql` definition is kilobytes,
#: and reading a hostile multi-gigabyte file would exhaust the CI runner.
MAX_FILE_BYTES = 10_000_000


class ProjectFolder:
    """Reads files of one project, refusing those that resolve outside it.

    Resolving every file's path was a tenth of `validate` on 1,000 files, so a
    plain file is placed by its folder's resolved path (one resolve per folder);
    only a link is resolved itself.
    """

    def __init__(self, root: Path):
        self.root = root.resolve()
        self._folders: dict[Path, Path | None] = {}

    def contains(self, path: Path) -> bool:
        try:
            if path.is_symlink():
                return path.resolve().is_relative_to(self.root)
            if path.parent not in self._folders:
                folder = path.parent.resolve()
                self._folders[path.parent] = folder if folder.is_relative_to(self.root) else None
            return self._folders[path.parent] is not None
        except (OSError, RuntimeError):
            return False

    def read(self, path: Path) -> tuple[str | None, str]:
        """A project file's text, or (None, why it was not read)."""
        if not self.contains(path):
            return None, "file not read: it is a link to a place outside the project"
        try:
            size = path.stat().st_size
            if size > MAX_FILE_BYTES:
                return None, f"file not read: {size:,} bytes, more than the {MAX_FILE_BYTES:,} a project file may have"
            # utf-8-sig: a byte-order mark (what some Windows editors write) is not part of the SQL.
            # Text mode: `\r\n` and a bare `\r` end lines, as in editors, and positions count them so.
            return path.read_text(encoding="utf-8-sig"), ""
        except UnicodeDecodeError as err:
            return None, f"file not read: not UTF-8 text (byte {err.start})"
        except OSError as err:
            return None, f"file not read: {err.strerror or err}"
