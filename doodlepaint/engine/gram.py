"""Gram-matrix style (Gatys 2015), one Gram per label over that label's pixels (fast-neural-doodle)."""
from __future__ import annotations

import torch

GRAM_LAYERS = ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1")
EPS = 1e-8


def _label_pixels(masks: torch.Tensor) -> list[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
    """Per label of masks (1, K, H, W): the flat indices of the pixels it covers, the square roots of
    its weights there, and its area."""
    selections = []
    for mask in masks[0].flatten(1):
        where = mask.nonzero().squeeze(1)
        selections.append((where, mask[where].sqrt(), mask.sum().clamp_min(EPS)))
    return selections


def _grams(features: torch.Tensor, selections) -> torch.Tensor:
    f = features[0].flatten(1)                       # (C, HW)
    grams = []
    for where, root, area in selections:
        part = f[:, where] * root                    # only the label's pixels, weighted by sqrt(mask)
        grams.append(part @ part.t() / area)
    return torch.stack(grams)


def masked_grams(features: torch.Tensor, masks: torch.Tensor) -> torch.Tensor:
    """features (1, C, H, W), masks (1, K, H, W) in [0, 1] -> (K, C, C), each normalised by its mask's area.

    Each label's product runs over the pixels it covers only, so K labels cost about one image's worth
    of multiplications instead of K (the Gram method's losses were a good share of each step: BENCHMARKS.md,
    Figures behind constants)."""
    return _grams(features, _label_pixels(masks.to(features.dtype)))


class GramStyle:
    """Target Grams of one layer; the loss is the relative squared error per label present in the doodle."""

    def __init__(self, features: torch.Tensor, masks: torch.Tensor, labels_used: torch.Tensor):
        self.labels_used = labels_used
        self.grams = masked_grams(features, masks)[labels_used]
        self.scale = self.grams.flatten(1).pow(2).sum(1).clamp_min(EPS)
        self._masks: torch.Tensor | None = None
        self._pixels: list = []

    def loss(self, features: torch.Tensor, masks: torch.Tensor) -> torch.Tensor:
        if self._masks is not masks:    # a phase's masks are fixed: find their pixels once, not every step
            self._masks = masks
            self._pixels = _label_pixels(masks[:, self.labels_used].to(features.dtype))
        grams = _grams(features, self._pixels)
        return ((grams - self.grams).flatten(1).pow(2).sum(1) / self.scale).mean()
