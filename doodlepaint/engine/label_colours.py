"""Each label's colours moved to the painting's, after the feed-forward methods' decoders.

A decoder trained for reconstruction regresses towards the mean: its pictures come out washed out, and a
label's colours drift towards its neighbours' where overlapping patches are averaged. Matching the first
two moments per label and channel (as the patch method's colour term does by optimisation) restores them
in one cheap step. The instant preview and SANet both use it.
"""
from __future__ import annotations

import torch

COLOUR_SCALE_LIMIT = 3.0   # a label's colour spread is widened at most this much


def label_colour_statistics(image: torch.Tensor, masks: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per label, the mean and standard deviation of each colour channel, (K, 3) each, over soft masks."""
    weight = masks[0].flatten(1)                                 # (K, N)
    pixels = image[0].flatten(1).t()                             # (N, 3)
    area = weight.sum(1, keepdim=True).clamp_min(1e-6)
    mean = weight @ pixels / area
    variance = weight @ pixels.pow(2) / area - mean.pow(2)
    return mean, variance.clamp_min(1.0).sqrt()


def _per_pixel(masks: torch.Tensor, per_label: torch.Tensor) -> torch.Tensor:
    """(K, 3) values per label spread over the picture by the masks, (1, 3, H, W)."""
    weight = masks[0] / masks[0].sum(0, keepdim=True).clamp_min(1e-6)       # (K, H, W), sums to 1
    return torch.einsum("khw,kc->chw", weight, per_label)[None]


def match_label_colours(image: torch.Tensor, masks: torch.Tensor, style_mean: torch.Tensor,
                        style_std: torch.Tensor) -> torch.Tensor:
    """Each label's pixels moved to the painting's colour mean and spread for that label (the first two
    moments per label and channel); the scale is bounded so that a nearly flat region is not turned into
    amplified noise."""
    mean, std = label_colour_statistics(image, masks)
    scale = (style_std / std).clamp(0.5, COLOUR_SCALE_LIMIT)
    return image * _per_pixel(masks, scale) + _per_pixel(masks, style_mean - mean * scale)

