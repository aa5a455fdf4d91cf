"""Instant previews: one feed-forward pass of semantic patch swapping (Chen & Schmidt 2016 with
Champandard's label channels), decoded by a decoder trained here.

A doodle is flat colour, so inside a region every VGG feature is the same and every patch would pick the
same match: the input is the label-colour image plus noise (the optimisation's `colours` seed), whose
noise makes neighbouring patches pick different pieces of the painting. Each 3x3 feature patch at
relu3_1 is replaced by its best style patch *of the same label* (the match score is the patch method's
cos(features) + gamma/5 cos(labels)), overlaps are averaged, and the decoder turns the swapped features
into pixels. The painting's patch bank is kept in a small cache keyed by the painting's fingerprint, so
the next stroke on the same painting only encodes, matches and decodes the doodle.
"""
from __future__ import annotations

import math

import numpy as np
import torch

from doodlepaint.engine.cache import fingerprint, style_cache
from doodlepaint.engine.decoder import get_decoder
from doodlepaint.engine.label_colours import label_colour_statistics, match_label_colours
from doodlepaint.engine.method import OnePassMethod, RenderContext
from doodlepaint.engine.params import TransferRequest
from doodlepaint.engine.patch import PatchStyle
from doodlepaint.engine.plan import PhasePlan
from doodlepaint.engine.seeds import initial_image
from doodlepaint.engine.synthesis import InitialField, crisp_picture
from doodlepaint.engine.tensors import frame_array, image_tensor, label_masks, pool_to

SWAP_LAYER = "relu3_1"
SWAP_NOISE = 64.0      # amplitude of the seed's noise: enough that a flat region draws varied patches
# Matching in relu3_1's 32 principal directions instead of its 256 channels: 8x fewer multiplications for
# the match, which dominates the pass; the swapped patches themselves keep every channel.
KEY_CHANNELS = 32
# A painting larger than this many relu3_1 positions (a 256x256 painting) offers every second patch
# (stride 2) or fewer: matching costs grow with the bank, and a quarter of the patches of a big painting
# still gives every label plenty to choose from. Matching every *output* position instead of every second
# one keeps the picture free of a stride's grid.
BANK_PATCHES = 4096


def style_bank(request: TransferRequest, plan: PhasePlan, encoder, device) -> tuple:
    """The painting's patch bank at relu3_1, its colour means and spreads per label, and the bank's geometry
    (feature rows, columns, stride), built once per painting."""
    params = request.params
    key = ("swap", fingerprint(request.style, request.style_labels, request.palette), plan.style_width,
           plan.style_height, SWAP_LAYER, params.patch_size, params.gamma, params.style_stride, KEY_CHANNELS,
           str(device), encoder)

    def build():
        style = image_tensor(request.style, plan.style_width, plan.style_height, device)
        masks = label_masks(request.style_labels, len(request.palette), plan.style_width, plan.style_height, device)
        with torch.no_grad():
            features = encoder(style, (SWAP_LAYER,))[SWAP_LAYER]
        positions = features.shape[-1] * features.shape[-2]
        stride = max(params.style_stride, math.ceil(math.sqrt(positions / BANK_PATCHES)))
        bank = PatchStyle(features, pool_to(masks, features), params.patch_size, params.gamma, stride,
                          key_channels=KEY_CHANNELS)
        return (bank, *label_colour_statistics(style, masks), (*features.shape[-2:], stride))

    return style_cache.get(key, build)


@torch.no_grad()
def swap_image(request: TransferRequest, plan, encoder, device, generator: torch.Generator) -> torch.Tensor:
    """The instant picture at the plan's size, (1, 3, H, W) float 0..255: decoded, then copied crisp from the
    painting's pixels along the swap's own field (the decoder alone is soft, with halos at label borders)."""
    image, field = swap_image_and_field(request, plan, encoder, device, generator)
    return crisp_picture(request, plan, image, initial=field)


def swap_field(index: torch.Tensor, geometry, size: tuple[int, int], k: int, plan) -> InitialField:
    """Which painting pixel (at the plan's style size) each SWAP_LAYER position of the output took its patch's
    centre from: the bank's patch `index` per output patch, as a field over the whole feature map."""
    rows, columns, stride = geometry
    per_row = (columns - k) // stride + 1
    centre = torch.stack([index // per_row * stride, index % per_row * stride], -1) + k // 2
    centre = centre.reshape(size[0] - k + 1, size[1] - k + 1, 2).permute(2, 0, 1)[None].float()
    centre = torch.nn.functional.pad(centre, (k // 2,) * 4, mode="replicate")[0].permute(1, 2, 0)
    scale = centre.new_tensor([plan.style_height / rows, plan.style_width / columns])
    sources = ((centre + 0.5) * scale).long()          # the centre pixel of the position's cell
    return InitialField(sources.cpu().numpy(), (plan.style_height, plan.style_width))


@torch.no_grad()
def swap_image_and_field(request: TransferRequest, plan, encoder, device,
                         generator: torch.Generator) -> tuple[torch.Tensor, InitialField]:
    """The decoded instant picture and the swap's field (where in the painting each position came from)."""
    decoder = get_decoder(SWAP_LAYER, device)
    bank, style_mean, style_std, geometry = style_bank(request, plan, encoder, device)
    # The swap seeds itself from the label colours (or the photo); an image to refine is the optimisation's.
    init = request.params.init if request.params.init in ("noise", "colours", "content") else "auto"
    seed = initial_image(request, plan, generator, device, noise=SWAP_NOISE, init=init)
    # uploaded before the pass is queued: on a GPU a copy from the host waits for the work queued before it
    masks = label_masks(request.target_labels, len(request.palette), plan.width, plan.height, device)
    features = encoder(seed, (SWAP_LAYER,))[SWAP_LAYER]
    labels = pool_to(masks, features)
    index = bank.match(features, labels)
    swapped = bank.swap(features, labels, index=index)
    image = decoder(swapped.contiguous(memory_format=torch.channels_last))
    if image.shape[-2:] != seed.shape[-2:]:      # a side that is not a multiple of 4 loses a pixel or two
        image = torch.nn.functional.interpolate(image, size=seed.shape[-2:], mode="bilinear", align_corners=False)
    if request.params.gamma > 0:      # with the labels off, their colours are no guide either
        image = match_label_colours(image, masks, style_mean, style_std)
    return image.clamp(0, 255), swap_field(index, geometry, tuple(features.shape[-2:]), bank.k, plan)


class PatchSwap(OnePassMethod):
    name = "swap"

    def prepare(self, request: TransferRequest, plan: PhasePlan, context: RenderContext):
        return style_bank(request, plan, context.encoder(), context.device)

    def picture(self, request: TransferRequest, plan: PhasePlan, context: RenderContext) -> np.ndarray:
        generator = torch.Generator().manual_seed(request.params.seed)
        return frame_array(swap_image(request, plan, context.encoder(), context.device, generator))


METHOD = PatchSwap()
