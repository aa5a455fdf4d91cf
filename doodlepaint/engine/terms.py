"""The optimisation methods' style loss terms, and the methods made of them.

A term builds its side of the painting once (cached per painting and phase size) and evaluates the output's
features against it. A new optimisation method is a tuple of terms: `Optimisation(name, (Term, ...))` and a
registry entry in engine/methods.py.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from doodlepaint.engine.gram import GRAM_LAYERS, GramStyle
from doodlepaint.engine.optimise import Optimisation, StyleTerm
from doodlepaint.engine.patch import PatchStyle
from doodlepaint.engine.tensors import pool_to

PATCH_LAYERS = ("relu3_1", "relu4_1")
# Patches at relu3_1/relu4_1 leave colour loose: a region whose features match its label's patches can
# still drift towards a neighbour's colours (sky painted where the painting has none turned grey-green).
# Each label's colour statistics, a masked Gram at relu1_1, pin it (the fidelity that won: BENCHMARKS.md,
# Figures behind constants).
COLOUR_LAYER = "relu1_1"
COLOUR_WEIGHT = 20.0
COLOUR_POOL = 2       # colour statistics need no full resolution: half the size is a quarter of the cost
GRAM_SCALE = 1e3      # puts the relative Gram error on the patch loss's scale, so one beta suits both


class PatchTerm(StyleTerm):
    """Champandard's semantic patches: each output patch pulled towards its best style patch of its label,
    matched again at the start of every optimiser round on the features that round computes anyway."""

    layers = PATCH_LAYERS
    matches_patches = True

    @classmethod
    def build(cls, features, masks, used, params) -> dict[str, PatchStyle]:
        return {layer: PatchStyle(features[layer], pool_to(masks, features[layer]), params.patch_size, params.gamma,
                                  params.style_stride) for layer in cls.layers}

    def __init__(self, painting: dict[str, PatchStyle]):
        super().__init__(painting)
        self.matches: dict[str, torch.Tensor] = {}
        self.rematch_pending = True

    def rematch(self) -> None:
        self.rematch_pending = True

    def retries(self) -> list[str]:
        return [notice for style in self.painting.values() for notice in style.retries]

    def loss(self, features, masks_for):
        if self.rematch_pending:
            with torch.no_grad():
                for layer, style in self.painting.items():
                    self.matches[layer] = style.match(features[layer], masks_for(features[layer]))
            self.rematch_pending = False
        total = 0.0
        for layer, style in self.painting.items():
            total = total + style.loss(features[layer], self.matches[layer])
        return total


class GramTerm(StyleTerm):
    """Gatys' Gram matrices, one per label over that label's pixels, at five layers."""

    layers = GRAM_LAYERS

    @classmethod
    def build(cls, features, masks, used, params) -> dict[str, GramStyle]:
        return {layer: GramStyle(features[layer], pool_to(masks, features[layer]), used) for layer in cls.layers}

    def loss(self, features, masks_for):
        total = 0.0
        for layer, style in self.painting.items():
            total = total + GRAM_SCALE * style.loss(features[layer], masks_for(features[layer]))
        return total


class ColourTerm(StyleTerm):
    """Each label's colour statistics: a Gram at relu1_1 over the label's pixels, at half resolution."""

    layers = (COLOUR_LAYER,)

    @classmethod
    def build(cls, features, masks, used, params) -> GramStyle:
        pooled = F.avg_pool2d(features[COLOUR_LAYER], COLOUR_POOL)
        return GramStyle(pooled, pool_to(masks, pooled), used)

    def loss(self, features, masks_for):
        pooled = F.avg_pool2d(features[COLOUR_LAYER], COLOUR_POOL)
        return COLOUR_WEIGHT * GRAM_SCALE * self.painting.loss(pooled, masks_for(pooled))


PATCH = Optimisation("patch", (PatchTerm, ColourTerm))
GRAM = Optimisation("gram", (GramTerm,))
