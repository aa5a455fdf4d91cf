"""Each label's colours and brush marks moved to the painting's, for the feed-forward methods' decoders.

A decoder trained for reconstruction regresses towards the mean: its pictures come out washed out, a
label's colours drift towards its neighbours' where overlapping patches are averaged, and the strokes lose
their contrast. One cheap step after decoding undoes most of it, per label and colour channel, in two bands
split by a Gaussian blur of DETAIL_SIGMA pixels:

- the broad colour (the blurred picture) is moved to the painting's broad colour mean and spread, as the
  patch method's colour term does by optimisation;
- the detail (the picture less its blur: the brush marks) is scaled to the spread of the painting's detail.

Matching the whole picture's spread alone, as one band (`match_label_colours`), cannot do the second: a
region's spread is mostly its broad shading, so the strokes inside it stay as faint as the decoder painted
them (well under the painting's contrast for SANet's decoder: BENCHMARKS.md, SANet). SANet uses both bands
(`match_label_colours_and_detail`); the instant preview keeps the one band, which on its own bench did as
well at 256 px, its default size (BENCHMARKS.md, SANet).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torchvision.transforms.functional import gaussian_blur

COLOUR_SCALE_LIMIT = 3.0   # a label's colour spread, or its detail's, is widened at most this much
# Brush marks are finer than this, a region's shading broader: at the output's scale, where the painting is
# measured too. Not tuned to the bench: its masked SANet fidelity hardly moves from 1 to 4 pixels (BENCHMARKS.md,
# SANet, the two-band colour step).
DETAIL_SIGMA = 2.0


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
                        style_std: torch.Tensor, measured_over: torch.Tensor | None = None) -> torch.Tensor:
    """Each label's pixels moved to the painting's colour mean and spread for that label (the first two
    moments per label and channel, measured over `measured_over`, by default the masks themselves); the
    scale is bounded so that a nearly flat region is not turned into amplified noise."""
    mean, std = label_colour_statistics(image, masks if measured_over is None else measured_over)
    scale = (style_std / std).clamp(0.5, COLOUR_SCALE_LIMIT)
    return image * _per_pixel(masks, scale) + _per_pixel(masks, style_mean - mean * scale)


KERNEL = 2 * round(3 * DETAIL_SIGMA) + 1     # the blur's reach, in pixels


def _bands(image: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    broad = gaussian_blur(image, [KERNEL, KERNEL], [DETAIL_SIGMA, DETAIL_SIGMA])   # reflects at the edges
    return broad, image - broad


def _insides(masks: torch.Tensor) -> torch.Tensor:
    """Each label's mask less the blur's reach from its border, where the blur mixes in the neighbour's
    colour and the step between the two would count as a brush mark; a label too thin to have an inside
    keeps its whole mask."""
    # a square erosion, as a row and then a column minimum; the picture's edge is not a border
    inside = -F.max_pool2d(F.max_pool2d(-masks, (1, KERNEL), 1, (0, KERNEL // 2)), (KERNEL, 1), 1, (KERNEL // 2, 0))
    too_thin = inside.sum((-2, -1), keepdim=True) < 0.1 * masks.sum((-2, -1), keepdim=True)
    return torch.where(too_thin, masks, inside)


@dataclass(frozen=True)
class LabelColours:
    """A painting's colours per label, (K, 3) each: its broad colour's mean and spread, and its detail's
    spread."""

    mean: torch.Tensor
    std: torch.Tensor
    detail: torch.Tensor

    @classmethod
    def of(cls, image: torch.Tensor, masks: torch.Tensor) -> LabelColours:
        """Of a painting (1, 3, H, W), 0..255, under its label masks (1, K, H, W)."""
        broad, detail = _bands(image)
        insides = _insides(masks)
        return cls(*label_colour_statistics(broad, insides), label_colour_statistics(detail, insides)[1])

    @classmethod
    def blend(cls, weighted: Sequence[tuple[float, LabelColours]]) -> LabelColours:
        """Several paintings' colours, averaged by weight (style interpolation)."""
        total = sum(weight for weight, _ in weighted)
        return cls(*(sum(weight * getattr(colours, name) for weight, colours in weighted) / total
                     for name in ("mean", "std", "detail")))


def match_label_colours_and_detail(image: torch.Tensor, masks: torch.Tensor, target: LabelColours) -> torch.Tensor:
    """`image` (1, 3, H, W) with each label's broad colour moved to `target`'s mean and spread and its
    detail scaled to `target`'s detail spread, both measured inside the label (`_insides`) and bounded as
    `match_label_colours` bounds its scale, so that flat stays flat."""
    broad, detail = _bands(image)
    insides = _insides(masks)
    detail_scale = (target.detail / label_colour_statistics(detail, insides)[1]).clamp(0.5, COLOUR_SCALE_LIMIT)
    return (match_label_colours(broad, masks, target.mean, target.std, measured_over=insides)
            + detail * _per_pixel(masks, detail_scale))
