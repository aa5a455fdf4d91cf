"""What every method checks and plans before any work: the request's images and maps, the output size,
and the coarse-to-fine phases (the one-pass methods paint at the last, full-size one)."""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from doodlepaint.engine.errors import DoodleError, LabelMapError
from doodlepaint.engine.labels import check_shared_labels
from doodlepaint.engine.methods import method_info
from doodlepaint.engine.params import MAX_SIZE, TransferRequest

# The painting is used at the doodle's scale, but with at most this many times the output's pixels: a big
# painting beside a small doodle would cost quadratically more matching for texture finer than the canvas.
MAX_STYLE_AREA = 2.0


@dataclass(frozen=True)
class PhasePlan:
    width: int
    height: int
    style_width: int
    style_height: int
    iterations: int


def output_size(request: TransferRequest) -> tuple[int, int]:
    height, width = request.target_labels.shape
    if request.params.size is None:
        return width, height
    return request.params.size, max(16, round(height * request.params.size / width))


def plan_phases(request: TransferRequest) -> list[PhasePlan]:
    """Coarse to fine, each phase twice the size of the last; phases too small for the method are skipped."""
    params = request.params
    width, height = output_size(request)
    scale = width / request.target_labels.shape[1]
    style_pixels = request.style.shape[0] * request.style.shape[1]
    scale = min(scale, math.sqrt(MAX_STYLE_AREA * width * height / style_pixels))
    style_w, style_h = request.style.shape[1] * scale, request.style.shape[0] * scale
    method = method_info(params.method)
    smallest = method.minimum_side(params.patch_size)
    if min(width, height, style_w, style_h) < smallest:
        raise DoodleError(f"at {width}x{height} (the painting at {round(style_w)}x{round(style_h)}) the images "
                          f"are too small for {method.label.split(' (')[0]}"
                          f"{' at this patch size' if method.cells_per_patch else ''}: "
                          f"render at least {smallest} pixels on each side")
    plans = []
    for index in range(params.phases):
        shrink = 2 ** (params.phases - 1 - index)
        if min(width, height, style_w, style_h) / shrink < smallest:
            continue
        # Coarse phases are cheap (a quarter of the pixels per halving), so they get twice the iterations.
        iterations = params.iterations * (2 if shrink > 1 else 1)
        plans.append(PhasePlan(round(width / shrink), round(height / shrink),
                               round(style_w / shrink), round(style_h / shrink), iterations))
    return plans


def validate_request(request: TransferRequest) -> None:
    """The checks every method makes: images, maps, shared labels, size limits, the method's smallest side,
    and an init the method can start from."""
    for name in ("style", "content", "init_image"):
        image = getattr(request, name)
        if image is not None and (image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8):
            raise DoodleError(f"{name} must be an RGB uint8 image of shape (H, W, 3), got {image.shape} {image.dtype}")
    if request.style_labels.shape != request.style.shape[:2]:
        raise LabelMapError(f"the style map is {request.style_labels.shape[1]}x{request.style_labels.shape[0]} "
                            f"but the style image is {request.style.shape[1]}x{request.style.shape[0]}")
    if request.target_labels.ndim != 2 or min(request.target_labels.shape) < 8:
        raise LabelMapError("the target map must be a 2-D label image at least 8 pixels on each side")
    check_shared_labels(request.style_labels, request.target_labels, request.palette, request.label_names)
    width, height = output_size(request)
    if max(width, height) > MAX_SIZE:
        given = "--size / the Size box" if request.params.size is not None else "the doodle's own size"
        raise DoodleError(f"the render would be {width}x{height} pixels ({given}), beyond the limit of {MAX_SIZE} "
                          f"pixels on a side: choose a smaller size")
    plan_phases(request)                # too small for the method says so here, before any work
    params = request.params
    if params.init == "content" and request.content is None:
        raise DoodleError("init 'content' needs a content image")
    if params.init == "image" and request.init_image is None:
        raise DoodleError("init 'image' needs an initial image")
    if params.init == "instant" and not method_info(params.method).refinable:
        raise DoodleError(f"init 'instant' refines with an optimisation method (patch or gram), not {params.method}")
