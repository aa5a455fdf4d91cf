"""Guided patch synthesis in pixel space: a picture copied from the painting's own pixels.

"Texture by numbers" (Hertzmann et al. 2001) as EbSynth does it (Jamriska et al. 2019): every output
pixel p has a source q = field[p] in the painting. A k x k patch of the output around p should look like
the patch of the painting around q in two ways: its guide (the working render, upscaled, against the
painting blurred alike) and its current colours (texture coherence, Kaspar et al. 2015). With gamma > 0
the source lies in the output pixel's own label, always. The field is improved by PatchMatch (Barnes et
al. 2009) as whole-tile tensor operations: propagation takes a neighbour's source shifted by the
neighbour's offset (jump-flood distances), random search tries sources moved by block-wise random
offsets in windows that halve. Then overlapping patches vote: each output pixel is the mean of what the
patches covering it put there, from their sources in its own label, weighted by a Gaussian of the patch's
distance (a uniform mean blurs where neighbouring patches disagree). Coarse to fine: each level starts
from the coarser level's field.

Cost: a candidate field is judged by one gather of the painting's few channels per pixel (the per-pixel
distance under the candidate) and a k x k box sum of it, exact where the candidate is coherent, as the
shifted fields of propagation and the block offsets of random search are.

Memory: the output, its field (two int32 per pixel) and the painting's table are held once; everything
else is computed tile by tile with a margin, reading the shared field, so nothing larger than a tile is
made and tiles meet without a seam (a pass over all tiles searches, then another votes).
"""
from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from doodlepaint.engine.errors import Cancelled, DoodleError
from doodlepaint.engine.images import resize_nearest

GUIDE_WEIGHT = 1.0
COHERENCE_WEIGHT = 0.5     # the current output against the painting's own pixels, relative to the guide
LABEL_COST = 3 * 64.0 ** 2  # a neighbour of another label costs like a colour 64 levels off in each channel,
                            # at gamma 50 (the paper's default); scales with gamma
MIN_GUIDE_BLUR = 2.0
RANDOM_BLOCK = 8           # random search moves blocks of this many pixels together, so they stay coherent
MIN_LEVEL_SIDE = 48        # the coarsest level keeps the output's and the painting's shorter side above this
MAX_LEVELS = 5
COARSE_ITERATIONS = 3
FINE_ITERATIONS = 1        # EbSynth's schedule: the finest level mostly keeps the coarser level's field
COARSE_JUMPS = (8, 4, 2, 1)
FINE_JUMPS = (2, 1)
FINE_RADII = (16, 4)       # at the finest level random search only nudges the coarser level's sources
# How far, in pixels, a pixel's vote reaches into its neighbours' patches. A uniform vote (EbSynth's) softens
# marks wherever neighbouring patches disagree; too narrow a vote shows every seam between copied patches.
# The render's last step votes once along a field of 4 px cells, whose borders want the wider vote; a print's
# field is PatchMatch's, mostly coherent, where the narrower vote keeps the strokes (BENCHMARKS.md, print size).
VOTE_SIGMA = 1.0
PRINT_VOTE_SIGMA = 0.5
# A print's guide is the working render enlarged four to sixteen times: the instant render's 4 px cells, one
# of which took a stroke of another colour, would become squares of that colour in the print. Trusting the
# guide only down to 3 of its pixels lets the painting's own marks fill such a cell instead.
PRINT_GUIDE_CELL = 3.0
VOTE_PAD = 3               # the largest patch's margin
MAX_REPEAT = 64.0          # a print may use each painting pixel this many times over, no more
MIN_BRUSH_SCALE, MAX_BRUSH_SCALE = 0.25, 8.0


@dataclass(frozen=True)
class SynthesisParams:
    gamma: float = 50.0         # 0: labels ignored; > 0: every source in its pixel's label, neighbours weighed
    patch_size: int = 5
    brush_scale: float = 1.0    # the painting is resampled by this before it is copied: larger, softer marks
    seed: int = 0
    levels: int | None = None   # None: down to about MIN_LEVEL_SIDE
    iterations: int | None = None  # per coarse level; None: COARSE_ITERATIONS
    fine_iterations: int = FINE_ITERATIONS    # 0: the finest level only votes along the field it starts from
    tile: int = 512             # tile side (without its margin)
    vote_sigma: float = VOTE_SIGMA
    guide_cell: float = 1.0     # the guide is trusted down to cells of this many of its own pixels, no finer

    def __post_init__(self):
        if self.patch_size not in (3, 5, 7):
            raise ValueError(f"the synthesis patch size must be 3, 5 or 7, not {self.patch_size}")
        if not (isinstance(self.brush_scale, (int, float)) and math.isfinite(self.brush_scale)
                and MIN_BRUSH_SCALE <= self.brush_scale <= MAX_BRUSH_SCALE):
            raise ValueError(f"brush scale must be between {MIN_BRUSH_SCALE:g} and {MAX_BRUSH_SCALE:g}, "
                             f"not {self.brush_scale!r}")
        if not (math.isfinite(self.gamma) and self.gamma >= 0):
            raise ValueError(f"gamma must be a finite number of at least 0, not {self.gamma!r}")
        if self.tile < 16:
            raise ValueError(f"the tile must be at least 16 pixels, not {self.tile}")
        if not 0 <= self.fine_iterations <= 8:
            raise ValueError(f"fine iterations must be between 0 and 8, not {self.fine_iterations}")
        if not (math.isfinite(self.guide_cell) and 1 <= self.guide_cell <= 16):
            raise ValueError(f"the guide's cell must be between 1 and 16 pixels, not {self.guide_cell!r}")
        if not (math.isfinite(self.vote_sigma) and 0.1 <= self.vote_sigma <= VOTE_PAD):
            raise ValueError(f"the vote's sigma must be between 0.1 and {VOTE_PAD} pixels, not {self.vote_sigma!r}")
        if self.levels is not None and not 1 <= self.levels <= MAX_LEVELS:
            raise ValueError(f"levels must be between 1 and {MAX_LEVELS}, not {self.levels}")


@dataclass(frozen=True, eq=False)
class SynthesisProgress:
    step: int                   # tile passes done
    steps: int
    level: int                  # 1-based, coarse to fine
    levels: int
    elapsed: float
    eta: float
    fraction: float
    image: np.ndarray | None = None   # (H, W, 3) uint8, on the last step
    field: np.ndarray | None = None   # (H, W, 2) int32: each pixel's source (row, column) in the painting as used
    done: bool = False


@dataclass(frozen=True, eq=False)
class InitialField:
    """Sources for an output grid (rows, columns, 2) in a painting of `painting_size` (height, width): e.g. the
    correspondence of the working render, which the synthesis scales to its own sizes."""

    sources: np.ndarray
    painting_size: tuple[int, int]


def scaled_painting(painting: np.ndarray, labels: np.ndarray, scale: float) -> tuple[np.ndarray, np.ndarray]:
    """The painting and its label ids resampled by `scale` (bicubic colours, nearest labels)."""
    if scale == 1:
        return painting, labels
    height, width = painting.shape[:2]
    size = (max(1, round(height * scale)), max(1, round(width * scale)))
    image = torch.from_numpy(np.ascontiguousarray(painting)).permute(2, 0, 1)[None].float()
    image = F.interpolate(image, size=size, mode="bicubic", align_corners=False, antialias=scale < 1)
    ids = torch.from_numpy(np.ascontiguousarray(labels))[None, None].float()
    ids = F.interpolate(ids, size=size, mode="nearest")
    return (image[0].permute(1, 2, 0).round().clamp(0, 255).to(torch.uint8).numpy(),
            ids[0, 0].to(torch.int64).numpy())


def check_inputs(painting: np.ndarray, painting_labels: np.ndarray, target_labels: np.ndarray,
                 guide: np.ndarray, params: SynthesisParams) -> None:
    """One-line errors for inputs the synthesis cannot use, before any work."""
    if painting.ndim != 3 or painting.shape[2] != 3 or painting.dtype != np.uint8:
        raise DoodleError(f"the painting must be an RGB uint8 image (H, W, 3), got {painting.shape} {painting.dtype}")
    if guide.ndim != 3 or guide.shape[2] != 3 or guide.dtype != np.uint8:
        raise DoodleError(f"the working render must be an RGB uint8 image (H, W, 3), got {guide.shape} {guide.dtype}")
    if painting_labels.shape != painting.shape[:2]:
        raise DoodleError(f"the painting's labels are {painting_labels.shape[1]}x{painting_labels.shape[0]} but the "
                          f"painting is {painting.shape[1]}x{painting.shape[0]}")
    if target_labels.ndim != 2:
        raise DoodleError(f"the output's labels must be a 2-D map, got {target_labels.shape}")
    check_painting_size(painting.shape[:2], target_labels.shape, params)
    if params.gamma > 0:
        present = np.unique(painting_labels)
        missing = np.setdiff1d(np.unique(target_labels), present)
        if len(missing):
            raise DoodleError(f"the output uses label(s) {', '.join(map(str, missing.tolist()))} that the painting "
                              "does not have: every label needs some of the painting to copy from")


def check_painting_size(painting: tuple[int, int], output: tuple[int, int], params: SynthesisParams) -> None:
    """Whether a painting of `painting` (height, width) pixels can give an output of `output` at the brush
    scale: from the sizes alone, so a dialog can ask on every change."""
    if min(output) < params.patch_size:
        raise DoodleError(f"the output must be at least {params.patch_size} pixels on each side")
    height, width = output
    scaled = (painting[0] * params.brush_scale, painting[1] * params.brush_scale)
    if min(scaled) < 2 * params.patch_size:
        raise DoodleError(f"the painting at brush scale {params.brush_scale:g} is {scaled[1]:.0f}x{scaled[0]:.0f} "
                          f"pixels: too small to take {params.patch_size}x{params.patch_size} patches from")
    repeat = width * height / (scaled[0] * scaled[1])
    if repeat > MAX_REPEAT:
        needed = math.sqrt(width * height / MAX_REPEAT / (painting[0] * painting[1]))
        raise DoodleError(f"the painting ({painting[1]}x{painting[0]}) is too small for a {width}x{height} "
                          f"print at brush scale {params.brush_scale:g}: each of its pixels would be copied about "
                          f"{repeat:.0f} times; use a brush scale of at least {math.ceil(needed * 10) / 10:g}, "
                          "a smaller size or a larger painting")


def synthesise(painting: np.ndarray, painting_labels: np.ndarray, target_labels: np.ndarray, guide: np.ndarray,
               params: SynthesisParams = SynthesisParams(), initial: InitialField | None = None,
               should_stop: Callable[[], bool] | None = None,
               device: torch.device | str = "cpu") -> Iterator[SynthesisProgress]:
    """Synthesise an output of `target_labels`' size from `painting` (at `params.brush_scale`), guided by
    `guide` (the working render, any size: it is resampled). One SynthesisProgress per tile pass; the last
    has `done` and the image. Stopping (should_stop true, checked between candidates) yields nothing more."""
    check_inputs(painting, painting_labels, target_labels, guide, params)
    should_stop = should_stop or (lambda: False)
    device = torch.device(device)
    painting, painting_labels = scaled_painting(painting, painting_labels, params.brush_scale)
    yield from _Synthesis(painting, painting_labels, target_labels, guide, params, initial, should_stop, device).run()


def synthesise_image(*args, **kwargs) -> tuple[np.ndarray, np.ndarray]:
    """The whole synthesis at once: (image, field). Raises Cancelled if stopped."""
    last = None
    for last in synthesise(*args, **kwargs):
        pass
    if last is None or not last.done:
        raise Cancelled("the synthesis was stopped")
    return last.image, last.field


class _Stopped(Exception):
    pass


def _level_sizes(height: int, width: int, paint_height: int, paint_width: int, levels: int | None) -> list:
    """[(output (h, w), painting (h, w))] coarse to fine, halving until a side would fall under MIN_LEVEL_SIDE."""
    if levels is None:
        smallest = min(height, width, paint_height, paint_width)
        levels = max(1, min(MAX_LEVELS, 1 + int(math.log2(max(1.0, smallest / MIN_LEVEL_SIDE)))))
    sizes = []
    for level in range(levels):
        shrink = 2 ** (levels - 1 - level)
        sizes.append(((max(1, round(height / shrink)), max(1, round(width / shrink))),
                      (max(1, round(paint_height / shrink)), max(1, round(paint_width / shrink)))))
    return sizes


def _resize(image: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """(C, H, W) float resized to `size`: area-averaged down, bilinear up."""
    if tuple(image.shape[-2:]) == tuple(size):
        return image
    down = size[0] < image.shape[-2]
    return F.interpolate(image[None], size=size, mode="bilinear", align_corners=False, antialias=down)[0]


def vote_weight(dy: int, dx: int, sigma: float = VOTE_SIGMA) -> float:
    """How much the patch centred (dy, dx) away counts in a pixel's vote: a Gaussian, so a pixel follows its
    own patch more than its neighbours' (crisper marks where the field is incoherent)."""
    return math.exp(-(dy * dy + dx * dx) / (2 * sigma ** 2))


def _clamped(sources: torch.Tensor, level: "_Level") -> torch.Tensor:
    return torch.stack([sources[..., 0].clamp(0, level.height - 1), sources[..., 1].clamp(0, level.width - 1)], -1)


def _halving_radii(largest: int) -> list[int]:
    """Random search windows from `largest` down, a quarter each time, to about a block."""
    radii = []
    while largest >= RANDOM_BLOCK // 2:
        radii.append(largest)
        largest //= 4
    return radii


def _hashed_uniform(rows: torch.Tensor, columns: torch.Tensor, key: int) -> torch.Tensor:
    """A uniform number in [0, 1) for every (row, column) pair of integers and `key`, the same whichever tile
    asks: random search's blocks straddle tile borders without being cut there. (len(rows), len(columns))."""
    return _hash32(rows[:, None], columns[None, :], key).double() / 2 ** 32


def _hash32(rows, columns, key: int):
    """A 32-bit hash of integers: tensors (broadcast) or plain ints alike."""
    mask = 0xFFFFFFFF
    h = (rows * 0x9E3779B1 + columns * 0x85EBCA77 + (key * 0xC2B2AE3D & mask)) & mask
    h = h ^ (h >> 15)
    h = (h * 0x2C1B3C6D) & mask
    h = h ^ (h >> 12)
    h = (h * 0x297A2D39) & mask
    return h ^ (h >> 15)


def _blocks(start: int, stop: int, key: int) -> tuple[torch.Tensor, torch.Tensor, int]:
    """Random search's blocks along one axis of a region: each position's global block, the blocks' ids, and
    the grid's phase (a random shift per key, so that block borders fall anywhere). Plain integer arithmetic
    where it can be: nothing here is read back from a tensor."""
    phase = _hash32(key, 7, key) * RANDOM_BLOCK >> 32
    block = (torch.arange(start, stop) + phase) // RANDOM_BLOCK
    return block, torch.arange((start + phase) // RANDOM_BLOCK, (stop - 1 + phase) // RANDOM_BLOCK + 1), phase


def _nearest_rows(source_size: int, size: int, device) -> torch.Tensor:
    return ((torch.arange(size, device=device) + 0.5) * source_size / size).long().clamp_max(source_size - 1)


class _Level:
    """One level's painting side. For the search, a row per painting pixel: [guide colours, sqrt(coherence) *
    colours, label]. For the vote, a row per pixel of the painting padded by VOTE_PAD on every side:
    [colours, 1, label], the padding's label -1 (never a pixel's), so a source moved by a patch offset needs no
    bounds check. Pixels sorted by label, for random sources."""

    def __init__(self, painting: torch.Tensor, labels: torch.Tensor, blur: float):
        self.height, self.width = painting.shape[-2:]
        guide = painting
        if blur > 1:
            small = (max(1, round(self.height / blur)), max(1, round(self.width / blur)))
            guide = _resize(_resize(painting, small), (self.height, self.width))
        label_column = labels.reshape(-1, 1).float()
        colours = painting.reshape(3, -1).t()
        self.search_table = torch.cat([GUIDE_WEIGHT ** 0.5 * guide.reshape(3, -1).t(),
                                       COHERENCE_WEIGHT ** 0.5 * colours, label_column], 1).contiguous()
        vote = torch.cat([painting, torch.ones_like(painting[:1]), labels[None].float()], 0)
        vote = F.pad(vote, (VOTE_PAD,) * 4)
        vote[4] = F.pad(labels.float(), (VOTE_PAD,) * 4, value=-1.0)
        self.padded_width = self.width + 2 * VOTE_PAD
        self.vote_table = vote.reshape(5, -1).t().contiguous()
        flat = labels.reshape(-1)
        self.order = torch.argsort(flat, stable=True)
        self.counts = torch.bincount(flat, minlength=int(flat.max()) + 1)
        self.starts = torch.cumsum(self.counts, 0) - self.counts


class _RegionLabels:
    """The output's label ids at a level's size (nearest), read region by region: never made whole."""

    def __init__(self, full: torch.Tensor, height: int, width: int):
        self.full, self.shape = full, (height, width)
        self.rows = _nearest_rows(full.shape[0], height, full.device)
        self.columns = _nearest_rows(full.shape[1], width, full.device)

    def at(self, rows: torch.Tensor, columns: torch.Tensor) -> torch.Tensor:
        """The labels at every (row, column) pair: (len(rows), len(columns))."""
        rows, columns = rows.to(self.full.device), columns.to(self.full.device)
        if self.shape != tuple(self.full.shape):
            rows, columns = self.rows[rows], self.columns[columns]
        return self.full[rows[:, None], columns[None, :]]

    def __getitem__(self, region: tuple[slice, slice]) -> torch.Tensor:
        if self.shape == tuple(self.full.shape):
            return self.full[region]
        return self.full[self.rows[region[0]][:, None], self.columns[region[1]][None, :]]


class _Synthesis:
    def __init__(self, painting, painting_labels, target_labels, guide, params, initial, should_stop, device):
        self.params, self.initial, self.should_stop, self.device = params, initial, should_stop, device
        self.k, self.margin = params.patch_size, params.patch_size // 2
        # copies (the caller's arrays may be read-only); the output's labels in 32 bits
        self.painting = torch.tensor(painting, device=device).permute(2, 0, 1).float()
        self.painting_labels = torch.tensor(painting_labels, dtype=torch.int64, device=device)
        self.labels = torch.from_numpy(target_labels.astype(np.int32)).to(device)
        self.guide = torch.tensor(guide, device=device).permute(2, 0, 1).float()
        self.height, self.width = target_labels.shape
        self.sizes = _level_sizes(self.height, self.width, *self.painting.shape[-2:], params.levels)
        self.label_cost = LABEL_COST * params.gamma / 50.0
        self.steps = sum(self._passes(index) * len(self._tiles(*size)) for index, (size, _) in enumerate(self.sizes))
        self.done_steps = 0
        self.last_check = time.perf_counter()

    # --- schedule -------------------------------------------------------------------------------------
    def _iterations(self, index: int) -> int:
        if index == len(self.sizes) - 1:
            return self.params.fine_iterations
        return self.params.iterations or COARSE_ITERATIONS

    def _passes(self, index: int) -> int:
        """Tile passes at a level: the first vote, then a search and a vote per iteration."""
        return 1 + 2 * self._iterations(index)

    def _tiles(self, height: int, width: int) -> list[tuple[int, int, int, int]]:
        tile = self.params.tile
        return [(y, min(y + tile, height), x, min(x + tile, width))
                for y in range(0, height, tile) for x in range(0, width, tile)]

    def _check(self) -> None:
        if self.should_stop():
            raise _Stopped

    # --- run --------------------------------------------------------------------------------------------
    def run(self) -> Iterator[SynthesisProgress]:
        started = time.perf_counter()
        field = out = None
        previous = None
        try:
            for index, ((height, width), (paint_h, paint_w)) in enumerate(self.sizes):
                self._check()
                level = self._make_level(index, height, width, paint_h, paint_w)
                labels = self._level_labels(height, width)
                blur = self._guide_blur(width)
                guide = _resize(self.guide, (max(1, round(height / blur)), max(1, round(width / blur))))
                new_field = torch.empty(height, width, 2, dtype=torch.int32, device=self.device)
                new_out = torch.empty(height, width, 3, dtype=torch.uint8, device=self.device)
                tiles = self._tiles(height, width)
                for number, tile in enumerate(tiles):
                    self._check()
                    self._initial_tile(new_field, tile, labels, level, previous, index, number)
                field, out, previous = new_field, new_out, None
                passes = [("vote", 0)] + [(kind, it) for it in range(self._iterations(index))
                                          for kind in ("search", "vote")]
                for kind, iteration in passes:
                    for number, tile in enumerate(tiles):
                        self._check()
                        if kind == "vote":
                            self._vote_tile(field, out, tile, labels, level)
                        else:
                            self._search_tile(field, out, tile, labels, guide, level, index, iteration, number)
                        self.done_steps += 1
                        now = time.perf_counter()
                        fraction = self.done_steps / self.steps
                        last = self.done_steps == self.steps
                        yield SynthesisProgress(
                            step=self.done_steps, steps=self.steps, level=index + 1, levels=len(self.sizes),
                            elapsed=now - started, eta=(now - started) * (1 - fraction) / fraction, fraction=fraction,
                            image=out.cpu().numpy() if last else None,
                            field=field.cpu().numpy() if last else None, done=last)
                previous = (field, (paint_h, paint_w))
        except _Stopped:
            return
        except torch.OutOfMemoryError as error:
            raise DoodleError(f"out of GPU memory synthesising {self.width}x{self.height}: choose a smaller size, "
                              "a smaller tile, or the CPU") from error
        except RuntimeError as error:
            if "alloc" not in str(error).lower():
                raise
            raise DoodleError(f"out of memory synthesising {self.width}x{self.height}: choose a smaller size or "
                              "brush scale, or close other programs") from error

    def _make_level(self, index, height, width, paint_h, paint_w) -> _Level:
        painting = _resize(self.painting, (paint_h, paint_w))
        labels = self.painting_labels[_nearest_rows(self.painting_labels.shape[0], paint_h, self.device)][
            :, _nearest_rows(self.painting_labels.shape[1], paint_w, self.device)]
        return _Level(painting, labels, self._guide_blur(width))

    def _guide_blur(self, width: int) -> float:
        """How much coarser than the level the guide is compared: the working render's upscale factor, and at
        least MIN_GUIDE_BLUR, so that a soft guide (a decoder's picture) does not favour the painting's
        smoothest patches over its brush marks."""
        return max(MIN_GUIDE_BLUR, self.params.guide_cell * width / self.guide.shape[2])

    def _level_labels(self, height: int, width: int) -> "_RegionLabels":
        return _RegionLabels(self.labels, height, width)

    def _key(self, *parts: int) -> int:
        """A number for one random draw of the whole level (every tile draws the same)."""
        key = self.params.seed
        for part in parts:
            key = (key * 1_000_003 + part) % (2 ** 31 - 1)
        return key

    def _generator(self, *keys: int) -> torch.Generator:
        seed = self.params.seed
        for key in keys:
            seed = (seed * 1_000_003 + key) % (2 ** 61 - 1)
        return torch.Generator().manual_seed(seed)

    # --- field initialisation ----------------------------------------------------------------------------
    def _initial_tile(self, field, tile, labels, level: _Level, previous, index, number) -> None:
        """A tile of the level's first field: the coarser level's scaled up, else the given initial field,
        else block-wise random sources; any source outside the pixel's label replaced by a random one of it."""
        y0, y1, x0, x1 = tile
        ys = torch.arange(y0, y1, device=self.device)
        xs = torch.arange(x0, x1, device=self.device)
        tile_labels = labels[y0:y1, x0:x1].long()
        generator = self._generator(1, index, number)
        source = None
        if previous is not None:
            source = previous
        elif self.initial is not None:
            source = (torch.from_numpy(np.ascontiguousarray(self.initial.sources)).to(self.device),
                      tuple(self.initial.painting_size))
        if source is not None:
            coarse, (coarse_ph, coarse_pw) = source
            height, width = labels.shape
            rows = (ys + 0.5) * coarse.shape[0] / height
            columns = (xs + 0.5) * coarse.shape[1] / width
            cy, cx = rows.long().clamp_max(coarse.shape[0] - 1), columns.long().clamp_max(coarse.shape[1] - 1)
            picked = coarse[cy][:, cx].long()
            # within a coarse cell the source moves with the pixel (a coherent patch), scaled to this painting
            fy = ((picked[..., 0] + 0.5) * level.height / coarse_ph
                  + ((rows - cy - 0.5) * height / coarse.shape[0])[:, None]).floor()
            fx = ((picked[..., 1] + 0.5) * level.width / coarse_pw
                  + ((columns - cx - 0.5) * width / coarse.shape[1])[None, :]).floor()
            candidate = torch.stack([fy.clamp(0, level.height - 1), fx.clamp(0, level.width - 1)], -1).long()
        else:
            candidate = self._random_blocks(tile, labels, level, self._key(1, index))
        if self.params.gamma > 0:
            wrong = self._source_labels(candidate, level) != tile_labels
            if wrong.any():
                candidate[wrong] = self._random_sources(tile_labels[wrong], level, generator)
        field[y0:y1, x0:x1] = candidate.to(torch.int32)

    @staticmethod
    def _source_labels(sources: torch.Tensor, level: _Level) -> torch.Tensor:
        flat = sources[..., 0] * level.width + sources[..., 1]
        return level.search_table[flat.reshape(-1), 6].reshape(flat.shape).long()

    def _random_sources(self, labels: torch.Tensor, level: _Level, generator) -> torch.Tensor:
        """One random painting pixel of each given label ((N,) -> (N, 2)); any pixel when gamma is 0."""
        return self._sources_of(labels.long(), torch.rand(labels.shape, generator=generator).to(self.device), level)

    def _sources_of(self, labels: torch.Tensor, draw: torch.Tensor, level: _Level) -> torch.Tensor:
        """The painting pixel at quantile `draw` (0..1) among those of each label (of all, with gamma 0):
        (..., 2) for labels (...)."""
        if self.params.gamma > 0:
            pick = level.starts[labels] + (draw * level.counts[labels]).long().clamp_max(level.counts[labels] - 1)
            flat = level.order[pick]
        else:
            flat = (draw * level.height * level.width).long().clamp_max(level.height * level.width - 1)
        return torch.stack([flat // level.width, flat % level.width], -1)

    def _random_blocks(self, region, labels, level: _Level, key: int) -> torch.Tensor:
        """A random source per block (of the label of the block's first pixel), moving with the pixel inside
        the block: coherent patches. (h, w, 2) for the region (y0, y1, x0, x1)."""
        y0, y1, x0, x1 = region
        height, width = labels.shape
        rows, row_ids, row_phase = _blocks(y0, y1, 2 * key)
        columns, column_ids, column_phase = _blocks(x0, x1, 2 * key + 1)
        first_y = (row_ids * RANDOM_BLOCK - row_phase).clamp(0, height - 1)
        first_x = (column_ids * RANDOM_BLOCK - column_phase).clamp(0, width - 1)
        block_labels = labels.at(first_y, first_x).long()
        draw = _hashed_uniform(row_ids, column_ids, key).to(self.device)
        anchors = self._sources_of(block_labels, draw, level)
        row_index, column_index = rows - row_ids[0], columns - column_ids[0]
        sy = anchors[row_index][:, column_index, 0] + (torch.arange(y0, y1) - first_y[row_index])[:, None].to(self.device)
        sx = anchors[row_index][:, column_index, 1] + (torch.arange(x0, x1) - first_x[column_index])[None, :].to(self.device)
        return torch.stack([sy.clamp(0, level.height - 1), sx.clamp(0, level.width - 1)], -1)

    # --- search -------------------------------------------------------------------------------------------
    def _pixel_cost(self, sources: torch.Tensor, target: torch.Tensor, region_labels: torch.Tensor,
                    level: _Level) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Per pixel of a region, under the candidate `sources` (h, w, 2), inside the painting: the distance of
        its guide and colours to its source's, plus the label cost; and whether the source has the pixel's
        label (None when labels are off)."""
        flat = sources[..., 0] * level.width + sources[..., 1]
        rows = level.search_table.index_select(0, flat.reshape(-1)).reshape(*flat.shape, -1)
        cost = (rows[..., :6] - target).square_().sum(-1)
        if self.params.gamma <= 0:
            return cost, None
        same = rows[..., 6] == region_labels
        return cost.add_((~same).float(), alpha=self.label_cost), same

    def _box(self, cost: torch.Tensor) -> torch.Tensor:
        return F.avg_pool2d(cost[None, None], self.k, stride=1, padding=self.margin, count_include_pad=False)[0, 0]

    def _search_tile(self, field, out, tile, labels, guide, level: _Level, index, iteration, number) -> None:
        y0, y1, x0, x1 = tile
        height, width = labels.shape
        finest = index == len(self.sizes) - 1
        jumps = FINE_JUMPS if finest else COARSE_JUMPS
        # region: the tile and the margin its patches cover; big: the region and what propagation reads
        ry0, ry1, rx0, rx1 = max(0, y0 - self.margin), min(height, y1 + self.margin), \
            max(0, x0 - self.margin), min(width, x1 + self.margin)
        by0, bx0 = ry0 - max(jumps), rx0 - max(jumps)
        big = torch.full((ry1 - ry0 + 2 * max(jumps), rx1 - rx0 + 2 * max(jumps), 2), -(2 ** 30),
                         dtype=torch.int64, device=self.device)
        sy0, sy1, sx0, sx1 = max(0, by0), min(height, by0 + big.shape[0]), max(0, bx0), min(width, bx0 + big.shape[1])
        big[sy0 - by0:sy1 - by0, sx0 - bx0:sx1 - bx0] = field[sy0:sy1, sx0:sx1]
        region = (ry0, ry1, rx0, rx1)
        region_labels = labels[ry0:ry1, rx0:rx1].float()
        target = torch.cat([GUIDE_WEIGHT ** 0.5 * self._guide_region(guide, region, height, width),
                            COHERENCE_WEIGHT ** 0.5 * out[ry0:ry1, rx0:rx1].float()], -1)
        pad = max(jumps)
        current = big[pad:pad + ry1 - ry0, pad:pad + rx1 - rx0].clone()
        inner = (slice(y0 - ry0, y1 - ry0), slice(x0 - rx0, x1 - rx0))
        best = self._box(self._pixel_cost(current, target, region_labels, level)[0])[inner]
        sources = current[inner].clone()

        def consider(candidate: torch.Tensor) -> None:
            """Take the candidate's source wherever its patch costs less (and has the pixel's label)."""
            nonlocal best, sources
            self._check_often()
            cost, same = self._pixel_cost(candidate, target, region_labels, level)
            cost = self._box(cost)[inner]
            better = cost < best
            if same is not None:
                better &= same[inner]
            # where, not a boolean mask: a masked copy's size depends on the data, a wait for the GPU each time
            sources = torch.where(better[..., None], candidate[inner], sources)
            best = torch.where(better, cost, best)

        for jump in jumps:
            for dy, dx in ((jump, 0), (-jump, 0), (0, jump), (0, -jump)):
                # a neighbour's source, moved back by the neighbour's offset: its patch continued
                shifted = big[pad + dy:pad + dy + ry1 - ry0, pad + dx:pad + dx + rx1 - rx0]
                moved = torch.stack([shifted[..., 0] - dy, shifted[..., 1] - dx], -1)   # no upload of the offset
                consider(_clamped(torch.where(shifted[..., :1] < 0, current, moved), level))
        radii = FINE_RADII if finest else _halving_radii(max(level.height, level.width) // 2)
        for number, radius in enumerate(radii):
            consider(_clamped(current + self._block_offsets(region, radius, self._key(2, index, iteration, number)),
                              level))
        if not finest:
            consider(self._random_blocks(region, labels, level, self._key(3, index, iteration)))
        field[y0:y1, x0:x1] = sources.to(torch.int32)

    def _block_offsets(self, region, radius: int, key: int) -> torch.Tensor:
        """The same random offset, up to `radius` either way, for every pixel of a block: (h, w, 2)."""
        y0, y1, x0, x1 = region
        offsets = []
        for axis in range(2):
            rows, row_ids, _ = _blocks(y0, y1, 4 * key)
            columns, column_ids, _ = _blocks(x0, x1, 4 * key + 1)
            draw = _hashed_uniform(row_ids, column_ids, 4 * key + 2 + axis)
            offset = (draw * (2 * radius + 1)).long() - radius
            offsets.append(offset[rows - row_ids[0]][:, columns - column_ids[0]])
        return torch.stack(offsets, -1).to(self.device)

    def _guide_region(self, guide: torch.Tensor, region, height: int, width: int) -> torch.Tensor:
        """The working render resampled (bilinear) to this level's pixels in `region`: (h, w, 3)."""
        y0, y1, x0, x1 = region
        if guide.shape[-2:] == (height, width):
            return guide[:, y0:y1, x0:x1].permute(1, 2, 0)
        ys = (torch.arange(y0, y1, device=self.device) + 0.5) / height * 2 - 1
        xs = (torch.arange(x0, x1, device=self.device) + 0.5) / width * 2 - 1
        grid = torch.stack(torch.meshgrid(xs, ys, indexing="xy"), -1)[None].float()
        return F.grid_sample(guide[None], grid, mode="bilinear", padding_mode="border",
                             align_corners=False)[0].permute(1, 2, 0)

    def _check_often(self) -> None:
        now = time.perf_counter()
        if now - self.last_check > 0.2:
            self.last_check = now
            self._check()

    # --- vote ---------------------------------------------------------------------------------------------
    def _vote_tile(self, field, out, tile, labels, level: _Level) -> None:
        """Each pixel of the tile: the mean of what the k x k patches covering it take from the painting,
        counting only sources of its own label (with gamma > 0; any source in the painting with gamma 0)."""
        y0, y1, x0, x1 = tile
        height, width = labels.shape
        m = self.margin
        ry0, ry1, rx0, rx1 = max(0, y0 - m), min(height, y1 + m), max(0, x0 - m), min(width, x1 + m)
        # the sources of the patches around the tile, as rows of the padded table; outside the output none
        region = field[ry0:ry1, rx0:rx1].long()
        flat = F.pad(((region[..., 0] + VOTE_PAD) * level.padded_width + region[..., 1] + VOTE_PAD)[None],
                     (m - (x0 - rx0), m - (rx1 - x1), m - (y0 - ry0), m - (ry1 - y1)), value=-1)[0]
        inside = flat >= 0
        flat[~inside] = VOTE_PAD * level.padded_width + VOTE_PAD     # any source: what it gives is not counted
        tile_labels = labels[y0:y1, x0:x1].float()
        total = torch.zeros(y1 - y0, x1 - x0, 4, device=self.device)
        for dy in range(-m, m + 1):
            for dx in range(-m, m + 1):
                # the patch centred at p - (dy, dx) puts its source + (dy, dx) on p
                window = (slice(m - dy, m - dy + y1 - y0), slice(m - dx, m - dx + x1 - x0))
                rows = level.vote_table.index_select(0, (flat[window] + (dy * level.padded_width + dx)).reshape(-1))
                rows = rows.reshape(y1 - y0, x1 - x0, 5)
                valid = rows[..., 4] == tile_labels if self.params.gamma > 0 else rows[..., 4] >= 0
                total.addcmul_(rows[..., :4], (valid & inside[window]).float()[..., None],
                               value=vote_weight(dy, dx, self.params.vote_sigma))
        out[y0:y1, x0:x1] = (total[..., :3] / total[..., 3:].clamp_min(1)).round_().clamp_(0, 255).to(torch.uint8)


# --- the last step of a render: its picture copied crisp from the painting at the render's own scale ----------
CRISP_PATCH_SIZE = 5


def crisp_picture(request, plan, image: torch.Tensor, initial: InitialField | None = None,
                  should_stop: Callable[[], bool] | None = None) -> torch.Tensor | None:
    """A render's picture (1, 3, H, W) float 0..255 at `plan`'s size, synthesised again from the painting's own
    pixels at the scale the render used (plan.style_width x style_height), guided by the picture itself: the
    painting's marks instead of a decoder's or an optimiser's softer ones. Given the render's own
    correspondence (`initial`), one vote along it; else coarse to fine from random sources. None if stopped."""
    if request.params.beta == 0:        # the painting's weight off: nothing of it to copy
        return image
    painting = image.new_tensor(request.style).permute(2, 0, 1)[None]
    if (plan.style_height, plan.style_width) != tuple(painting.shape[-2:]):
        painting = F.interpolate(painting, size=(plan.style_height, plan.style_width), mode="bicubic",
                                 align_corners=False, antialias=True)
    painting = painting[0].permute(1, 2, 0).round().clamp(0, 255).to(torch.uint8).cpu().numpy()
    painting_labels = resize_nearest(request.style_labels, plan.style_width, plan.style_height)
    target = resize_nearest(request.target_labels, plan.width, plan.height)
    guide = image[0].permute(1, 2, 0).round().clamp(0, 255).to(torch.uint8).cpu().numpy()
    # Along a field the render chose by its features, one vote is crisper than any search from it, and each
    # search from it softer again (BENCHMARKS.md, Figures behind constants).
    params = SynthesisParams(gamma=request.params.gamma, patch_size=CRISP_PATCH_SIZE, seed=request.params.seed,
                             levels=1 if initial is not None else None,
                             fine_iterations=0 if initial is not None else FINE_ITERATIONS)
    try:
        check_inputs(painting, painting_labels, target, guide, params)
    except DoodleError:         # a picture too small to copy patches into stays as it is
        return image
    try:
        result, _ = synthesise_image(painting, painting_labels, target, guide, params, initial=initial,
                                     should_stop=should_stop, device=image.device)
    except Cancelled:
        return None
    return image.new_tensor(result).permute(2, 0, 1)[None]
