"""A render on this machine, behind the same interface as a render server (client/remote.py's RemoteServer):
`run_transfer(request, should_stop) -> Iterator[Progress]`."""
from __future__ import annotations

from collections.abc import Callable, Iterator

import torch

from doodlepaint.engine import Progress, TransferRequest, run_transfer


class LocalBackend:
    def __init__(self, device: torch.device | str, encoder=None, preview_interval: float = 0.25):
        self.device, self.encoder, self.preview_interval = torch.device(device), encoder, preview_interval

    def run_transfer(self, request: TransferRequest,
                     should_stop: Callable[[], bool] | None = None) -> Iterator[Progress]:
        return run_transfer(request, should_stop, self.device, self.preview_interval, encoder=self.encoder)
