"""Print size: the composition settled small by any method, the print copied large from the painting.

The working render (the request's own method at a working size, 512 px or the doodle's width if smaller)
settles what goes where; guided patch synthesis (engine/synthesis.py) then paints the print at full size
from the painting's own pixels, at its own resolution times the brush scale, guided by the labels at print
size and by the working render upscaled. Memory stays with the tile and the print's few bytes per pixel,
not with an optimisation at print size.
"""
from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from doodlepaint.engine.errors import DoodleError
from doodlepaint.engine.params import Progress, TransferRequest
from doodlepaint.engine.stopping import check_stop, stoppable
from doodlepaint.engine.synthesis import (PRINT_GUIDE_CELL, PRINT_VOTE_SIGMA, SynthesisParams, check_inputs,
                                          check_painting_size, synthesise)
from doodlepaint.engine.transfer import output_size, run_transfer, validate

DEFAULT_WORKING_SIZE = 512
PRINT_PATCH_SIZE = 5
# Share of the progress bar for the working render: it is the smaller part of a print's time.
WORKING_SHARE = 0.3
# Seconds per million print pixels on the 2-core CPU, the synthesis alone: the idle print bench's, rounded up
# for the PNG and for a machine that does other things meanwhile (BENCHMARKS.md, print size).
SECONDS_PER_MEGAPIXEL = 5.0
# Bytes per print pixel the synthesis holds (output, field, labels, the PNG's copy) and per painting pixel
# (its tables for search and vote, label order), measured from the tensors it makes; a tile's working set.
BYTES_PER_PRINT_PIXEL = 30
BYTES_PER_PAINTING_PIXEL = 80
TILE_BYTES = 120 * 1024 ** 2


@dataclass(frozen=True)
class PrintSettings:
    working_size: int | None = None     # None: DEFAULT_WORKING_SIZE, or the doodle's width if smaller
    brush_scale: float = 1.0
    tile: int = 512

    def working_width(self, request: TransferRequest) -> int:
        return self.working_size or min(DEFAULT_WORKING_SIZE, request.target_labels.shape[1])


def uses_print_pipeline(request: TransferRequest, settings: PrintSettings) -> bool:
    """A render wider than the working size is a print."""
    return output_size(request)[0] > settings.working_width(request)


def print_labels(request: TransferRequest, band: int = 256) -> np.ndarray:
    """The doodle's label ids at the print's size: each label's mask interpolated (bilinear) and the largest
    taken, so that a border drawn pixel by pixel becomes a smooth line, not an enlarged staircase; band by
    band, so no float map of the whole print exists, and a stop asked for inside a render ends it between
    bands."""
    width, height = output_size(request)
    ids = torch.from_numpy(request.target_labels.astype(np.int64))
    present = torch.unique(ids)
    masks = (ids[None] == present[:, None, None]).float()[None]             # (1, K, h, w)
    xs = (torch.arange(width) + 0.5) / width * 2 - 1
    labels = np.empty((height, width), np.int32)
    for top in range(0, height, band):
        check_stop()
        ys = (torch.arange(top, min(height, top + band)) + 0.5) / height * 2 - 1
        grid = torch.stack(torch.meshgrid(xs, ys, indexing="xy"), -1)[None]
        weights = F.grid_sample(masks, grid, mode="bilinear", padding_mode="border", align_corners=False)
        labels[top:top + band] = present[weights[0].argmax(0)].numpy()
    return labels


def synthesis_params(request: TransferRequest, settings: PrintSettings) -> SynthesisParams:
    try:
        return SynthesisParams(gamma=request.params.gamma, patch_size=PRINT_PATCH_SIZE,
                               brush_scale=settings.brush_scale, seed=request.params.seed, tile=settings.tile,
                               vote_sigma=PRINT_VOTE_SIGMA, guide_cell=PRINT_GUIDE_CELL)
    except ValueError as error:
        raise DoodleError(str(error)) from error


def expected_memory(request: TransferRequest, settings: PrintSettings) -> int:
    """Bytes the synthesis needs at most, beside the working render's own."""
    width, height = output_size(request)
    painting_pixels = request.style.shape[0] * request.style.shape[1] * settings.brush_scale ** 2
    return int(width * height * BYTES_PER_PRINT_PIXEL + painting_pixels * BYTES_PER_PAINTING_PIXEL + TILE_BYTES)


def expected_seconds(request: TransferRequest) -> float:
    """About how long the synthesis takes on a 2-core CPU (a GPU is faster), beside the working render."""
    width, height = output_size(request)
    return width * height / 1e6 * SECONDS_PER_MEGAPIXEL


def working_request(request: TransferRequest, settings: PrintSettings) -> TransferRequest:
    return dataclasses.replace(request, params=request.params.replace(size=settings.working_width(request)))


def check_print_settings(request: TransferRequest, settings: PrintSettings) -> None:
    """What check_print refuses that needs no labels at print size (seconds to make for a large print): the
    request, the working size, the brush scale and the painting's size for it. Quick enough for a dialog to
    ask on every change."""
    validate(request)
    working = working_request(request, settings)
    validate(working)
    width, height = output_size(request)
    if settings.working_width(request) >= width:
        raise DoodleError(f"the working size ({settings.working_width(request)} px) must be smaller than the print "
                          f"({width} px)")
    check_painting_size(request.style.shape[:2], (height, width), synthesis_params(request, settings))


def check_print(request: TransferRequest, settings: PrintSettings) -> np.ndarray:
    """Everything a print can be refused for, before any work: check_print_settings, then the labels at print
    size against the painting's. Returns the labels at print size."""
    check_print_settings(request, settings)
    labels = print_labels(request)
    guide = np.zeros((1, 1, 3), np.uint8)
    check_inputs(request.style, request.style_labels, labels, guide, synthesis_params(request, settings))
    return labels


def run_print(request: TransferRequest, settings: PrintSettings = PrintSettings(),
              should_stop: Callable[[], bool] | None = None, device: torch.device | str = "cpu",
              encoder=None, working: np.ndarray | None = None) -> Iterator[Progress]:
    """The working render (or `working`, one already made: the app's preview), then the synthesis at print
    size: Progress throughout, the print as the last frame (done). Stopping yields nothing more."""
    should_stop = should_stop or (lambda: False)
    yield from stoppable(_print_steps(request, settings, should_stop, device, encoder, working), should_stop)


def _print_steps(request, settings, should_stop, device, encoder, working) -> Iterator[Progress]:
    labels = check_print(request, settings)
    started = time.perf_counter()
    last = None
    if working is None:
        for last in run_transfer(working_request(request, settings), should_stop, device, math.inf, encoder):
            now = time.perf_counter()
            fraction = WORKING_SHARE * last.fraction
            yield dataclasses.replace(last, phases=last.phases + 1, done=False, fraction=fraction,
                                      elapsed=now - started, eta=(now - started) * (1 - fraction) / max(fraction, 1e-9))
        if last is None or not last.done or should_stop():
            return
        working = last.frame
    phases = last.phases + 1 if last is not None else 1
    working_seconds = last.phase_seconds if last is not None else ()
    peak_memory = last.peak_memory if last is not None else 0
    working_frame, share = working, WORKING_SHARE if last is not None else 0.0
    synthesis_started = time.perf_counter()
    steps = synthesise(request.style, request.style_labels, labels, working_frame, synthesis_params(request, settings),
                       should_stop=should_stop, device=device)
    for step in _memory_checked(steps, request, settings):
        now = time.perf_counter()
        fraction = share + (1 - share) * step.fraction
        done = step.done
        yield Progress(phase=phases, phases=phases, step=step.step, steps=step.steps, total_step=step.step,
                       total_steps=step.steps, loss=0.0, elapsed=now - started,
                       eta=0.0 if done else (now - started) * (1 - fraction) / fraction, frame=step.image, done=done,
                       phase_seconds=working_seconds + ((now - synthesis_started,) if done else ()),
                       fraction=1.0 if done else fraction, stage="print", peak_memory=peak_memory)


def _memory_checked(steps: Iterator, request: TransferRequest, settings: PrintSettings) -> Iterator:
    """The steps, with running out of memory said in a line that says what to do."""
    try:
        yield from steps
    except MemoryError as error:
        width, height = output_size(request)
        raise DoodleError(f"out of memory painting the {width}x{height} print (it needs about "
                          f"{expected_memory(request, settings) / 1024 ** 3:.1f} GB beside the working render): "
                          "choose a smaller size or brush scale, or close other programs") from error


def print_metadata(request: TransferRequest, settings: PrintSettings) -> dict:
    """What a print's PNG carries beside the render's parameters."""
    return {"print": {"working_size": settings.working_width(request), "brush_scale": settings.brush_scale,
                      "synthesis_patch_size": PRINT_PATCH_SIZE, "tile": settings.tile}}
