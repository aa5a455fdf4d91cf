"""Reading and resizing images with errors a person can act on.

Every image the app or the command line reads comes through `load_rgb`: its size is checked from the
file's header before any pixel is decoded (a small PNG can hold 20000x20000 pixels), and it comes back
as a person sees it: EXIF orientation applied, 16-bit greys scaled to 8 bits, transparency over white.
"""
from __future__ import annotations

import io
import os
import stat
import struct
import warnings
from pathlib import Path
from typing import BinaryIO

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from doodlepaint.engine.errors import DoodleError, ImageError

# The documented limits (README, Troubleshooting): a side of at most MAX_SIDE pixels and at most
# MAX_PIXELS in all, about 50 megapixels (a 48 MP phone photo fits). Decoded, such an image takes
# 150 MB as RGB and its label map a few hundred MB while it is snapped to labels.
MAX_SIDE = 16384
MAX_PIXELS = 50_000_000
# Pillow's own decompression-bomb check fires at Image.open, before the size check below could name the
# size: set it where only an image far beyond both limits (a side over MAX_SIDE) reaches it.
Image.MAX_IMAGE_PIXELS = MAX_SIDE * MAX_SIDE
SIXTEEN_BIT_MODES = ("I;16", "I;16L", "I;16B", "I;16N")
ORIENTATION_TAG = 0x0112
TRANSPOSED_ORIENTATIONS = (5, 6, 7, 8)     # EXIF orientations that swap width and height


def check_size(width: int, height: int, what: str, path) -> None:
    if width < 1 or height < 1:
        raise ImageError(f"cannot read {what} {path}: it has no pixels ({width}x{height})")
    if max(width, height) > MAX_SIDE or width * height > MAX_PIXELS:
        raise ImageError(f"{what} {path} is {width}x{height} pixels, beyond doodlepaint's limit of {MAX_SIDE} "
                         f"pixels on a side and {MAX_PIXELS // 1_000_000} megapixels: scale it down first")


def check_min_side(rgb: np.ndarray, what: str, minimum: int) -> None:
    if min(rgb.shape[:2]) < minimum:
        raise ImageError(f"{what} is only {rgb.shape[1]}x{rgb.shape[0]} pixels: it needs at least {minimum} "
                         "pixels on each side")


def open_regular_file(path: str | Path, what: str, error: type[DoodleError] = ImageError) -> BinaryIO:
    """`path` opened for reading if it is a regular file, else `error`: a FIFO, a device or a socket given
    as a file would block a plain open or read forever. Opened without blocking, then checked on the open
    file, so nothing can swap the file in between."""
    try:
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except FileNotFoundError:
        raise error(f"{what} not found: {path}") from None
    except IsADirectoryError:
        raise error(f"{what} is a folder, not a file: {path}") from None
    except OSError as failure:
        raise error(f"cannot read {what} {path}: {failure.strerror or failure}") from failure
    mode = os.fstat(descriptor).st_mode
    if not stat.S_ISREG(mode):
        os.close(descriptor)
        kind = "a folder" if stat.S_ISDIR(mode) else "a pipe, device or socket"
        raise error(f"{what} {path} is {kind}, not a file: refused")
    if hasattr(os, "set_blocking"):
        os.set_blocking(descriptor, True)
    return os.fdopen(descriptor, "rb")


def open_image(path: str | Path, what: str = "image") -> Image.Image:
    """The decoded image, upright; its size is checked before decoding."""
    path = Path(path)
    with open_regular_file(path, what) as file:
        return _decode(file, what, path)


def image_size(path: str | Path, what: str = "image") -> tuple[int, int]:
    """An image's (width, height) as a person sees it (EXIF rotation applied), from its header only."""
    path = Path(path)
    with open_regular_file(path, what) as file:
        image = _decode(file, what, path, header_only=True)
        with image:
            width, height = image.size
            try:
                transposed = image.getexif().get(ORIENTATION_TAG, 1) in TRANSPOSED_ORIENTATIONS
            except (OSError, ValueError, SyntaxError, EOFError, struct.error):
                transposed = False          # damaged EXIF: the pixels' own size (decoding will say what is wrong)
    return (height, width) if transposed else (width, height)


def _decode(source, what: str, where, max_pixels: int | None = None, header_only: bool = False) -> Image.Image:
    """The image upright and decoded, or with `header_only` opened and its size checked, nothing decoded."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)     # check_size says it better
            image = Image.open(source)
            check_size(*image.size, what, where)         # from the header: nothing decoded yet
            if max_pixels is not None and image.width * image.height > max_pixels:
                raise ImageError(f"{what} {where} is {image.width}x{image.height} pixels: at most {max_pixels} "
                                 "pixels are accepted here")
            if header_only:
                return image
            image.load()
            image = ImageOps.exif_transpose(image)       # phone photos store their rotation in EXIF
    except ImageError:
        raise
    except Image.DecompressionBombError as error:
        raise ImageError(f"{what} {where} is beyond doodlepaint's limit of {MAX_SIDE} pixels on a side and "
                         f"{MAX_PIXELS // 1_000_000} megapixels: scale it down first") from error
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError) as error:
        detail = str(error).replace(f" {source!r}", "")      # Pillow names the open file object; the path is said already
        raise ImageError(f"cannot read {what} {where}: not a readable image ({detail})") from error
    return image


def _to_eight_bits(image: Image.Image) -> Image.Image:
    """Greys of more than 8 bits scaled to 0..255 (Pillow's convert would clip everything above 255 to white)."""
    if image.mode in SIXTEEN_BIT_MODES or image.mode == "I":
        values = np.asarray(image, dtype=np.float64)
        # A 16-bit file opened as "I" still holds 0..65535; an 8-bit one widened to "I" holds 0..255.
        top = 65535.0 if image.mode != "I" or values.max(initial=0) > 255 else 255.0
        return Image.fromarray(np.round(np.clip(values, 0, top) * (255.0 / top)).astype(np.uint8), "L")
    if image.mode == "F":
        values = np.nan_to_num(np.asarray(image, dtype=np.float64), nan=0.0, posinf=0.0, neginf=0.0)
        top = 1.0 if values.max(initial=0) <= 1.0 else 255.0 if values.max() <= 255.0 else values.max()
        return Image.fromarray(np.round(np.clip(values, 0, top) * (255.0 / top)).astype(np.uint8), "L")
    return image


def load_rgb(path: str | Path, what: str = "image") -> np.ndarray:
    """RGB uint8 (H, W, 3); transparent pixels are composited onto white."""
    return _rgb_array(open_image(path, what))


def decode_rgb(data: bytes, what: str = "image", max_pixels: int | None = None) -> np.ndarray:
    """`load_rgb` for an image's bytes (from the network), with the same checks and corrections; a caller
    may set a lower pixel limit of its own, also checked before the pixels are decoded."""
    return _rgb_array(_decode(io.BytesIO(data), what, "(uploaded)", max_pixels))


def _rgb_array(image: Image.Image) -> np.ndarray:
    image = _to_eight_bits(image)
    if image.mode in ("RGBA", "LA", "PA", "RGBa", "La") or (image.mode == "P" and "transparency" in image.info):
        image = image.convert("RGBA")
        background = Image.new("RGBA", image.size, (255, 255, 255, 255))
        image = Image.alpha_composite(background, image)
    return np.asarray(image.convert("RGB"), dtype=np.uint8).copy()


def resize_nearest(array: np.ndarray, width: int, height: int) -> np.ndarray:
    """Nearest-neighbour resize of a label-id or label-colour array (no new values), each output pixel taking
    the input pixel under its centre, so that both sides shift alike."""
    if array.shape[1] == width and array.shape[0] == height:
        return array
    rows = np.minimum(((np.arange(height) + 0.5) * array.shape[0] / height).astype(np.int64), array.shape[0] - 1)
    cols = np.minimum(((np.arange(width) + 0.5) * array.shape[1] / width).astype(np.int64), array.shape[1] - 1)
    return array[rows][:, cols]
