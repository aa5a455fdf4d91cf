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


def _mean_colours(rgb: np.ndarray, ids: np.ndarray, labels: int) -> tuple[np.ndarray, np.ndarray]:
    flat = ids.reshape(-1)
    counts = np.bincount(flat, minlength=labels)[:labels]
    sums = np.stack([np.bincount(flat, rgb[..., c].reshape(-1), minlength=labels)[:labels] for c in range(3)], 1)
    return sums / np.maximum(counts, 1)[:, None], counts


def carry_labels(old_rgb: np.ndarray, old_ids: np.ndarray, new_rgb: np.ndarray, new_ids: np.ndarray,
                 labels: int) -> np.ndarray:
    """`new_ids` (suggested regions 0..R-1 of `new_rgb`, R <= labels) renumbered so that each region takes the
    existing label whose pixels in the old painting looked most like it, closest pairs first, one region a
    label. A doodle's "sea" then stays the bluest region rather than whichever region came first; labels
    absent from the old painting take the regions left over."""
    regions = int(new_ids.max()) + 1
    old_means, old_counts = _mean_colours(old_rgb.astype(np.float64), old_ids, labels)
    new_means, _ = _mean_colours(new_rgb.astype(np.float64), new_ids, regions)
    distance = ((new_means[:, None] - old_means[None]) ** 2).sum(2)
    distance[:, old_counts == 0] += 4 * 255 ** 2          # beyond any colour distance: chosen last
    label_of = np.full(regions, -1)
    taken = np.zeros(labels, bool)
    for region, label in zip(*np.unravel_index(np.argsort(distance, axis=None, kind="stable"), distance.shape)):
        if label_of[region] < 0 and not taken[label]:
            label_of[region], taken[label] = label, True
    return label_of[new_ids]
