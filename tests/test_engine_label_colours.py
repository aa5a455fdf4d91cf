"""The colour step after the feed-forward methods' decoders: per label, the painting's colours and strokes."""
from __future__ import annotations

import numpy as np
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from doodlepaint.engine.label_colours import (COLOUR_SCALE_LIMIT, LabelColours, label_colour_statistics,
                                              match_label_colours, match_label_colours_and_detail)


def _halves(height: int, width: int) -> torch.Tensor:
    """Label masks (1, 2, H, W): label 0 the top half, label 1 the bottom half."""
    masks = torch.zeros(1, 2, height, width)
    masks[0, 0, :height // 2] = 1.0
    masks[0, 1, height // 2:] = 1.0
    return masks


def _strokes(height: int, width: int, contrast: torch.Tensor, colour: torch.Tensor) -> torch.Tensor:
    """Per label (top, bottom) a base colour, a shading down the picture (3 levels a row) and fine stripes (a
    2 px period, far finer than the detail band's blur) of the given contrast per channel."""
    rows = torch.arange(height, dtype=torch.float32)[:, None].expand(height, width)
    columns = torch.arange(width)[None, :].expand(height, width)
    stripes = torch.where(columns % 2 == 0, 1.0, -1.0)
    top = (rows < height // 2)[None]
    base = torch.where(top, colour[0][:, None, None], colour[1][:, None, None]) + (rows - height / 2)[None] * 3.0
    return (base + stripes[None] * torch.where(top, contrast[0][:, None, None], contrast[1][:, None, None]))[None]


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


def test_each_labels_brush_marks_take_the_paintings_contrast_and_its_colour_the_paintings_colour():
    masks = _halves(64, 64)
    painting = _strokes(64, 64, torch.tensor([[30.0, 20.0, 25.0], [12.0, 16.0, 10.0]]),
                        torch.tensor([[200.0, 120.0, 60.0], [60.0, 90.0, 180.0]]))
    # what a decoder paints: other colours (40 to 70 levels off), the strokes at a third of their contrast
    decoded = _strokes(64, 64, torch.tensor([[12.0, 8.0, 9.0], [5.0, 6.0, 4.0]]),
                       torch.tensor([[150.0, 140.0, 130.0], [110.0, 120.0, 130.0]]))
    target = LabelColours.of(painting, masks)
    matched = LabelColours.of(match_label_colours_and_detail(decoded, masks, target), masks)
    assert torch.allclose(matched.mean, target.mean, atol=0.5)
    assert torch.allclose(matched.detail, target.detail, rtol=0.05)
    # one band, the whole region's spread, leaves the strokes faint: its spread is mostly the shading
    one_band = match_label_colours(decoded, masks, *label_colour_statistics(painting, masks))
    assert (LabelColours.of(one_band, masks).detail < 0.6 * target.detail).all()


def test_flat_regions_keep_flat_when_their_detail_is_matched():
    masks = _halves(32, 32)
    painting = _strokes(32, 32, torch.full((2, 3), 40.0), torch.tensor([[200.0, 120.0, 60.0], [60.0, 90.0, 180.0]]))
    flat = torch.full((1, 3, 32, 32), 128.0) + 0.01 * torch.rand(1, 3, 32, 32, generator=torch.Generator().manual_seed(1))
    matched = match_label_colours_and_detail(flat, masks, LabelColours.of(painting, masks))
    top = matched[0, :, 4:12, 4:28]          # away from the label border, where the two colours blend
    assert (top.flatten(1).std(1) < 0.05).all()


def test_blended_colours_are_the_weighted_mean_of_each_paintings():
    one = LabelColours(torch.zeros(2, 3), torch.ones(2, 3), torch.full((2, 3), 2.0))
    two = LabelColours(torch.full((2, 3), 90.0), torch.full((2, 3), 5.0), torch.full((2, 3), 6.0))
    blended = LabelColours.blend([(1.0, one), (2.0, two)])
    assert torch.allclose(blended.mean, torch.full((2, 3), 60.0))
    assert torch.allclose(blended.std, torch.full((2, 3), 11 / 3)) and torch.allclose(blended.detail, torch.full((2, 3), 14 / 3))


def test_a_label_too_thin_for_an_inside_is_matched_over_its_whole_mask():
    masks = torch.zeros(1, 2, 32, 32)
    masks[0, 1, 14:18] = 1.0                 # a 4 px line: the blur reaches across all of it
    masks[0, 0] = 1.0 - masks[0, 1]
    painting = torch.full((1, 3, 32, 32), 100.0)
    painting[..., 14:18, :] = torch.tensor([250.0, 30.0, 30.0])[:, None, None]
    decoded = torch.full((1, 3, 32, 32), 120.0)
    decoded[..., 14:18, :] = 140.0
    matched = match_label_colours_and_detail(decoded, masks, LabelColours.of(painting, masks))
    line = matched[0, :, 14:18].flatten(1).mean(1)
    assert line[0] > 200 and (line[1:] < 80).all()


@settings(max_examples=40, deadline=None)
@given(ids=arrays(np.int64, (20, 24), elements=st.integers(0, 3)), seed=st.integers(0, 2**16))
def test_any_label_layout_gives_a_finite_picture_and_bounded_scales(ids, seed):
    """Labels of one pixel, scattered, absent from the picture or from the painting: never NaN or inf,
    and no label's colour pushed further than the scale bound allows."""
    from doodlepaint.engine.tensors import label_masks

    generator = torch.Generator().manual_seed(seed)
    masks = label_masks(ids, 4, 24, 20, "cpu")
    painting = 255 * torch.rand(1, 3, 20, 24, generator=generator)
    picture = 100 + 30 * torch.rand(1, 3, 20, 24, generator=generator)
    matched = match_label_colours_and_detail(picture, masks, LabelColours.of(painting, masks))
    assert torch.isfinite(matched).all()
    # each label's broad colour lands within the bound times the picture's 30 levels of the painting's mean
    # (0..255), and its detail (under 30 levels) grows at most by the bound
    reach = 2 * COLOUR_SCALE_LIMIT * 30
    assert matched.min() >= -reach - 1e-3 and matched.max() <= 255 + reach + 1e-3
