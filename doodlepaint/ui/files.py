"""File dialogs' filters and suffixes."""
from __future__ import annotations

IMAGE_FILTER = "Images (*.png *.jpg *.jpeg *.bmp *.tif *.tiff *.webp);;All files (*)"
PNG_FILTER = "PNG images (*.png)"
PROJECT_FILTER = "doodlepaint projects (*.doodlepaint)"


def with_suffix(path: str, suffix: str) -> str:
    return path if path.lower().endswith(suffix) else path + suffix
