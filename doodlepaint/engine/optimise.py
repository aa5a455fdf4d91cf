"""The optimisation methods' render: coarse-to-fine phases of L-BFGS on the output's pixels.

An `Optimisation` is a method made of style loss terms (engine/terms.py: patches, Grams, colour); what
every optimisation shares is here: the content term, smoothness, the range penalty, the phases, the
optimiser, progress. The loss is the terms' sum, with no branch per method. One `Progress` comes per
optimiser round (a patch re-match followed by `match_every` L-BFGS iterations), so the caller can show
previews, report, or stop; `should_stop` is checked between rounds and inside every function evaluation.
"""
from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator

import numpy as np
import torch
import torch.nn.functional as F

from doodlepaint.engine.cache import fingerprint, style_cache
from doodlepaint.engine.device import peak_memory, reset_peak_memory
from doodlepaint.engine.method import Method, RenderContext
from doodlepaint.engine.params import Progress, TransferRequest
from doodlepaint.engine.plan import PhasePlan, plan_phases
from doodlepaint.engine.seeds import initial_image
from doodlepaint.engine.swap import swap_image
from doodlepaint.engine.synthesis import crisp_picture
from doodlepaint.engine.tensors import frame_array, image_tensor, label_masks, pool_to

CONTENT_LAYER = "relu4_2"
RANGE_WEIGHT = 1e3    # pixels outside 0..255 cost this much per squared unit
# The painting pixels at which patch matching costs a phase as much as the network does: progress and the ETA
# weigh phases by it (fitted to a render's phase times: BENCHMARKS.md, Figures behind constants).
MATCH_PIXELS = 150_000


class _Stop(Exception):
    pass


class StyleTerm:
    """One part of the style loss. The painting's side (`build`, from the painting's features at the phase's
    size) is cached per painting; an instance holds one phase's side and evaluates the output's features."""

    layers: tuple[str, ...] = ()
    matches_patches = False           # its cost grows with the painting's pixels too (for progress and ETA)

    @classmethod
    def build(cls, features: dict[str, torch.Tensor], masks: torch.Tensor, used: torch.Tensor, params):
        """The painting's side, from its features and its label masks at the phase's size."""
        raise NotImplementedError

    def __init__(self, painting):
        self.painting = painting

    def rematch(self) -> None:
        """A new optimiser round begins (terms that match patches match again)."""

    def retries(self) -> list[str]:
        """Notices of automatic retries (smaller chunks after running out of memory) in this render."""
        return []

    def loss(self, features: dict[str, torch.Tensor], masks_for: Callable[[torch.Tensor], torch.Tensor]):
        raise NotImplementedError


def phase_work(plan: PhasePlan, matches_patches: bool) -> float:
    """A phase's cost in relative units, for progress and ETA: the network's cost grows with the pixels,
    patch matching's with pixels x style pixels, and matching dominates beyond MATCH_PIXELS."""
    pixels = plan.width * plan.height
    matching = plan.style_width * plan.style_height / MATCH_PIXELS if matches_patches else 0.0
    return plan.iterations * pixels * (1.0 + matching)


def smoothness(x: torch.Tensor) -> torch.Tensor:
    dx = x[:, :, :-1, :-1] - x[:, :, 1:, :-1]
    dy = x[:, :, :-1, :-1] - x[:, :, :-1, 1:]
    return ((dx ** 2 + dy ** 2 + 1e-8) ** 1.25).mean()


class Objective:
    """The loss of one phase: the style terms + content + smoothness + the range penalty."""

    def __init__(self, request: TransferRequest, plan: PhasePlan, encoder, device,
                 term_types: tuple[type[StyleTerm], ...]):
        params = request.params
        self.params, self.encoder = params, encoder
        self.target_masks = label_masks(request.target_labels, len(request.palette), plan.width, plan.height, device)
        if params.gamma == 0:  # semantics off: one set of statistics for the whole image (matching ignores labels)
            self.target_masks = self.target_masks.new_ones(1, 1, 1, 1)
        self.use_content = request.content is not None and params.alpha > 0
        style_layers = tuple(dict.fromkeys(layer for term in term_types for layer in term.layers))
        self.layers = style_layers + ((CONTENT_LAYER,) if self.use_content else ())
        self._masks: dict[tuple[int, int], torch.Tensor] = {}
        used = np.unique(request.target_labels) if params.gamma > 0 else np.zeros(1, np.int64)
        key = ("optimise", fingerprint(request.style, request.style_labels, request.palette), plan.style_width,
               plan.style_height, tuple(term.__name__ for term in term_types), params.patch_size, params.gamma,
               params.style_stride, tuple(used.tolist()), str(device), encoder)
        paintings = style_cache.get(key, lambda: self._paintings(request, plan, device, term_types, style_layers,
                                                                 used))
        self.terms = [term(painting) for term, painting in zip(term_types, paintings)]
        # cached patch banks keep their retry notices: report only this render's
        self._retries_seen = [len(term.retries()) for term in self.terms]
        if self.use_content:
            content = image_tensor(request.content, plan.width, plan.height, device)
            with torch.no_grad():
                self.content = encoder(content, (CONTENT_LAYER,))[CONTENT_LAYER]

    def _paintings(self, request, plan, device, term_types, style_layers, used_labels) -> list:
        """Each term's side of the painting: the same for every render of this painting at this size, so it
        is built once and cached."""
        style = image_tensor(request.style, plan.style_width, plan.style_height, device)
        style_masks = label_masks(request.style_labels, len(request.palette), plan.style_width, plan.style_height,
                                  device)
        if self.params.gamma == 0:
            style_masks = style_masks.new_ones(1, 1, 1, 1)
        used = torch.from_numpy(used_labels).to(device)
        with torch.no_grad():
            features = self.encoder(style, style_layers)
            return [term.build(features, style_masks, used, self.params) for term in term_types]

    def masks_for(self, features: torch.Tensor) -> torch.Tensor:
        """The output's label masks at a feature map's resolution (pooled once per size)."""
        key = tuple(features.shape[-2:])
        if key not in self._masks:
            self._masks[key] = pool_to(self.target_masks, features)
        return self._masks[key]

    def rematch(self) -> None:
        for term in self.terms:
            term.rematch()

    def retries(self) -> list[str]:
        return [notice for term, seen in zip(self.terms, self._retries_seen) for notice in term.retries()[seen:]]

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        # No clamp here: a clamped pixel gets no gradient and L-BFGS would leave it stuck at 0 or 255.
        # The range penalty pulls strays back; the render projects onto 0..255 after every round.
        features = self.encoder(x, self.layers)
        style_loss = sum(term.loss(features, self.masks_for) for term in self.terms)
        loss = (self.params.beta * style_loss + self.params.smoothness * smoothness(x)
                + RANGE_WEIGHT * ((x - 255).relu() ** 2 + (-x).relu() ** 2).mean())
        if self.use_content:
            loss = loss + self.params.alpha * F.mse_loss(features[CONTENT_LAYER], self.content)
        return loss


class Optimisation(Method):
    """A method that optimises the output's pixels against a sum of style terms (and content, smoothness)."""

    def __init__(self, name: str, terms: tuple[type[StyleTerm], ...]):
        self.name, self.terms = name, terms

    def prepare(self, request: TransferRequest, plan: PhasePlan, context: RenderContext) -> Objective:
        return Objective(request, plan, context.encoder(), context.device, self.terms)

    def render(self, request: TransferRequest, context: RenderContext) -> Iterator[Progress]:
        try:
            yield from self._phases(request, context)
        except _Stop:
            return

    def _phases(self, request: TransferRequest, context: RenderContext) -> Iterator[Progress]:
        params, device, should_stop = request.params, context.device, context.should_stop
        started = time.perf_counter()
        plans = plan_phases(request)
        matches = any(term.matches_patches for term in self.terms)
        work = [phase_work(plan, matches) for plan in plans]
        generator = torch.Generator().manual_seed(params.seed)
        reset_peak_memory(device)
        phase_seconds: list[float] = []
        x = None
        last_frame_at = -math.inf
        total_steps, total_done, evaluations = sum(plan.iterations for plan in plans), 0, 0
        instant = None
        if params.init == "instant":
            instant = swap_image(request, plans[-1], context.encoder(), device, generator)
            now = time.perf_counter()
            yield Progress(phase=1, phases=len(plans), step=0, steps=plans[0].iterations, total_step=0,
                           total_steps=total_steps, loss=0.0, elapsed=now - started, eta=0.0,
                           frame=frame_array(instant), stage="instant")
            last_frame_at = now
        for index, plan in enumerate(plans):
            phase_started = time.perf_counter()
            if x is None:
                x = initial_image(request, plan, generator, device, instant=instant)
            else:
                x = F.interpolate(x, size=(plan.height, plan.width), mode="bicubic", align_corners=False).clamp(0, 255)
            x = x.detach().contiguous().requires_grad_(True)
            objective = self.prepare(request, plan, context)
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

            done, loss = 0, None
            while done < plan.iterations:
                if should_stop():
                    raise _Stop
                objective.rematch()
                wanted = min(params.match_every, plan.iterations - done)
                # torch caps evaluations at 1.25 x max_iter, which with the round's first evaluation
                # cut a 3-step round to 2 steps; leave room for line-search retries instead.
                optimiser.param_groups[0].update(max_iter=wanted, max_eval=2 * wanted + 1)
                iterations_before = optimiser.state[x].get("n_iter", 0) if x in optimiser.state else 0
                round_loss = optimiser.step(closure).detach()
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
                if last or finished_phase or now - last_frame_at >= context.preview_interval:
                    frame, last_frame_at = frame_array(x), now
                # On a GPU, reading the loss makes the host wait for the device: it is read with each frame
                # (which waits anyway) and on a phase's first round, and the last value read is reported between.
                if frame is not None or loss is None:
                    loss = float(round_loss)
                yield Progress(
                    phase=index + 1, phases=len(plans), step=done, steps=plan.iterations,
                    total_step=total_done, total_steps=total_steps, loss=loss, elapsed=now - started,
                    eta=0.0 if last else eta, fraction=1.0 if last else fraction, frame=frame, done=last,
                    message="; ".join(objective.retries()),
                    phase_seconds=tuple(phase_seconds), evaluations=evaluations, peak_memory=peak_memory(device))
            with torch.no_grad():
                x = x.detach().clamp(0, 255)
            del objective, optimiser
