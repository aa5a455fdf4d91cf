"""File dialogs' filters, and exported renders with their parameters."""
from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from doodlepaint import __version__
from doodlepaint.engine import TransferParams
from doodlepaint.engine.export import save_png

IMAGE_FILTER = "Images (*.png *.jpg *.jpeg *.bmp *.tif *.tiff *.webp);;All files (*)"
PNG_FILTER = "PNG images (*.png)"
PROJECT_FILTER = "doodlepaint projects (*.doodlepaint)"


def export_render(rgb: np.ndarray, params: TransferParams, labels: list[str], path: str | Path) -> None:
    """The finished render as PNG, with the same text chunk as the command line's, so the picture can be
    made again."""
    save_png(path, rgb, {"doodlepaint": __version__, "params": dataclasses.asdict(params), "labels": labels})


def with_suffix(path: str, suffix: str) -> str:
    return path if path.lower().endswith(suffix) else path + suffix
