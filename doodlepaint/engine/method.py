"""The one interface every rendering method has, and the one-frame render the one-pass methods share.

A method renders a `TransferRequest` as a generator of `Progress`: build what it needs of the painting once
(`prepare`, kept in the engine's cache until the painting changes), then paint. Which methods exist, and
what the app and the command line show of them, is engine/methods.py's registry.
"""
from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
import torch

from doodlepaint.engine.device import peak_memory, reset_peak_memory
from doodlepaint.engine.methods import MethodInfo, method_info
from doodlepaint.engine.params import Progress, TransferRequest
from doodlepaint.engine.plan import PhasePlan, plan_phases, validate_request


@dataclass(frozen=True)
class RenderContext:
    """Where and how a render runs: the caller's stop check, the device, how often to send frames, and the
    encoder (given, or loaded on first use: a method without VGG never loads it)."""

    should_stop: Callable[[], bool]
    device: torch.device
    preview_interval: float
    load_encoder: Callable[[], torch.nn.Module]

    def encoder(self) -> torch.nn.Module:
        return self.load_encoder()


class Method:
    """A rendering method: validate, prepare the painting's side once, render."""

    name: str

    @property
    def info(self) -> MethodInfo:
        return method_info(self.name)

    def validate(self, request: TransferRequest) -> None:
        """Refuse, before any work, what this method cannot paint (the common checks included)."""
        validate_request(request)

    def prepare(self, request: TransferRequest, plan: PhasePlan, context: RenderContext):
        """The painting's side of the render at the plan's size, built once and cached (nothing by default)."""
        return None

    def render(self, request: TransferRequest, context: RenderContext) -> Iterator[Progress]:
        raise NotImplementedError


class OnePassMethod(Method):
    """A method that paints one picture at the full-size plan: one frame, done."""

    def picture(self, request: TransferRequest, plan: PhasePlan, context: RenderContext) -> np.ndarray:
        """The finished picture, (H, W, 3) uint8."""
        raise NotImplementedError

    def render(self, request: TransferRequest, context: RenderContext) -> Iterator[Progress]:
        started = time.perf_counter()
        plan = plan_phases(request)[-1]
        if context.should_stop():
            return
        reset_peak_memory(context.device)
        frame = self.picture(request, plan, context)
        yield single_frame(frame, time.perf_counter() - started, context.device)


def single_frame(frame: np.ndarray, elapsed: float, device: torch.device) -> Progress:
    """The Progress of a one-pass picture: the instant stage, one step, all the work, done."""
    return Progress(phase=1, phases=1, step=1, steps=1, total_step=1, total_steps=1, loss=0.0, elapsed=elapsed,
                    eta=0.0, frame=frame, done=True, fraction=1.0, evaluations=1, stage="instant",
                    phase_seconds=(elapsed,), peak_memory=peak_memory(device))
