"""Writing PNGs from the app: label maps in their label colours and exported renders with their parameters."""
from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np

from doodlepaint import __version__
from doodlepaint.engine import TransferParams
from doodlepaint.ui.qimages import qimage_from_rgb

IMAGE_FILTER = "Images (*.png *.jpg *.jpeg *.bmp *.tif *.tiff *.webp);;All files (*)"
PNG_FILTER = "PNG images (*.png)"
PROJECT_FILTER = "doodlepaint projects (*.doodlepaint)"
PARAMS_KEY = "doodlepaint:parameters"


def save_png(rgb: np.ndarray, path: str | Path, text: dict[str, str] | None = None) -> None:
    image = qimage_from_rgb(rgb)
    for key, value in (text or {}).items():
        image.setText(key, value)
    if not image.save(str(path), "PNG"):
        raise OSError(f"cannot write {path}: check the folder exists and is writable")


def export_render(rgb: np.ndarray, params: TransferParams, path: str | Path) -> None:
    """The finished render as PNG, its parameters in text chunks so the picture can be made again."""
    save_png(rgb, path, {"Software": f"doodlepaint {__version__}",
                         PARAMS_KEY: json.dumps(dataclasses.asdict(params), sort_keys=True)})


def with_suffix(path: str, suffix: str) -> str:
    return path if path.lower().endswith(suffix) else path + suffix
