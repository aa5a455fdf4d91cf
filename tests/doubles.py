"""Stand-ins for the networks in app, server and CLI tests: fast, seeded, no weights. (The engine's own tests
use engine_helpers.TinyEncoder, a per-layer seeded 1x1-conv VGG.)"""
from __future__ import annotations


class TinyEncoder:
    """A stand-in VGG for fast renders: one fixed 1x1 convolution shared by every layer, pooled like VGG's
    blocks; `delay` slows each pass, for tests that cancel or replace a running render."""

    def __init__(self, channels: int = 4, delay: float = 0.0):
        import torch
        generator = torch.Generator().manual_seed(0)
        self.weight = torch.randn(channels, 3, 1, 1, generator=generator)
        self.delay = delay

    def __call__(self, rgb, layers):
        import time

        import torch.nn.functional as F
        time.sleep(self.delay)
        x = F.relu(F.conv2d(rgb / 127.5 - 1.0, self.weight))
        return {name: F.avg_pool2d(x, 2 ** (int(name[4]) - 1)) if name[4] != "1" else x for name in layers}


class TinyDecoder:
    """A stand-in instant decoder for TinyEncoder: its relu3_1 (quarter size) upsampled back to pixels."""

    layer = "relu3_1"

    def __call__(self, features):
        import torch.nn.functional as F
        return F.interpolate(features[:, :3] * 60 + 100, scale_factor=4)
