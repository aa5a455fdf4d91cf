"""Stand-ins for the networks, shared by every test that renders without the real weights: fast, seeded,
no weights to load."""
from __future__ import annotations

import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class TinyEncoder(nn.Module):
    """A seeded 1x1-conv "VGG": RGB 0..255 in, post-ReLU maps for any VGG layer name out.

    relu1_* keep the input resolution, deeper layers are average-pooled by 2, so renders of 16 px and
    up always have room for 3x3 patches. Each layer has its own fixed 1x1 convolution, so the layers
    disagree as VGG's do and the style terms have something to match. `delay` slows each pass, for tests
    that cancel or replace a running render; `calls` counts the passes.
    """

    NAMES = tuple(f"relu{b}_{i}" for b, n in ((1, 2), (2, 2), (3, 4), (4, 4), (5, 4)) for i in range(1, n + 1))

    def __init__(self, channels: int = 8, seed: int = 1234, delay: float = 0.0):
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
        self.delay = delay
        self.calls = 0

    def forward(self, rgb: torch.Tensor, layers) -> dict[str, torch.Tensor]:
        self.calls += 1
        time.sleep(self.delay)
        x = rgb / 127.5 - 1.0
        out = {}
        for name in layers:
            y = F.relu(self.convs[name](x))
            if not name.startswith("relu1_"):
                y = F.avg_pool2d(y, 2)
            out[name] = y
        return out


class TinyDecoder:
    """A stand-in instant decoder for TinyEncoder: its relu3_1 (half size) upsampled back to pixels."""

    layer = "relu3_1"

    def __call__(self, features):
        return F.interpolate(features[:, :3] * 60 + 100, scale_factor=2)
