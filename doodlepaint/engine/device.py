"""Choosing the torch device: CUDA if present, else Apple's MPS, else the CPU."""
import torch

from doodlepaint.engine.errors import DoodleError

DEVICE_CHOICES = ("auto", "cuda", "mps", "cpu")


def pick_device(choice: str = "auto") -> torch.device:
    if choice not in DEVICE_CHOICES and not choice.startswith("cuda:"):
        raise DoodleError(f"unknown device {choice!r}: use one of {', '.join(DEVICE_CHOICES)}")
    if choice == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    if choice.startswith("cuda") and not torch.cuda.is_available():
        raise DoodleError("--device cuda was asked for but no CUDA GPU is available; use --device cpu")
    if choice == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        raise DoodleError("--device mps was asked for but Apple's MPS is not available; use --device cpu")
    return torch.device(choice)


def device_name(device: torch.device) -> str:
    """A human name: the GPU's model, or 'CPU'."""
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    if device.type == "mps":
        return "Apple GPU (MPS)"
    return "CPU"


# torch.cuda's memory statistics, behind this one name: the engine reads them only through the three
# functions below, so a test that traces the CUDA path on fake tensors (no GPU) can put a stand-in here.
cuda_memory = torch.cuda


def reset_peak_memory(device: torch.device) -> None:
    if device.type == "cuda":
        cuda_memory.reset_peak_memory_stats(device)


def peak_memory(device: torch.device) -> int:
    """Bytes the render has held at most on the GPU since `reset_peak_memory` (0 on other devices)."""
    return cuda_memory.max_memory_allocated(device) if device.type == "cuda" else 0


def release_memory(device: torch.device) -> None:
    """Hand the GPU memory torch has cached but no longer uses back to the driver."""
    if device.type == "cuda":
        cuda_memory.empty_cache()
