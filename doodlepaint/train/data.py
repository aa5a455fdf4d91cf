"""Training images decoded once and held as tensors (on the GPU when training there), with random
crops, flips and scale jitter drawn on the device."""
from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F

from doodlepaint.engine.errors import DoodleError
from doodlepaint.engine.images import load_rgb

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")


def image_paths(folder: Path) -> list[Path]:
    paths = sorted(p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
    if not paths:
        raise DoodleError(f"no training images (.jpg, .png) under {folder}")
    return paths


def trainset_split(root: Path) -> tuple[list[Path], list[Path]]:
    """The shared trainset's (photos, paintings); any other folder of images is all 'photos'."""
    photos, paintings = root / "photos", root / "paintings"
    if photos.is_dir() and paintings.is_dir():
        return image_paths(photos), image_paths(paintings)
    paths = image_paths(root)
    return paths, paths


class ImageBank:
    """Every image decoded once into uint8 (3, H, W) tensors on `device`; `batch` draws random crops."""

    def __init__(self, paths: list[Path], device: torch.device | str = "cpu", short_side: int | None = None):
        self.device = torch.device(device)
        self.images = []
        for path in paths:
            rgb = torch.from_numpy(load_rgb(path, "training image")).permute(2, 0, 1).contiguous()
            if short_side is not None and min(rgb.shape[1:]) != short_side:
                scale = short_side / min(rgb.shape[1:])
                size = (max(short_side, round(rgb.shape[1] * scale)), max(short_side, round(rgb.shape[2] * scale)))
                rgb = F.interpolate(rgb[None].float(), size=size, mode="bilinear", antialias=True,
                                    align_corners=False)[0].round().clamp(0, 255).to(torch.uint8)
            self.images.append(rgb.to(self.device))
        self.smallest = min(min(image.shape[1:]) for image in self.images)

    def __len__(self) -> int:
        return len(self.images)

    def batch(self, size: int, crop: int, generator: torch.Generator, jitter: tuple[float, float] = (0.5, 1.0)):
        """(size, 3, crop, crop) float 0..255: a random image, scaled by a random factor (never below the
        crop), a random crop, a random horizontal flip."""
        crops = []
        for _ in range(size):
            image = self.images[int(torch.randint(len(self.images), (1,), generator=generator))]
            height, width = image.shape[1:]
            low = max(jitter[0], crop / min(height, width))
            scale = low + float(torch.rand((), generator=generator)) * max(0.0, jitter[1] - low)
            size_hw = (max(crop, round(height * scale)), max(crop, round(width * scale)))
            scaled = F.interpolate(image[None].float(), size=size_hw, mode="bilinear", antialias=True,
                                   align_corners=False)[0]
            top = int(torch.randint(size_hw[0] - crop + 1, (1,), generator=generator))
            left = int(torch.randint(size_hw[1] - crop + 1, (1,), generator=generator))
            patch = scaled[:, top:top + crop, left:left + crop]
            if float(torch.rand((), generator=generator)) < 0.5:
                patch = patch.flip(-1)
            crops.append(patch)
        return torch.stack(crops).clamp(0, 255)

