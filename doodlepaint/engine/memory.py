"""How much memory a render needs, estimated from its plan before anything is loaded, and whether it fits.

The estimate adds up, per phase of the plan (engine.transfer.plan_phases), what the method holds at once:
bytes per output pixel (the network's activations, kept for the gradient in the optimising methods), per
painting pixel (its features and patch banks, which stay in the style cache for later phases) and per
pair of output and painting pixels (a block of patch-match scores, SANet's attention). The coefficients
were fitted to peaks measured on the CPU with the real VGG19 (bench/memory.py: one-phase renders of
96-320 px; BENCHMARKS.md). A request needs no pixels for this: `shaped_request` stands one in from the
images' sizes, so the command line and the server refuse before decoding or loading anything.

The command line, the server's job budget and the app's Export at Size share `check_fits`.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from doodlepaint.engine.errors import DoodleError
from doodlepaint.engine.methods import method_info
from doodlepaint.engine.params import MIN_SIZE, PRESETS, TransferParams, TransferRequest
from doodlepaint.engine.plan import output_size, plan_phases

GIB = 1024 ** 3
STYLE_CACHE_BYTES = 1_500_000_000     # engine.cache.StyleCache's budget: older phases' banks stay up to this


# Each method's coefficients are its registry entry's MemoryModel (engine/methods.py), from bench/memory.py's
# fit (one phase, one iteration, CPU, real VGG19, 2026-12-06); MARGIN on top of the sum. per_match_score
# counts MATCH_ROWS output positions x every painting position at relu3_1 (a quarter of each side).
MARGIN = 1.15
MATCH_ROWS = 4096                     # engine.patch.PatchStyle's chunk of output positions
MATCH_SCALE = 4                       # relu3_1, where the patch match's largest block is, is 1/4 of each side          # one pass at the full size: only the last phase of the plan runs


@dataclass(frozen=True)
class MemoryEstimate:
    render_bytes: int           # what the render itself adds at its peak
    runtime_bytes: int          # what the process holds before it (libraries and networks)

    @property
    def total_bytes(self) -> int:
        return self.render_bytes + self.runtime_bytes


def shaped_request(params: TransferParams, doodle_size: tuple[int, int], painting_size: tuple[int, int]):
    """A request with the sizes (width, height) of real images but no pixels: enough to plan a render."""
    (width, height), (style_width, style_height) = doodle_size, painting_size
    no_pixels = np.zeros((), np.uint8)
    return TransferRequest(style=np.broadcast_to(no_pixels, (style_height, style_width, 3)),
                           style_labels=np.broadcast_to(no_pixels.astype(np.int64), (style_height, style_width)),
                           target_labels=np.broadcast_to(no_pixels.astype(np.int64), (height, width)),
                           palette=np.zeros((1, 3), np.uint8), params=params)


def phase_pixels(request: TransferRequest) -> list[tuple[int, int]]:
    """(output pixels, painting pixels) of every phase the render runs."""
    plans = plan_phases(request)
    if method_info(request.params.method).one_pass:
        plans = plans[-1:]
    return [(plan.width * plan.height, plan.style_width * plan.style_height) for plan in plans]


def match_score_bytes(method: str, pixels: int, style_pixels: int) -> float:
    """The patch match's block of scores: the output's positions are matched MATCH_ROWS at a time against
    all of the painting's (engine.patch.PatchStyle's chunks), so past a 256 px output it grows with the
    painting only."""
    positions, style_positions = pixels / MATCH_SCALE ** 2, style_pixels / MATCH_SCALE ** 2
    return method_info(method).memory.per_match_score * min(positions, MATCH_ROWS) * style_positions


def _phase_bytes(method: str, pixels: int, style_pixels: int) -> tuple[float, float]:
    """What a phase holds at its peak, and what of it stays cached after it."""
    c = method_info(method).memory
    kept = c.per_style_pixel * style_pixels
    working = (c.per_pixel * pixels + kept + c.per_pixel_pair * pixels * style_pixels
               + match_score_bytes(method, pixels, style_pixels))
    return working, kept


def estimate(request: TransferRequest) -> MemoryEstimate:
    method = request.params.method
    phases = phase_pixels(request)
    peak, cached = 0.0, 0.0
    if request.params.init == "instant":       # the instant picture first, at the full size; its bank stays cached
        peak, cached = _phase_bytes(PRESETS["Instant"].method, *phases[-1])
    for pixels, style_pixels in phases:
        working, kept = _phase_bytes(method, pixels, style_pixels)
        peak = max(peak, cached + working)
        cached = min(cached + kept, STYLE_CACHE_BYTES)
    model = method_info(method).memory
    return MemoryEstimate(render_bytes=int(MARGIN * (model.fixed + peak)), runtime_bytes=int(model.runtime))


def available_memory() -> int | None:
    """Bytes this machine can give a process now without swapping (Linux's MemAvailable), or None."""
    try:
        found = re.search(r"^MemAvailable:\s+(\d+) kB", Path("/proc/meminfo").read_text(), re.MULTILINE)
        if found:
            return int(found.group(1)) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def memory_amount(text: str) -> int:
    """An amount of memory as a person writes it: bytes, or a number with K, M, G or T (powers of 1024),
    e.g. 8G or 512M; raises ValueError."""
    units = {"": 1, "K": 1024, "M": 1024 ** 2, "G": 1024 ** 3, "T": 1024 ** 4}
    number = text.strip().upper().removesuffix("B").removesuffix("I")
    unit = number[-1] if number and number[-1] in units else ""
    amount = float(number.removesuffix(unit)) * units[unit]
    if not 0 < amount < float("inf"):
        raise ValueError(f"{text!r} is not an amount of memory above 0")
    return int(amount)


def gigabytes(count: float) -> str:
    return f"{count / GIB:.1f} GB"


def largest_fitting_width(request: TransferRequest, budget: int, runtime: bool = True) -> int | None:
    """The widest output (in pixels) of this request whose estimate fits `budget`, or None if none does."""
    def needed(width: int) -> int | None:
        """The estimate at `width`, or None where the images are too small for the method."""
        try:
            sized = estimate(shaped_request(request.params.replace(size=width), request.target_labels.shape[::-1],
                                            request.style.shape[1::-1]))
        except DoodleError:
            return None
        return sized.total_bytes if runtime else sized.render_bytes

    high = request.params.size or request.target_labels.shape[1]
    low = MIN_SIZE
    while low < high and needed(low) is None:      # the method's smallest size: sizes above it plan
        low = min(2 * low, high)
    if needed(low) is None or needed(low) > budget:
        return None
    while low < high:
        middle = (low + high + 1) // 2
        low, high = (middle, high) if needed(middle) <= budget else (low, middle - 1)
    return low


def check_fits(request: TransferRequest, budget: int, where: str, runtime: bool = True) -> MemoryEstimate:
    """Raises MemoryBudgetError, naming the widest size that fits, when the render's estimate exceeds `budget`
    bytes (`where`: whose budget, e.g. "this machine has 6.0 GB available"). `runtime`: count the libraries
    and networks too (a new process) or only the render (a server that holds them already)."""
    needed = estimate(request)
    total = needed.total_bytes if runtime else needed.render_bytes
    if total <= budget:
        return needed
    width, height = output_size(request)
    fitting = largest_fitting_width(request, budget, runtime)
    advice = (f"render at most {fitting} pixels wide" if fitting is not None else
              "even the smallest size does not fit")
    raise MemoryBudgetError(f"a {width}x{height} {request.params.method} render needs about {gigabytes(total)} of "
                            f"memory and {where}: {advice}", fitting)


class MemoryBudgetError(DoodleError):
    """A render would need more memory than it may have; `fitting`: the widest size that fits, if any."""

    def __init__(self, message: str, fitting: int | None = None):
        super().__init__(message)
        self.fitting = fitting
