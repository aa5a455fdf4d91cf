"""Suggest a starting label map for a painting: k-means on its colours, then a mode filter to smooth it."""
from __future__ import annotations

import numpy as np

SAMPLE_PIXELS = 20_000
ROUNDS = 20
SMOOTH_RADIUS = 3      # the mode filter's window is (2r+1) x (2r+1)
SMOOTH_PASSES = 2


def _kmeans(points: np.ndarray, count: int, rng: np.random.Generator) -> np.ndarray:
    """Cluster centres of `points` (N, 3) float, seeded with k-means++."""
    centres = [points[rng.integers(len(points))]]
    for _ in range(1, count):
        distance = np.min([((points - c) ** 2).sum(1) for c in centres], axis=0)
        total = distance.sum()
        pick = rng.choice(len(points), p=distance / total) if total > 0 else rng.integers(len(points))
        centres.append(points[pick])
    centres = np.array(centres)
    for _ in range(ROUNDS):
        nearest = _nearest(points, centres)
        moved = np.array([points[nearest == k].mean(0) if np.any(nearest == k) else centres[k]
                          for k in range(count)])
        if np.allclose(moved, centres, atol=0.5):
            break
        centres = moved
    return centres


def _nearest(points: np.ndarray, centres: np.ndarray) -> np.ndarray:
    distance = (points * points).sum(1)[:, None] - 2 * points @ centres.T + (centres * centres).sum(1)[None]
    return distance.argmin(1)


def _box_sum(plane: np.ndarray, radius: int) -> np.ndarray:
    """Sum over a (2r+1)^2 window around every pixel (clipped at the borders), by summed-area table."""
    padded = np.pad(plane, radius + 1, mode="constant")[:-1, :-1]
    table = padded.cumsum(0).cumsum(1)
    size = 2 * radius + 1
    return table[size:, size:] - table[:-size, size:] - table[size:, :-size] + table[:-size, :-size]


def mode_filter(ids: np.ndarray, labels: int, radius: int = SMOOTH_RADIUS) -> np.ndarray:
    """Every pixel takes the most common label in its window: removes specks, keeps edges."""
    counts = np.stack([_box_sum((ids == k).astype(np.int32), radius) for k in range(labels)])
    return counts.argmax(0)


def suggest_labels(rgb: np.ndarray, count: int, seed: int = 0) -> np.ndarray:
    """Label ids (H, W) for `count` colour regions of `rgb`, largest region first (label 0)."""
    if not 1 <= count <= 32:
        raise ValueError("the number of labels must be between 1 and 32")
    rng = np.random.default_rng(seed)
    pixels = rgb.reshape(-1, 3).astype(np.float32)
    sample = pixels[rng.choice(len(pixels), min(SAMPLE_PIXELS, len(pixels)), replace=False)]
    centres = _kmeans(sample, count, rng)
    ids = _nearest(pixels, centres).reshape(rgb.shape[:2])
    for _ in range(SMOOTH_PASSES):
        ids = mode_filter(ids, count)
    by_size = np.argsort(-np.bincount(ids.reshape(-1), minlength=count), kind="stable")
    rank = np.empty(count, np.int64)
    rank[by_size] = np.arange(count)
    return rank[ids]
