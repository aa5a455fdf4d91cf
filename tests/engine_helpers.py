"""Synthetic scenes for the engine tests (the stand-in networks are in doubles.py).

Not a conftest: import what you need explicitly (``from engine_helpers import ...``).
"""
from __future__ import annotations

import numpy as np

from doodlepaint.engine.params import TransferParams, TransferRequest

PALETTE_RB = np.array([[255, 0, 0], [0, 0, 255]], dtype=np.uint8)


def two_region_ids(height: int, width: int, split: str = "vertical", swap: bool = False) -> np.ndarray:
    """Label ids 0/1: label 0 on the left (or top) half, 1 on the other; swapped when asked."""
    ids = np.zeros((height, width), dtype=np.int64)
    if split == "vertical":
        ids[:, width // 2:] = 1
    else:
        ids[height // 2:, :] = 1
    return 1 - ids if swap else ids


def tiny_request(width: int = 48, height: int = 32, **params) -> TransferRequest:
    """A seeded random style, two labels; the doodle swaps the style's halves."""
    rng = np.random.default_rng(7)
    style = rng.integers(0, 256, size=(height, width, 3), dtype=np.uint8)
    style_ids = two_region_ids(height, width)
    target_ids = two_region_ids(height, width, swap=True)
    return TransferRequest(style=style, style_labels=style_ids, target_labels=target_ids, palette=PALETTE_RB,
                           params=TransferParams(**params))


def stripes_and_dots(size: int) -> tuple[np.ndarray, np.ndarray]:
    """A style of red horizontal stripes (left half, label 0) and blue dots (right half, label 1).

    Each texture lies on a dark ground of its own hue, so a region's mean colour tells which texture
    landed there even where the optimisation has not resolved every stripe and dot.
    """
    image = np.empty((size, size, 3), dtype=np.uint8)
    ys, xs = np.mgrid[0:size, 0:size]
    half = size // 2
    left, right = xs < half, xs >= half
    image[left] = (90, 25, 20)                           # dark red ground
    image[right] = (20, 30, 95)                          # dark blue ground
    image[left & (ys % 8 < 4)] = (235, 45, 35)           # red stripes, 8 px period
    dots = ((ys % 8) - 3.5) ** 2 + ((xs % 8) - 3.5) ** 2 <= 5.0
    image[right & dots] = (60, 90, 250)                  # blue dots on an 8 px grid
    return image, two_region_ids(size, size)
