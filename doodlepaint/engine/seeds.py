"""The pictures a render starts from: noise, each label's painting colour plus noise, the photo, an image,
or the instant picture to refine."""
from __future__ import annotations

import torch
import torch.nn.functional as F

from doodlepaint.engine.params import TransferRequest
from doodlepaint.engine.plan import PhasePlan
from doodlepaint.engine.tensors import image_tensor, label_masks, label_mean_colours

NOISE_RANGE = (16.0, 240.0)
COLOUR_NOISE = 48.0   # amplitude of the noise over the label colours: enough to seed texture, little enough to vanish


def initial_image(request: TransferRequest, plan: PhasePlan, generator: torch.Generator, device,
                  noise: float | None = None, instant: torch.Tensor | None = None,
                  init: str | None = None) -> torch.Tensor:
    """(1, 3, H, W) float 0..255 at the plan's size, as `init` (default: the request's) asks; `noise` is the
    amplitude over the label colours (default COLOUR_NOISE, read when called so a bench can vary it)."""
    init = init or request.params.init
    if init == "instant":
        return F.interpolate(instant, size=(plan.height, plan.width), mode="bilinear", antialias=True,
                             align_corners=False).clamp(0, 255)
    if init == "auto":
        # With gamma 0 the labels are off, so they do not colour the seed either.
        init = "content" if request.content is not None else "colours" if request.params.gamma > 0 else "noise"
    if init == "content":
        return image_tensor(request.content, plan.width, plan.height, device)
    if init == "image":
        return image_tensor(request.init_image, plan.width, plan.height, device)
    uniform = torch.rand(1, 3, plan.height, plan.width, generator=generator)
    if init == "noise":
        return (NOISE_RANGE[0] + uniform * (NOISE_RANGE[1] - NOISE_RANGE[0])).to(device)
    # Starting each region from its label's average style colour leaves the optimiser only texture to
    # find, not colour: it converges in fewer steps than from grey noise.
    noise = COLOUR_NOISE if noise is None else noise
    return (label_colour_image(request, plan) + (uniform - 0.5) * noise).clamp(0, 255).to(device)


def label_colour_image(request: TransferRequest, plan: PhasePlan) -> torch.Tensor:
    """The doodle at the plan's size with each label in its painting colour, (1, 3, H, W) on the CPU."""
    masks = label_masks(request.target_labels, len(request.palette), plan.width, plan.height, "cpu")[0]  # (K, H, W)
    return torch.einsum("khw,kc->chw", masks, label_mean_colours(request).float())[None]
