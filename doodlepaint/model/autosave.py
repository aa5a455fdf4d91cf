"""Crash recovery: the open document is saved now and then to a recovery file, removed on a clean exit.

A recovery file found at start means the last session did not end cleanly, so its work is offered back.
It disappears only once the artist has it back or has said to discard it: one that cannot be read is
kept aside under a new name, so the next start does not trip over it and nothing is deleted.
"""
from __future__ import annotations

import time
from pathlib import Path

from doodlepaint.model.document import Document
from doodlepaint.model.project import SUFFIX, ProjectFile, read_project, save_project


class Recovery:
    def __init__(self, folder: str | Path):
        self.path = Path(folder) / f"recovery{SUFFIX}"

    def save(self, document: Document, origin: Path | None = None) -> None:
        """`origin`: the project file the document was opened from or saved to, restored with it."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        save_project(document, self.path, origin)

    def pending(self) -> bool:
        return self.path.is_file()

    def load(self) -> ProjectFile:
        """The recovered document and its project's path; raises ProjectError, leaving the file in place."""
        return read_project(self.path)

    def keep_aside(self) -> Path:
        """Move an unreadable recovery file out of the way under a name that says when; returns where."""
        stamp = time.strftime("%Y%m%d-%H%M%S")
        kept = self.path.with_name(f"recovery-unreadable-{stamp}{SUFFIX}")
        counter = 1
        while kept.exists():
            counter += 1
            kept = self.path.with_name(f"recovery-unreadable-{stamp}-{counter}{SUFFIX}")
        self.path.rename(kept)
        return kept

    def discard(self) -> None:
        self.path.unlink(missing_ok=True)
