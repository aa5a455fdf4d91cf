"""Suggest a starting label map for a painting: k-means on its colours, then a mode filter to smooth it.

Asked for N regions, a painting with at least N distinct colours gets exactly N (one with fewer colours, one
region per colour), and Suggest Labels gives each region one label: `relabel_regions` says which labels stay,
which are added and where the pixels of a label left without a region go.
"""
from __future__ import annotations

from dataclasses import dataclass

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


def _distinct_colours(rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The painting's distinct colours (U, 3) float, and each pixel's index among them."""
    codes = rgb.reshape(-1, 3).astype(np.int32) @ np.array([1 << 16, 1 << 8, 1], np.int32)
    unique, pixel_colour = np.unique(codes, return_inverse=True)
    colours = np.stack([unique >> 16, (unique >> 8) & 255, unique & 255], 1).astype(np.float32)
    return colours, pixel_colour.reshape(-1)


def _fill_empty_clusters(colours: np.ndarray, cluster_of: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """k-means on a sample can leave a cluster no colour is nearest to (a colour the sample missed, centres
    that coincide, a cluster emptied while the centres moved). Each such cluster takes the colour farthest
    from its centre in the cluster of the most colours, so there are as many clusters as colours allow."""
    count = len(centres)
    cluster_of = cluster_of.copy()
    for empty in np.flatnonzero(np.bincount(cluster_of, minlength=count) == 0):
        sizes = np.bincount(cluster_of, minlength=count)
        donor = int(sizes.argmax())
        if sizes[donor] < 2:           # every colour has a cluster of its own already
            break
        members = np.flatnonzero(cluster_of == donor)
        cluster_of[members[((colours[members] - centres[donor]) ** 2).sum(1).argmax()]] = empty
    return cluster_of


def _keep_every_region(ids: np.ndarray, smoothed: np.ndarray, count: int) -> np.ndarray:
    """The mode filter removes specks; a region made only of specks would vanish and the painting would get
    fewer regions than asked, so such a region keeps its own pixels. A region given its pixels back can cost
    another its last ones (those overlapped only its pixels), hence the loop; each round keeps one more
    region for good (regions' own pixels never overlap), so it ends within `count` rounds."""
    smoothed = smoothed.copy()
    exists = np.bincount(ids.reshape(-1), minlength=count) > 0
    while len(lost := np.flatnonzero(exists & (np.bincount(smoothed.reshape(-1), minlength=count) == 0))):
        for region in lost:
            smoothed[ids == region] = region
    return smoothed


def suggest_labels(rgb: np.ndarray, count: int, seed: int = 0) -> np.ndarray:
    """Label ids (H, W) for `count` colour regions of `rgb`, largest region first (label 0): exactly `count`
    when the painting has that many distinct colours, else one region per colour."""
    if not 1 <= count <= 32:
        raise ValueError("the number of labels must be between 1 and 32")
    rng = np.random.default_rng(seed)
    pixels = rgb.reshape(-1, 3).astype(np.float32)
    sample = pixels[rng.choice(len(pixels), min(SAMPLE_PIXELS, len(pixels)), replace=False)]
    centres = _kmeans(sample, count, rng)
    ids = _nearest(pixels, centres)
    if np.bincount(ids, minlength=count).min() == 0:       # rare, and the painting's colours cost a sort
        colours, pixel_colour = _distinct_colours(rgb)
        ids = _fill_empty_clusters(colours, _nearest(colours, centres), centres)[pixel_colour]
    ids = ids.reshape(rgb.shape[:2])
    smoothed = ids
    for _ in range(SMOOTH_PASSES):
        smoothed = mode_filter(smoothed, count)
    smoothed = _keep_every_region(ids, smoothed, count)
    by_size = np.argsort(-np.bincount(smoothed.reshape(-1), minlength=count), kind="stable")
    rank = np.empty(count, np.int64)
    rank[by_size] = np.arange(count)
    return rank[smoothed]


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


@dataclass(frozen=True)
class Relabelling:
    """Suggest Labels' change of label numbers, both ways, for maps it does not replace (the doodle, the
    erasers' originals) and for its undo. A label left without a region merges into the kept label most like
    it; undone, a label the suggestion added merges into the old label most like it."""

    forward: np.ndarray      # (K,) each old label's new number
    backward: np.ndarray     # (R,) each new label's old number

    @property
    def identity(self) -> bool:
        """No label added, dropped or renumbered."""
        return len(self.forward) == len(self.backward) and bool(np.all(self.forward == np.arange(len(self.forward))))

    def apply(self, ids: np.ndarray) -> np.ndarray:
        return self.forward[ids]

    def revert(self, ids: np.ndarray, before: np.ndarray | None) -> np.ndarray:
        """`ids`, in the new numbers and perhaps painted on since, in the old ones: a pixel still as the
        suggestion left it takes its value from `before` (the map before the suggestion, if known), so a
        merged label's pixels come back."""
        old = self.backward[ids]
        if before is not None and before.shape == ids.shape:
            untouched = self.forward[before] == ids
            old[untouched] = before[untouched]
        return old

    def merged(self) -> list[tuple[int, int]]:
        """(old label, new label) of each label that merged into another."""
        return [(old, int(new)) for old, new in enumerate(self.forward) if self.backward[new] != old]


def relabel_regions(rgb: np.ndarray, old_ids: np.ndarray, regions: np.ndarray, old_labels: int,
                    labels: int) -> tuple[np.ndarray, np.ndarray, Relabelling]:
    """One label per region of `regions` (suggest_labels' ids of the painting `rgb`): each region keeps the
    label whose pixels in `old_ids` looked most like it (labels from `old_labels` up are new ones, chosen
    last); labels left without a region are dropped. Returns the painting's new map, the label (of the
    `labels`) each new number stands for, in the old order, and the Relabelling."""
    carried = carry_labels(rgb, old_ids, rgb, regions, labels)
    kept = np.unique(carried)
    old_means, old_counts = _mean_colours(rgb.astype(np.float64), old_ids, old_labels)
    new_means, new_counts = _mean_colours(rgb.astype(np.float64), carried, labels)
    forward = np.full(labels, -1)
    forward[kept] = np.arange(len(kept))
    for dropped in np.flatnonzero(forward < 0):
        if old_counts[dropped]:
            distance = ((new_means[kept] - old_means[dropped]) ** 2).sum(1)
            forward[dropped] = forward[kept[distance.argmin()]]
        else:                            # never painted on the painting: the largest region takes it
            forward[dropped] = forward[new_counts.argmax()]
    backward = kept.copy()
    painted = np.flatnonzero(old_counts)
    for new, label in enumerate(kept):
        if label >= old_labels:          # added by the suggestion: undone, it merges into the most alike
            backward[new] = painted[((old_means[painted] - new_means[label]) ** 2).sum(1).argmin()]
    return forward[carried], kept, Relabelling(forward[:old_labels], backward)
