"""Gram-matrix style (Gatys 2015), one Gram per label over that label's pixels (fast-neural-doodle)."""
from __future__ import annotations

import torch

GRAM_LAYERS = ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1")
EPS = 1e-8


def masked_grams(features: torch.Tensor, masks: torch.Tensor) -> torch.Tensor:
    """features (1, C, H, W), masks (1, K, H, W) in [0, 1] -> (K, C, C), each normalised by its mask's area."""
    f = features[0].flatten(1)                       # (C, HW)
    m = masks[0].flatten(1).to(f.dtype)              # (K, HW)
    # One label at a time: a (K, C, HW) product would be K times the layer's memory.
    grams = [(f * mask) @ f.t() / mask.sum().clamp_min(EPS) for mask in m]
    return torch.stack(grams)


class GramStyle:
    """Target Grams of one layer; the loss is the relative squared error per label present in the doodle."""

    def __init__(self, features: torch.Tensor, masks: torch.Tensor, labels_used: torch.Tensor):
        self.labels_used = labels_used
        self.grams = masked_grams(features, masks)[labels_used]
        self.scale = self.grams.flatten(1).pow(2).sum(1).clamp_min(EPS)

    def loss(self, features: torch.Tensor, masks: torch.Tensor) -> torch.Tensor:
        grams = masked_grams(features, masks[:, self.labels_used])
        return ((grams - self.grams).flatten(1).pow(2).sum(1) / self.scale).mean()
