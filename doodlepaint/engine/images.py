"""Reading and resizing images with errors a person can act on."""
from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from doodlepaint.engine.errors import ImageError

Image.MAX_IMAGE_PIXELS = 16384 * 16384


def open_image(path: str | Path, what: str = "image") -> Image.Image:
    path = Path(path)
    if not path.exists():
        raise ImageError(f"{what} not found: {path}")
    if path.is_dir():
        raise ImageError(f"{what} is a folder, not an image: {path}")
    try:
        image = Image.open(path)
        image.load()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError) as error:
        raise ImageError(f"cannot read {what} {path}: not a readable image ({error})") from error
    return image


def load_rgb(path: str | Path, what: str = "image") -> np.ndarray:
    """RGB uint8 (H, W, 3); transparent pixels are composited onto white."""
    return _rgb_array(open_image(path, what))


def decode_rgb(data: bytes, what: str = "image", max_pixels: int | None = None) -> np.ndarray:
    """`load_rgb` for an image's bytes (from the network): the size is checked before the pixels are decoded."""
    try:
        image = Image.open(io.BytesIO(data))
        if max_pixels is not None and image.width * image.height > max_pixels:
            raise ImageError(f"the {what} is {image.width}x{image.height} pixels: at most {max_pixels} pixels "
                             "are accepted")
        image.load()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError) as error:
        raise ImageError(f"cannot read the {what}: not a readable image ({error})") from error
    return _rgb_array(image)


def _rgb_array(image: Image.Image) -> np.ndarray:
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        image = image.convert("RGBA")
        background = Image.new("RGBA", image.size, (255, 255, 255, 255))
        image = Image.alpha_composite(background, image)
    return np.asarray(image.convert("RGB"), dtype=np.uint8).copy()


def resize_nearest(array: np.ndarray, width: int, height: int) -> np.ndarray:
    """Nearest-neighbour resize of a label-id or label-colour array (no new values)."""
    if array.shape[1] == width and array.shape[0] == height:
        return array
    rows = (np.arange(height) * array.shape[0] / height).astype(np.int64)
    cols = (np.arange(width) * array.shape[1] / width).astype(np.int64)
    return array[rows][:, cols]
