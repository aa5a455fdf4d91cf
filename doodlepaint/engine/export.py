"""Writing PNGs atomically, with the render's parameters in their text chunks."""
from __future__ import annotations

import dataclasses
import io
import json
import os
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image, PngImagePlugin

from doodlepaint import __version__
from doodlepaint.engine.errors import DoodleError
from doodlepaint.engine.params import TransferParams

PARAMS_KEY = "doodlepaint"


def write_atomically(path: str | Path, data: bytes) -> None:
    """Write to a temporary file beside `path`, then rename: a crash never leaves half a file."""
    path = Path(path)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def encode_png(rgb: np.ndarray, metadata: dict | None = None) -> bytes:
    """PNG bytes with `metadata` as JSON in its text chunk."""
    info = PngImagePlugin.PngInfo()
    if metadata is not None:
        info.add_text(PARAMS_KEY, json.dumps(metadata, sort_keys=True))
    info.add_text("Software", f"doodlepaint {__version__}")
    encoded = io.BytesIO()
    Image.fromarray(rgb).save(encoded, format="PNG", pnginfo=info)
    return encoded.getvalue()


def render_metadata(params: TransferParams, **context) -> dict:
    """What a render's PNG carries so the picture can be made again: the version, parameters and `context`."""
    return {"doodlepaint": __version__, "params": dataclasses.asdict(params), **context}


def save_png(path: str | Path, rgb: np.ndarray, metadata: dict | None = None) -> None:
    """A PNG written atomically, with `metadata` as JSON in its text chunk."""
    encoded = encode_png(rgb, metadata)
    try:
        write_atomically(path, encoded)
    except OSError as error:
        raise DoodleError(f"cannot write {path}: {error.strerror or error}") from error


def save_render(path: str | Path, rgb: np.ndarray, params: TransferParams, **context) -> None:
    """A render as PNG with the version, its parameters and `context` (inputs, label names) in its text
    chunk, so the picture can be made again: one format for the command line and the app."""
    save_png(path, rgb, render_metadata(params, **context))


def read_png_metadata(path: str | Path) -> dict:
    with Image.open(path) as image:
        return json.loads(image.text[PARAMS_KEY])
