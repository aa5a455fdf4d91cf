"""A render on this machine, behind the same interface as a render server (client/remote.py's RemoteServer):
`run_transfer(request, should_stop) -> Iterator[Progress]`; and, which a server has not, a print pipeline."""
from __future__ import annotations

from collections.abc import Callable, Iterator

import torch

import numpy as np

from doodlepaint.engine import Progress, TransferRequest, run_transfer
from doodlepaint.engine.print_size import PrintSettings, run_print


class LocalBackend:
    def __init__(self, device: torch.device | str, encoder=None, preview_interval: float = 0.25):
        self.device, self.encoder, self.preview_interval = torch.device(device), encoder, preview_interval

    def run_transfer(self, request: TransferRequest,
                     should_stop: Callable[[], bool] | None = None) -> Iterator[Progress]:
        return run_transfer(request, should_stop, self.device, self.preview_interval, encoder=self.encoder)

    def for_print(self, settings: PrintSettings, working: np.ndarray) -> "LocalPrint":
        """This machine painting prints from a finished preview (`working`) instead of rendering anew."""
        return LocalPrint(self, settings, working)


class LocalPrint:
    """The print pipeline on this machine from a finished preview: `run_transfer` paints the request's size."""

    def __init__(self, local: LocalBackend, settings: PrintSettings, working: np.ndarray):
        self.local, self.settings, self.working = local, settings, working

    def run_transfer(self, request: TransferRequest,
                     should_stop: Callable[[], bool] | None = None) -> Iterator[Progress]:
        return run_print(request, self.settings, should_stop, self.local.device, self.local.encoder,
                         working=self.working)
