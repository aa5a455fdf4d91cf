"""Shared helpers for the engine tests: a tiny seeded stand-in encoder and synthetic scenes.

Not a conftest: import what you need explicitly (``from engine_helpers import ...``).
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from doodlepaint.engine.params import TransferParams, TransferRequest

PALETTE_RB = np.array([[255, 0, 0], [0, 0, 255]], dtype=np.uint8)


class TinyEncoder(nn.Module):
    """A seeded 1x1-conv "VGG": RGB 0..255 in, post-ReLU maps for any VGG layer name out.

    relu1_* keep the input resolution, deeper layers are average-pooled by 2, so renders of 16 px and
    up always have room for 3x3 patches. Each layer has its own fixed 1x1 convolution.
    """

    NAMES = tuple(f"relu{b}_{i}" for b, n in ((1, 2), (2, 2), (3, 4), (4, 4), (5, 4)) for i in range(1, n + 1))

    def __init__(self, channels: int = 8, seed: int = 1234):
        super().__init__()
        generator = torch.Generator().manual_seed(seed)
        self.convs = nn.ModuleDict()
        for name in self.NAMES:
            conv = nn.Conv2d(3, channels, 1)
            with torch.no_grad():
                conv.weight.copy_(torch.randn(conv.weight.shape, generator=generator))
                conv.bias.copy_(torch.randn(conv.bias.shape, generator=generator) * 0.1)
            self.convs[name] = conv
        self.requires_grad_(False)
        self.calls = 0

    def forward(self, rgb: torch.Tensor, layers) -> dict[str, torch.Tensor]:
        self.calls += 1
        x = rgb / 127.5 - 1.0
        out = {}
        for name in layers:
            y = F.relu(self.convs[name](x))
            if not name.startswith("relu1_"):
                y = F.avg_pool2d(y, 2)
            out[name] = y
        return out


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
