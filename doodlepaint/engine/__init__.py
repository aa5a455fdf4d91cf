"""The painting engine: pure PyTorch, no Qt. Used by the CLI, the app and the tests.

Names are imported lazily, so `doodlepaint.engine.params` or `.labels` can be used without loading torch.
"""
import importlib

_EXPORTS = {
    "DoodleError": "errors", "ImageError": "errors", "LabelMapError": "errors", "GPUMemoryError": "errors",
    "Cancelled": "errors",
    "TransferParams": "params", "TransferRequest": "params", "Progress": "params", "PRESETS": "params",
    "run_transfer": "transfer", "render": "transfer",
    "pick_device": "device", "device_name": "device",
}

__all__ = list(_EXPORTS)


def __getattr__(name):
    if name not in _EXPORTS:
        raise AttributeError(f"module 'doodlepaint.engine' has no attribute {name!r}")
    return getattr(importlib.import_module(f"doodlepaint.engine.{_EXPORTS[name]}"), name)
