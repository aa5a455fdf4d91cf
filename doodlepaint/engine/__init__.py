"""The painting engine: pure PyTorch, no Qt. Used by the CLI, the app and the tests."""

from doodlepaint.engine.errors import DoodleError, ImageError, LabelMapError, GPUMemoryError, Cancelled
from doodlepaint.engine.params import TransferParams, TransferRequest, Progress, PRESETS
from doodlepaint.engine.transfer import run_transfer, render
from doodlepaint.engine.device import pick_device, device_name

__all__ = [
    "DoodleError", "ImageError", "LabelMapError", "GPUMemoryError", "Cancelled",
    "TransferParams", "TransferRequest", "Progress", "PRESETS",
    "run_transfer", "render", "pick_device", "device_name",
]
