"""The engine's entry point: render a request with its method, as a generator of progress.

`run_transfer` validates the request, finds its method in the registry (engine/methods.py) and yields that
method's `Progress`; it turns running out of GPU memory into a `GPUMemoryError` that says what to do and
hands the memory back on the way out, for every method alike.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Iterator

import numpy as np
import torch

from doodlepaint.engine.device import release_memory
from doodlepaint.engine.errors import Cancelled, GPUMemoryError
from doodlepaint.engine.method import Method, RenderContext
from doodlepaint.engine.methods import method_info
from doodlepaint.engine.params import Progress, TransferRequest
from doodlepaint.engine.plan import output_size, plan_phases  # noqa: F401  (the engine's public planning API)
from doodlepaint.engine.stopping import stoppable
from doodlepaint.engine.vgg import get_encoder


def method_of(request: TransferRequest) -> Method:
    return method_info(request.params.method).load()


def validate(request: TransferRequest) -> None:
    """Everything that can be checked before any work: a bad request raises DoodleError with a clear message."""
    method_of(request).validate(request)


def run_transfer(request: TransferRequest, should_stop: Callable[[], bool] | None = None,
                 device: torch.device | str = "cpu", preview_interval: float = 0.5,
                 encoder=None) -> Iterator[Progress]:
    """Render `request`, yielding Progress (one per optimiser round, or one per feed-forward pass); frames
    every `preview_interval` s."""
    method = method_of(request)
    method.validate(request)
    device = torch.device(device)
    context = RenderContext(should_stop or (lambda: False), device, preview_interval,
                            lambda: encoder or get_encoder(device))
    try:
        yield from stoppable(method.render(request, context), context.should_stop)
    except torch.OutOfMemoryError as error:
        width, height = output_size(request)
        raise GPUMemoryError(f"out of GPU memory rendering {width}x{height} on {device}: choose a smaller "
                             "size or render on the CPU") from error
    finally:
        release_memory(device)


def render(request: TransferRequest, device: torch.device | str = "cpu",
           should_stop: Callable[[], bool] | None = None) -> tuple[np.ndarray, Progress]:
    """Run a whole render; returns the final image and the last progress. Raises Cancelled if stopped."""
    last = None
    for progress in run_transfer(request, should_stop, device, preview_interval=math.inf):
        last = progress
    if last is None or not last.done:
        raise Cancelled("the render was stopped")
    return last.frame, last
