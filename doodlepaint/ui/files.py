"""File dialogs' filters, suffixes and starting folders."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings, QStandardPaths
from PySide6.QtWidgets import QWidget

IMAGE_FILTER = "Images (*.png *.jpg *.jpeg *.bmp *.tif *.tiff *.webp);;All files (*)"
PNG_FILTER = "PNG images (*.png)"
PROJECT_FILTER = "doodlepaint projects (*.doodlepaint)"


def with_suffix(path: str, suffix: str) -> str:
    return path if path.lower().endswith(suffix) else path + suffix


def documents_folder() -> str:
    """Where a painter keeps their work: their documents folder, else home (never the samples)."""
    folder = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)
    return folder if folder and Path(folder).is_dir() else str(Path.home())


REMEMBERED_FOLDERS = ("project_folder", "export_folder", "last_folder")   # settings keys, most telling first


def output_folder(settings: QSettings, key: str, project_path: Path | None) -> str:
    """Where a project or export dialog starts: the folder last used for that, else the project's own
    folder, else the folder last used for any file (an export, an opened painting), else the documents
    folder."""
    folders = [settings.value(key, ""), project_path and project_path.parent,
               *(settings.value(other, "") for other in REMEMBERED_FOLDERS)]
    return next((str(folder) for folder in folders if folder and Path(folder).is_dir()), documents_folder())


def after_dialog(result, parent: QWidget):
    """`result` of a dialog, once the keyboard is given back to the window: without a window manager nobody
    does when the dialog closes, and the window's shortcuts (M, Ctrl+Shift+E) do nothing until it is clicked."""
    parent.window().activateWindow()
    return result
