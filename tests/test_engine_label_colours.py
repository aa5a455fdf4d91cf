"""The colour step after the feed-forward methods' decoders: per label, the painting's colours."""
from __future__ import annotations

import torch

from doodlepaint.engine.label_colours import COLOUR_SCALE_LIMIT, label_colour_statistics, match_label_colours


def _halves(height: int, width: int) -> torch.Tensor:
    """Label masks (1, 2, H, W): label 0 the top half, label 1 the bottom half."""
    masks = torch.zeros(1, 2, height, width)
    masks[0, 0, :height // 2] = 1.0
    masks[0, 1, height // 2:] = 1.0
    return masks


def test_label_colours_are_moved_to_the_paintings_statistics():
    generator = torch.Generator().manual_seed(0)
    masks = _halves(8, 8)
    washed_out = 120 + 20 * torch.rand(1, 3, 8, 8, generator=generator)
    style_mean = torch.tensor([[200.0, 60.0, 40.0], [30.0, 90.0, 200.0]])
    style_std = torch.tensor([[12.0, 8.0, 10.0], [9.0, 11.0, 7.0]])
    matched = match_label_colours(washed_out, masks, style_mean, style_std)
    mean, std = label_colour_statistics(matched, masks)
    assert torch.allclose(mean, style_mean, atol=1e-3) and torch.allclose(std, style_std, rtol=1e-3)
    # a flat region is not blown up into noise: its spread grows by at most the limit
    flat = washed_out.clone()
    flat[:, :, :4] = 100 + 0.01 * torch.rand(1, 3, 4, 8, generator=generator)
    flat_region = match_label_colours(flat, masks, style_mean, style_std)[0, :, :4]
    assert (flat_region.flatten(1).std(1) < 0.01 * COLOUR_SCALE_LIMIT).all()
