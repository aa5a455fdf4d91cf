"""Writing PNGs atomically, with the render's parameters in their text chunks."""
from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image, PngImagePlugin

from doodlepaint import __version__
from doodlepaint.engine.errors import DoodleError

PARAMS_KEY = "doodlepaint"


def save_png(path: str | Path, rgb: np.ndarray, metadata: dict | None = None) -> None:
    """Write to a temporary file beside `path`, then rename: a crash never leaves half a PNG."""
    path = Path(path)
    info = PngImagePlugin.PngInfo()
    if metadata is not None:
        info.add_text(PARAMS_KEY, json.dumps(metadata, sort_keys=True))
    info.add_text("Software", f"doodlepaint {__version__}")
    try:
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        with os.fdopen(handle, "wb") as file:
            Image.fromarray(rgb).save(file, format="PNG", pnginfo=info)
        os.replace(temporary, path)
    except OSError as error:
        raise DoodleError(f"cannot write {path}: {error.strerror or error}") from error


def read_png_metadata(path: str | Path) -> dict:
    with Image.open(path) as image:
        return json.loads(image.text[PARAMS_KEY])
