"""The render loop: coarse-to-fine phases of L-BFGS on the output's pixels, yielding progress.

`run_transfer` is a generator: one `Progress` per optimiser round (a patch re-match followed by
`match_every` L-BFGS iterations), so the caller can show previews, report, or stop. It checks
`should_stop` between rounds and inside every function evaluation, and frees GPU memory on the way out.
"""
from __future__ import annotations

import importlib
import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from doodlepaint.engine.cache import fingerprint, style_cache
from doodlepaint.engine.errors import Cancelled, DoodleError, GPUMemoryError, LabelMapError
from doodlepaint.engine.gram import GRAM_LAYERS, GramStyle
from doodlepaint.engine.labels import check_shared_labels
from doodlepaint.engine.params import MAX_SIZE, Progress, TransferRequest
from doodlepaint.engine.patch import PatchStyle
from doodlepaint.engine.synthesis import crisp_picture
from doodlepaint.engine.vgg import get_encoder

PATCH_LAYERS = ("relu3_1", "relu4_1")
CONTENT_LAYER = "relu4_2"
# Patches at relu3_1/relu4_1 leave colour loose: a region whose features match its label's patches can
# still drift towards a neighbour's colours (sky painted where the painting has none turned grey-green).
# Each label's colour statistics, a masked Gram at relu1_1, pin it: fidelity 0.48 -> 0.64 on such a case.
COLOUR_LAYER = "relu1_1"
COLOUR_WEIGHT = 20.0
COLOUR_POOL = 2       # colour statistics need no full resolution: half the size is a quarter of the cost
GRAM_SCALE = 1e3      # puts the relative Gram error on the patch loss's scale, so one beta suits both
NOISE_RANGE = (16.0, 240.0)
RANGE_WEIGHT = 1e3    # pixels outside 0..255 cost this much per squared unit
MATCH_PIXELS = 150_000  # fitted to CPU phase times of the 512 px sample render (8.8 / 37 / 128 s)
# The painting is used at the doodle's scale, but with at most this many times the output's pixels: a big
# painting beside a small doodle would cost quadratically more matching for texture finer than the canvas.
MAX_STYLE_AREA = 2.0
COLOUR_NOISE = 48.0   # amplitude of the noise over the label colours: enough to seed texture, little enough to vanish


class _Stop(Exception):
    pass


@dataclass(frozen=True)
class PhasePlan:
    width: int
    height: int
    style_width: int
    style_height: int
    iterations: int


def phase_work(plan: PhasePlan, method: str) -> float:
    """A phase's cost in relative units, for progress and ETA: the network's cost grows with the pixels,
    patch matching's with pixels x style pixels, and matching dominates beyond MATCH_PIXELS."""
    pixels = plan.width * plan.height
    matching = plan.style_width * plan.style_height / MATCH_PIXELS if method == "patch" else 0.0
    return plan.iterations * pixels * (1.0 + matching)


def output_size(request: TransferRequest) -> tuple[int, int]:
    height, width = request.target_labels.shape
    if request.params.size is None:
        return width, height
    return request.params.size, max(16, round(height * request.params.size / width))


def minimum_side(params) -> int:
    """The smallest image side whose deepest style layer (1/8, 1/4 or 1/16 scale) still holds a patch."""
    return {"patch": 8, "swap": 4}.get(params.method, 0) * (params.patch_size + 1) or 16


def plan_phases(request: TransferRequest) -> list[PhasePlan]:
    """Coarse to fine, each phase twice the size of the last; phases too small to hold a patch are skipped."""
    params = request.params
    width, height = output_size(request)
    scale = width / request.target_labels.shape[1]
    style_pixels = request.style.shape[0] * request.style.shape[1]
    scale = min(scale, math.sqrt(MAX_STYLE_AREA * width * height / style_pixels))
    style_w, style_h = request.style.shape[1] * scale, request.style.shape[0] * scale
    smallest = minimum_side(params)
    if min(width, height, style_w, style_h) < smallest:
        raise DoodleError(f"at {width}x{height} the images are too small for this method and patch size: "
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


def validate(request: TransferRequest) -> None:
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
    if request.params.init == "content" and request.content is None:
        raise DoodleError("init 'content' needs a content image")
    if request.params.init == "image" and request.init_image is None:
        raise DoodleError("init 'image' needs an initial image")
    if request.params.init == "instant" and request.params.method not in ("patch", "gram"):
        raise DoodleError(f"init 'instant' refines with an optimisation method (patch or gram), not {request.params.method}")


def _image_tensor(rgb: np.ndarray, width: int, height: int, device) -> torch.Tensor:
    t = torch.from_numpy(np.ascontiguousarray(rgb)).to(device=device, dtype=torch.float32)
    t = t.permute(2, 0, 1)[None]
    if t.shape[-2:] != (height, width):
        t = F.interpolate(t, size=(height, width), mode="bicubic", align_corners=False, antialias=True)
    return t.clamp(0, 255)


def _label_masks(ids: np.ndarray, labels: int, width: int, height: int, device) -> torch.Tensor:
    """One soft mask per label at (height, width): area-averaged one-hot, so borders blend."""
    ids = torch.from_numpy(ids).to(device)
    one_hot = torch.stack([ids == label for label in range(labels)])[None].float()
    return F.interpolate(one_hot, size=(height, width), mode="area")


def _pool_to(masks: torch.Tensor, features: torch.Tensor) -> torch.Tensor:
    return F.adaptive_avg_pool2d(masks, features.shape[-2:])


def _frame(x: torch.Tensor) -> np.ndarray:
    # clamp makes a new tensor, so the array never aliases the image being optimised
    return x.detach()[0].clamp(0, 255).round().to(torch.uint8).permute(1, 2, 0).contiguous().cpu().numpy()


def _smoothness(x: torch.Tensor) -> torch.Tensor:
    dx = x[:, :, :-1, :-1] - x[:, :, 1:, :-1]
    dy = x[:, :, :-1, :-1] - x[:, :, :-1, 1:]
    return ((dx ** 2 + dy ** 2 + 1e-8) ** 1.25).mean()


def _initial(request: TransferRequest, plan: PhasePlan, generator: torch.Generator, device,
             noise: float = COLOUR_NOISE, instant: torch.Tensor | None = None, init: str | None = None) -> torch.Tensor:
    init = init or request.params.init
    if init == "instant":
        return F.interpolate(instant, size=(plan.height, plan.width), mode="bilinear", antialias=True,
                             align_corners=False).clamp(0, 255)
    if init == "auto":
        # With gamma 0 the labels are off, so they do not colour the seed either.
        init = "content" if request.content is not None else "colours" if request.params.gamma > 0 else "noise"
    if init == "content":
        return _image_tensor(request.content, plan.width, plan.height, device)
    if init == "image":
        return _image_tensor(request.init_image, plan.width, plan.height, device)
    uniform = torch.rand(1, 3, plan.height, plan.width, generator=generator)
    if init == "noise":
        return (NOISE_RANGE[0] + uniform * (NOISE_RANGE[1] - NOISE_RANGE[0])).to(device)
    # Starting each region from its label's average style colour leaves the optimiser only texture to
    # find, not colour: it converges in fewer steps than from grey noise.
    return (_label_colour_image(request, plan) + (uniform - 0.5) * noise).clamp(0, 255).to(device)


def _label_colour_image(request: TransferRequest, plan: PhasePlan) -> torch.Tensor:
    labels = len(request.palette)
    style = torch.from_numpy(request.style.reshape(-1, 3)).double()
    ids = torch.from_numpy(request.style_labels.reshape(-1))
    counts = torch.bincount(ids, minlength=labels).clamp_min(1).double()
    means = torch.zeros(labels, 3, dtype=torch.float64).index_add_(0, ids, style) / counts[:, None]
    masks = _label_masks(request.target_labels, labels, plan.width, plan.height, "cpu")[0]   # (K, H, W)
    return torch.einsum("khw,kc->chw", masks, means.float())[None]


class _Objective:
    """The loss of one phase: style (patch or Gram; the patch method adds each label's colour
    statistics) + content + smoothness."""

    def __init__(self, request: TransferRequest, plan: PhasePlan, encoder, device):
        params = request.params
        self.params, self.encoder = params, encoder
        self.target_masks = _label_masks(request.target_labels, len(request.palette), plan.width, plan.height, device)
        if params.gamma == 0:  # semantics off: one Gram over the whole image (patch matching ignores labels)
            self.target_masks = self.target_masks.new_ones(1, 1, 1, 1)
        self.style_layers = GRAM_LAYERS if params.method == "gram" else PATCH_LAYERS
        colour_layers = (COLOUR_LAYER,) if params.method == "patch" else ()
        self.use_content = request.content is not None and params.alpha > 0
        self.layers = self.style_layers + colour_layers + ((CONTENT_LAYER,) if self.use_content else ())
        self.masks = {}
        used = np.unique(request.target_labels) if params.gamma > 0 else np.zeros(1, np.int64)
        key = ("optimise", fingerprint(request.style, request.style_labels, request.palette), plan.style_width,
               plan.style_height, params.method, params.patch_size, params.gamma, params.style_stride,
               tuple(used.tolist()), str(device), encoder)
        self.styles, self.colour = style_cache.get(
            key, lambda: self._style_terms(request, plan, encoder, device, colour_layers, used))
        # cached patch banks keep their retry notices: report only this render's
        self._retries_seen = {layer: len(getattr(style, "retries", [])) for layer, style in self.styles.items()}
        if self.use_content:
            content = _image_tensor(request.content, plan.width, plan.height, device)
            with torch.no_grad():
                self.content = encoder(content, (CONTENT_LAYER,))[CONTENT_LAYER]
        self.matches: dict[str, torch.Tensor] = {}
        self.rematch_pending = True

    def _style_terms(self, request, plan, encoder, device, colour_layers, used_labels):
        """The painting's side of the loss (patch banks or Grams per layer, colour statistics): the same for
        every render of this painting at this size, so it is built once and cached."""
        params = self.params
        style = _image_tensor(request.style, plan.style_width, plan.style_height, device)
        style_masks = _label_masks(request.style_labels, len(request.palette), plan.style_width, plan.style_height,
                                   device)
        if params.gamma == 0:
            style_masks = style_masks.new_ones(1, 1, 1, 1)
        used = torch.from_numpy(used_labels).to(device)
        with torch.no_grad():
            style_features = encoder(style, self.style_layers + colour_layers)
        styles, colour = {}, None
        for layer, features in style_features.items():
            if layer == COLOUR_LAYER and params.method == "patch":
                features = F.avg_pool2d(features, COLOUR_POOL)
                colour = GramStyle(features, _pool_to(style_masks, features), used)
            elif params.method == "gram":
                styles[layer] = GramStyle(features, _pool_to(style_masks, features), used)
            else:
                styles[layer] = PatchStyle(features, _pool_to(style_masks, features), params.patch_size,
                                           params.gamma, params.style_stride)
        return styles, colour

    def target_masks_for(self, features: torch.Tensor) -> torch.Tensor:
        key = tuple(features.shape[-2:])
        if key not in self.masks:
            self.masks[key] = _pool_to(self.target_masks, features)
        return self.masks[key]

    def rematch(self) -> None:
        """Match patches again at the next evaluation, on the features it computes anyway."""
        self.rematch_pending = True

    @torch.no_grad()
    def _match(self, features: dict[str, torch.Tensor]) -> None:
        for layer, style in self.styles.items():
            self.matches[layer] = style.match(features[layer], self.target_masks_for(features[layer]))
        self.rematch_pending = False

    def retries(self) -> list[str]:
        return [m for layer, style in self.styles.items()
                for m in getattr(style, "retries", [])[self._retries_seen[layer]:]]

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        # No clamp here: a clamped pixel gets no gradient and L-BFGS would leave it stuck at 0 or 255.
        # The range penalty pulls strays back; run_transfer projects onto 0..255 after every round.
        image = x
        features = self.encoder(image, self.layers)
        if self.params.method == "patch" and self.rematch_pending:
            self._match(features)
        style_loss = 0.0
        for layer, style in self.styles.items():
            if self.params.method == "gram":
                style_loss = style_loss + GRAM_SCALE * style.loss(features[layer], self.target_masks_for(features[layer]))
            else:
                style_loss = style_loss + style.loss(features[layer], self.matches[layer])
        if self.colour is not None:
            colour = F.avg_pool2d(features[COLOUR_LAYER], COLOUR_POOL)
            style_loss = style_loss + COLOUR_WEIGHT * GRAM_SCALE * self.colour.loss(colour, self.target_masks_for(colour))
        loss = (self.params.beta * style_loss + self.params.smoothness * _smoothness(image)
                + RANGE_WEIGHT * ((image - 255).relu() ** 2 + (-image).relu() ** 2).mean())
        if self.use_content:
            loss = loss + self.params.alpha * F.mse_loss(features[CONTENT_LAYER], self.content)
        return loss


# The methods that are not an optimisation of the pixels: each a generator with run_transfer's signature,
# in a module of its own, imported when first used.
FEED_FORWARD = {"swap": ("doodlepaint.engine.swap", "run_swap"), "sanet": ("doodlepaint.engine.sanet", "run_sanet")}


def run_transfer(request: TransferRequest, should_stop: Callable[[], bool] | None = None,
                 device: torch.device | str = "cpu", preview_interval: float = 0.5,
                 encoder=None) -> Iterator[Progress]:
    """Render `request`, yielding Progress (one per optimiser round, or one per feed-forward pass); frames
    every `preview_interval` s."""
    should_stop = should_stop or (lambda: False)
    validate(request)
    device = torch.device(device)
    if request.params.method in FEED_FORWARD:
        module, name = FEED_FORWARD[request.params.method]
        runner = getattr(importlib.import_module(module), name)
        try:
            yield from runner(request, should_stop, device, preview_interval, encoder)
        except torch.OutOfMemoryError as error:
            width, height = output_size(request)
            raise GPUMemoryError(f"out of GPU memory rendering {width}x{height} on {device}: choose a smaller "
                                 "size or render on the CPU") from error
        return
    yield from _optimise(request, should_stop, device, preview_interval, encoder)


def _optimise(request: TransferRequest, should_stop: Callable[[], bool], device: torch.device,
              preview_interval: float, encoder) -> Iterator[Progress]:
    """Coarse-to-fine L-BFGS on the output's pixels (the patch and Gram methods)."""
    params = request.params
    started = time.perf_counter()
    encoder = encoder or get_encoder(device)
    plans = plan_phases(request)
    work = [phase_work(plan, params.method) for plan in plans]
    generator = torch.Generator().manual_seed(params.seed)
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    phase_seconds: list[float] = []
    x = None
    last_frame_at = -math.inf
    total_steps, total_done, evaluations = sum(plan.iterations for plan in plans), 0, 0
    instant = None
    try:
        if params.init == "instant":
            from doodlepaint.engine.swap import swap_image

            instant = swap_image(request, plans[-1], encoder, device, generator)
            now = time.perf_counter()
            yield Progress(phase=1, phases=len(plans), step=0, steps=plans[0].iterations, total_step=0,
                           total_steps=total_steps, loss=0.0, elapsed=now - started, eta=0.0, frame=_frame(instant),
                           stage="instant")
            last_frame_at = now
        for index, plan in enumerate(plans):
            phase_started = time.perf_counter()
            if x is None:
                x = _initial(request, plan, generator, device, instant=instant)
            else:
                x = F.interpolate(x, size=(plan.height, plan.width), mode="bicubic", align_corners=False).clamp(0, 255)
            x = x.detach().contiguous().requires_grad_(True)
            objective = _Objective(request, plan, encoder, device)
            optimiser = torch.optim.LBFGS([x], lr=1.0, max_iter=params.match_every, history_size=5,
                                          tolerance_grad=0.0, tolerance_change=0.0, line_search_fn="strong_wolfe")

            def closure():
                nonlocal evaluations
                if should_stop():
                    raise _Stop
                evaluations += 1
                optimiser.zero_grad()
                loss = objective(x)
                loss.backward()
                return loss

            done = 0
            while done < plan.iterations:
                if should_stop():
                    raise _Stop
                objective.rematch()
                wanted = min(params.match_every, plan.iterations - done)
                # torch caps evaluations at 1.25 x max_iter, which with the round's first evaluation
                # cut a 3-step round to 2 steps; leave room for line-search retries instead.
                optimiser.param_groups[0].update(max_iter=wanted, max_eval=2 * wanted + 1)
                iterations_before = optimiser.state[x].get("n_iter", 0) if x in optimiser.state else 0
                loss = float(optimiser.step(closure).detach())
                with torch.no_grad():
                    x.clamp_(0, 255)
                step_iterations = max(1, optimiser.state[x]["n_iter"] - iterations_before)
                done += step_iterations
                total_done += step_iterations
                now = time.perf_counter()
                finished_phase = done >= plan.iterations
                if finished_phase:
                    phase_seconds.append(now - phase_started)
                last = finished_phase and index == len(plans) - 1
                if last:        # every render ends crisp: its picture copied from the painting's own marks
                    x = crisp_picture(request, plan, x.detach(), should_stop=should_stop)
                    if x is None:
                        raise _Stop
                completed = sum(work[:index]) + work[index] * done / plan.iterations
                fraction = min(1.0, completed / sum(work))
                eta = (now - started) * (1 - fraction) / max(fraction, 1e-9)
                frame = None
                if last or finished_phase or now - last_frame_at >= preview_interval:
                    frame, last_frame_at = _frame(x), now
                yield Progress(
                    phase=index + 1, phases=len(plans), step=done, steps=plan.iterations,
                    total_step=total_done, total_steps=total_steps, loss=loss, elapsed=now - started,
                    eta=0.0 if last else eta, fraction=1.0 if last else fraction, frame=frame, done=last,
                    message="; ".join(objective.retries()),
                    phase_seconds=tuple(phase_seconds), evaluations=evaluations,
                    peak_memory=torch.cuda.max_memory_allocated(device) if device.type == "cuda" else 0)
            with torch.no_grad():
                x = x.detach().clamp(0, 255)
            del objective, optimiser
    except _Stop:
        return
    except torch.OutOfMemoryError as error:
        width, height = output_size(request)
        raise GPUMemoryError(f"out of GPU memory rendering {width}x{height} on {device}: choose a smaller "
                             "size or render on the CPU") from error
    finally:
        x = None
        if device.type == "cuda":
            torch.cuda.empty_cache()


def render(request: TransferRequest, device: torch.device | str = "cpu",
           should_stop: Callable[[], bool] | None = None) -> tuple[np.ndarray, Progress]:
    """Run a whole render; returns the final image and the last progress. Raises Cancelled if stopped."""
    last = None
    for progress in run_transfer(request, should_stop, device, preview_interval=math.inf):
        last = progress
    if last is None or not last.done:
        raise Cancelled("the render was stopped")
    return last.frame, last
