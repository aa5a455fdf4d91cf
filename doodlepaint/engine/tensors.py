"""Numpy images and label maps as tensors and back: the conversions every method shares."""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from doodlepaint.engine.params import TransferRequest


def image_tensor(rgb: np.ndarray, width: int, height: int, device) -> torch.Tensor:
    """(H, W, 3) uint8 -> (1, 3, height, width) float 0..255 on `device`, resized bicubically if needed."""
    t = torch.from_numpy(np.ascontiguousarray(rgb)).to(device=device, dtype=torch.float32)
    t = t.permute(2, 0, 1)[None]
    if t.shape[-2:] != (height, width):
        t = F.interpolate(t, size=(height, width), mode="bicubic", align_corners=False, antialias=True)
    return t.clamp(0, 255)


def ids_tensor(ids: np.ndarray, width: int, height: int, device) -> torch.Tensor:
    """(H, W) label ids -> (height, width) int64 on `device`, resized by nearest neighbour if needed."""
    t = torch.from_numpy(np.ascontiguousarray(ids)).to(device)
    if t.shape != (height, width):
        t = F.interpolate(t[None, None].float(), size=(height, width), mode="nearest")[0, 0].long()
    return t


def label_masks(ids: np.ndarray, labels: int, width: int, height: int, device) -> torch.Tensor:
    """One soft mask per label at (height, width), (1, labels, H, W): area-averaged one-hot, so borders blend."""
    ids = torch.from_numpy(ids).to(device)
    one_hot = torch.stack([ids == label for label in range(labels)])[None].float()
    return F.interpolate(one_hot, size=(height, width), mode="area")


def pool_to(masks: torch.Tensor, features: torch.Tensor) -> torch.Tensor:
    """Masks averaged down to a feature map's resolution."""
    return F.adaptive_avg_pool2d(masks, features.shape[-2:])


def frame_array(x: torch.Tensor) -> np.ndarray:
    """(1, 3, H, W) float -> a new (H, W, 3) uint8 array the caller owns."""
    # clamp makes a new tensor, so the array never aliases the image being optimised
    return x.detach()[0].clamp(0, 255).round().to(torch.uint8).permute(1, 2, 0).contiguous().cpu().numpy()


def label_mean_colours(request: TransferRequest) -> torch.Tensor:
    """(K, 3) float64: each label's average colour in the painting (black for a label it lacks)."""
    labels = len(request.palette)
    style = torch.from_numpy(request.style.reshape(-1, 3)).double()
    ids = torch.from_numpy(request.style_labels.reshape(-1)).long()
    counts = torch.bincount(ids, minlength=labels).clamp_min(1).double()
    return torch.zeros(labels, 3, dtype=torch.float64).index_add_(0, ids, style) / counts[:, None]
