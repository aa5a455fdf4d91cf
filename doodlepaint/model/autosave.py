"""Crash recovery: the open document is saved now and then to a recovery file, removed on a clean exit.

A recovery file found at start means the last session did not end cleanly, so its work is offered back.
"""
from __future__ import annotations

from pathlib import Path

from doodlepaint.model.document import Document
from doodlepaint.model.project import SUFFIX, load_project, save_project


class Recovery:
    def __init__(self, folder: str | Path):
        self.path = Path(folder) / f"recovery{SUFFIX}"

    def save(self, document: Document) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        save_project(document, self.path)

    def pending(self) -> bool:
        return self.path.is_file()

    def load(self) -> Document:
        return load_project(self.path)

    def discard(self) -> None:
        self.path.unlink(missing_ok=True)
