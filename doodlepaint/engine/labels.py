"""Label maps: flat colours painted over an image, turned into integer label ids.

Paint programs anti-alias brush edges and JPEG adds noise, so a map has a few label colours and many
in-between ones. Near-colours are clustered (JPEG spreads a small region over many of them); the
clusters that fill areas, and are neither an edge's blend nor a tint of a label, become the palette;
every pixel snaps to the nearest of them. The style map defines the palette; a target doodle must use
only its colours, and a label too small to keep is a warning, never a silent loss.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from doodlepaint.engine.errors import LabelMapError
from doodlepaint.engine.images import check_min_side, load_rgb, resize_nearest

CLUSTER_RADIUS = 32.0   # colours this close (RGB distance) to a more frequent one are it plus noise (JPEG)
MIN_PIXELS = 16         # a label covers at least this many pixels...
MIN_INTERIOR = 4        # ...of which this many have their whole 3x3 neighbourhood in it: it fills an area
HALO = 12               # a colour between two labels' colours is a label only if some of it lies farther than
                        # this from one of them: JPEG leaves halos of mixed colour up to a block or two wide
BLEND = (0.05, 0.95)    # a colour along the line between two touching labels' colours (within MATCH_DISTANCE
                        # of it) is a blend of both: JPEG darkens and tints the edges of small regions
JPEG_REACH = 64.0       # a JPEG map's labels need colours this far apart: its noise moves small regions so far
FLAT_SHARE = 0.5        # a cluster whose most frequent colour is this share of it was painted flat (no JPEG)
BIN = 16                # colours are clustered in bins of 16 levels per channel (4096 bins at most)
MATCH_DISTANCE = 40.0   # a doodle colour this close to a style colour is that label
MAX_LABELS = 32
MIN_STYLE_SIDE = 16     # a smaller painting has no style to take (and its map would shrink to a dot)


class LabelMapWarning(UserWarning):
    """Something was fixed automatically; the user should know."""


@dataclass(frozen=True, eq=False)
class LabelMap:
    ids: np.ndarray        # (H, W) int64 indices into palette
    palette: np.ndarray    # (K, 3) uint8


def hex_colour(rgb) -> str:
    return "#%02x%02x%02x" % tuple(int(v) for v in rgb)


def describe_label(label: int, palette: np.ndarray, names=()) -> str:
    """A label as the painter knows it: its name with its colour, or the colour alone when it has none."""
    colour = hex_colour(palette[label])
    return f"“{names[label]}” ({colour})" if label < len(names) else colour


def _unique_colours(rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    packed = (rgb[..., 0].astype(np.int64) << 16) | (rgb[..., 1].astype(np.int64) << 8) | rgb[..., 2]
    codes, inverse, counts = np.unique(packed.reshape(-1), return_inverse=True, return_counts=True)
    colours = np.stack([(codes >> 16) & 255, (codes >> 8) & 255, codes & 255], 1).astype(np.uint8)
    return colours, inverse, counts


def _interior_counts(ids: np.ndarray, labels: int) -> np.ndarray:
    """Per label, the pixels whose whole 3x3 neighbourhood has that label."""
    centre = ids[1:-1, 1:-1]
    same = np.ones(centre.shape, bool)
    for dy in (0, 1, 2):
        for dx in (0, 1, 2):
            same &= ids[dy:dy + centre.shape[0], dx:dx + centre.shape[1]] == centre
    return np.bincount(centre[same], minlength=labels)


def _colour_clusters(colours: np.ndarray, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Greedy clusters over a 16-level grid of colour bins: the fullest bin left takes every unclaimed bin
    within CLUSTER_RADIUS, so JPEG's spread of near-colours around a small region (often every pixel a
    colour of its own) adds up to one label. Returns each cluster's colour (its most frequent exact colour,
    or for JPEG's spread, where that can be far off, each channel's median), weight (its pixels) and whether
    it is flat (that one colour is most of it), heaviest first."""
    bins = colours.astype(np.int64) // BIN
    codes, bin_of = np.unique((bins[:, 0] << 8) | (bins[:, 1] << 4) | bins[:, 2], return_inverse=True)
    bin_counts = np.bincount(bin_of, weights=counts)
    centres = np.stack([codes >> 8, (codes >> 4) & 15, codes & 15], 1) * BIN + BIN // 2
    cluster_of_bin = np.full(len(codes), -1)
    clusters = 0
    for seed in np.argsort(-bin_counts, kind="stable"):
        if cluster_of_bin[seed] >= 0:
            continue
        near = (cluster_of_bin < 0) & (((centres - centres[seed]) ** 2).sum(1) <= CLUSTER_RADIUS ** 2)
        cluster_of_bin[near] = clusters
        clusters += 1
    cluster = cluster_of_bin[bin_of]
    weights = np.bincount(cluster, weights=counts, minlength=clusters).astype(np.int64)
    # each cluster's most frequent exact colour: sort by (cluster, count) and take each cluster's last
    order = np.lexsort((counts, cluster))
    last = np.flatnonzero(np.diff(np.append(cluster[order], clusters)) != 0)
    representative = colours[order[last]]
    flat = counts[order[last]] >= FLAT_SHARE * weights
    before = np.concatenate([[0], np.cumsum(weights)[:-1]])
    for channel in range(3):
        by_value = np.lexsort((colours[:, channel], cluster))
        running = np.cumsum(counts[by_value])
        middle = by_value[np.searchsorted(running, before + weights / 2)]
        representative[~flat, channel] = colours[middle, channel][~flat]
    heaviest = np.argsort(-weights, kind="stable")
    return representative[heaviest], weights[heaviest], flat[heaviest]


def _segment_fit(colour: np.ndarray, ends: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For every ordered pair (i, j) of `ends`: how far along the line from end i to end j `colour` lies
    (0..1) and how far it is from that line, both (N, N)."""
    c, e = colour.astype(np.float64), ends.astype(np.float64)
    span = e[None, :, :] - e[:, None, :]
    length = np.maximum((span ** 2).sum(-1), 1e-9)
    t = np.clip(((c - e[:, None, :]) * span).sum(-1) / length, 0.0, 1.0)
    distance = np.linalg.norm(e[:, None, :] + t[..., None] * span - c, axis=-1)
    np.fill_diagonal(distance, np.inf)
    return t, distance


def _between(colour: np.ndarray, others: np.ndarray) -> np.ndarray:
    """(N, N): whether `colour` is a blend of others i and j (what JPEG and anti-aliasing leave along an edge)."""
    t, distance = _segment_fit(colour, others)
    return (distance <= MATCH_DISTANCE) & (t >= BLEND[0]) & (t <= BLEND[1])


def _neighbours(ids: np.ndarray, labels: int) -> np.ndarray:
    """(K, K): which labels touch, left-right or up-down."""
    touching = np.zeros((labels, labels), bool)
    for a, b in ((ids[:, 1:], ids[:, :-1]), (ids[1:], ids[:-1])):
        touching[a.reshape(-1), b.reshape(-1)] = True
    return touching | touching.T


def _within(mask: np.ndarray, radius: int) -> np.ndarray:
    """Pixels with a pixel of `mask` in their (2 radius + 1) square (a box filter by summed areas)."""
    area = np.pad(mask.astype(np.int64).cumsum(0).cumsum(1), ((1, 0), (1, 0)))
    rows, cols = np.arange(mask.shape[0]), np.arange(mask.shape[1])
    y0, y1 = np.clip(rows - radius, 0, None), np.clip(rows + radius + 1, None, mask.shape[0])
    x0, x1 = np.clip(cols - radius, 0, None), np.clip(cols + radius + 1, None, mask.shape[1])
    return (area[y1][:, x1] - area[y0][:, x1] - area[y1][:, x0] + area[y0][:, x0]) > 0


def match_label(colour: np.ndarray, palette: np.ndarray, partners=None) -> int | None:
    """The palette label `colour` stands for: the nearest within MATCH_DISTANCE, or the one it is a tint of
    (near the line from that label's colour to a partner's, nearer its end: a small region that JPEG
    blended with the label around it); None when it is no label's colour. `partners`: the labels that can
    tint (those the map shows in their own colours), every label by default."""
    nearest, distance = nearest_labels(colour[None], palette)
    if distance[0] <= MATCH_DISTANCE:
        return int(nearest[0])
    if len(palette) > 1:
        t, off = _segment_fit(colour, palette)
        tinted = (off <= MATCH_DISTANCE) & (t < 0.5)
        if partners is not None:
            tinted[:, [i for i in range(len(palette)) if i not in set(partners)]] = False
        if tinted.any():
            rows = np.flatnonzero(tinted.any(1))
            return int(rows[np.argmin(np.where(tinted, t, np.inf)[rows].min(1))])
    return None


@dataclass(frozen=True, eq=False)
class _Clusters:
    labels: np.ndarray      # (K, 3) uint8: the map's label colours, most frequent first
    dropped: np.ndarray     # (D, 3) uint8: clusters too small or too thin to be labels
    dropped_pixels: np.ndarray


def _label_clusters(rgb: np.ndarray) -> _Clusters:
    """The map's real label colours: clusters of near-colours that are frequent and fill areas.

    An anti-aliased straight edge can make one in-between colour frequent, but only as a line one pixel
    wide, with no interior of its own; JPEG makes halos a block or two wide, so a colour that is a blend
    of two labels it touches must reach beyond their edge to be a label.
    """
    colours, _, counts = _unique_colours(rgb)
    seeds, weights, flat = _colour_clusters(colours, counts)
    candidates, flat = seeds[weights >= MIN_PIXELS], flat[weights >= MIN_PIXELS]
    specks = weights < MIN_PIXELS
    if len(candidates) == 0:            # a map of noise: the single most common colour
        return _Clusters(seeds[:1], seeds[1:], weights[1:])
    if len(candidates) == 1 or min(rgb.shape[:2]) < 3:
        return _Clusters(candidates, seeds[specks], weights[specks])
    ids = snap_to(rgb, candidates)
    solid = _interior_counts(ids, len(candidates)) >= MIN_INTERIOR
    if not solid.any():
        solid[0] = True
    keep = solid.copy()
    touching = _neighbours(ids, len(candidates))
    for k in np.flatnonzero(solid & ~flat):   # a flat colour was painted so; only JPEG's mixtures can be halos
        sides = np.flatnonzero(touching[k] & solid & (np.arange(len(solid)) != k))
        if len(sides) < 2:
            continue
        pairs = np.argwhere(np.triu(_between(candidates[k], candidates[sides]), 1))
        region = ids == k
        for i, j in sides[pairs]:           # a blend of i and j that lies wholly along their edge: a halo
            if not (region & ~(_within(ids == i, HALO) & _within(ids == j, HALO))).any():
                keep[k] = False
                break
    if not keep.any():
        keep[0] = True
    for k in np.flatnonzero(keep & ~flat):     # JPEG's tint of a heavier label, as far as its noise reaches
        heavier = np.flatnonzero(keep[:k])
        if len(heavier) and nearest_labels(candidates[k][None], candidates[heavier])[1][0] <= JPEG_REACH:
            keep[k] = False
    pixels = np.bincount(ids.reshape(-1), minlength=len(candidates))
    return _Clusters(candidates[keep], np.concatenate([candidates[~keep], seeds[specks]]),
                     np.concatenate([pixels[~keep], weights[specks]]))


def dominant_colours(rgb: np.ndarray) -> np.ndarray:
    """The map's label colours, most frequent first."""
    labels = _label_clusters(rgb).labels
    if len(labels) > MAX_LABELS:
        raise LabelMapError(f"the label map has {len(labels)} distinct colours; at most {MAX_LABELS} labels "
                            "are supported — paint it with a few flat colours")
    return labels


def snap_to(rgb: np.ndarray, palette: np.ndarray) -> np.ndarray:
    """Label ids of the nearest palette colour for every pixel (computed per unique colour)."""
    colours, inverse, _ = _unique_colours(rgb)
    distance = ((colours[:, None, :].astype(np.int64) - palette[None].astype(np.int64)) ** 2).sum(-1)
    return distance.argmin(1)[inverse].reshape(rgb.shape[:2]).astype(np.int64)


def style_label_map(rgb: np.ndarray) -> LabelMap:
    palette = dominant_colours(rgb)
    return LabelMap(snap_to(rgb, palette), palette)


def nearest_labels(colours: np.ndarray, palette: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each colour: the index of the nearest palette colour and its RGB distance."""
    distance = np.sqrt(((colours[:, None, :].astype(np.float64) - palette[None].astype(np.float64)) ** 2).sum(-1))
    return distance.argmin(1), distance.min(1)


def target_label_ids(rgb: np.ndarray, palette: np.ndarray, names=()) -> np.ndarray:
    """Snap a doodle to the style palette; a colour the style map lacks is an error saying where it is and
    listing the labels, by their `names` where known; a label too small to keep is a warning saying where
    it was, never a silent loss."""
    clusters = _label_clusters(rgb)
    own = clusters.labels
    if len(own) > MAX_LABELS:
        raise LabelMapError(f"the doodle has {len(own)} distinct colours; at most {MAX_LABELS} labels "
                            "are supported — paint it with the style map's colours")
    direct, distance = nearest_labels(own, palette)
    shown = set(direct[distance <= MATCH_DISTANCE].tolist())     # labels in their own colours
    used = []
    for index, colour in enumerate(own):
        label = match_label(colour, palette, shown)
        if label is None:
            ys, xs = np.nonzero(snap_to(rgb, own) == index)
            raise LabelMapError(
                f"the doodle uses colour {hex_colour(colour)} (around x={int(xs.mean())}, y={int(ys.mean())}, "
                f"{len(xs)} pixels) which is not a label of the style map; style labels are "
                f"{', '.join(describe_label(i, palette, names) for i in range(len(palette)))}")
        used.append(label)
    allowed = np.unique(used)
    if len(clusters.dropped):
        _warn_dropped(rgb, clusters, palette, allowed)
    return allowed[snap_to(rgb, palette[allowed])]


def _warn_dropped(rgb: np.ndarray, clusters: _Clusters, palette: np.ndarray, allowed: np.ndarray) -> None:
    """A label's colour that is in the doodle but too small or thin to keep: say so, once per label."""
    warned: set[int] = set()
    for colour, pixels in zip(clusters.dropped, clusters.dropped_pixels):
        nearest, distance = nearest_labels(colour[None], palette)
        # a region (not a speck) may be tinted by JPEG; a speck only counts in the label's own colour
        label = match_label(colour, palette, allowed) if pixels >= MIN_PIXELS else (
            int(nearest[0]) if distance[0] <= MATCH_DISTANCE else None)
        if label is not None and label not in allowed and label not in warned:
            warned.add(label)
            ys, xs = np.nonzero(np.all(np.abs(rgb.astype(np.int32) - colour) <= CLUSTER_RADIUS / 2, axis=-1))
            where = f" around x={int(xs.mean())}, y={int(ys.mean())}" if len(xs) else ""
            warnings.warn(f"the doodle's label {hex_colour(palette[label])} ({pixels} pixels{where}) is too thin "
                          "to be a region of its own and was painted over by its neighbours: paint it bigger "
                          "(at least 4x4 pixels) if it matters", LabelMapWarning, stacklevel=3)


def check_shared_labels(style_ids: np.ndarray, target_ids: np.ndarray, palette: np.ndarray, names=()) -> None:
    """Every label in the doodle must have pixels in the style map, else there is nothing to copy."""
    present = np.bincount(style_ids.reshape(-1), minlength=len(palette)) > 0
    for label in np.unique(target_ids):
        if label >= len(palette) or not present[label]:
            colour = describe_label(label, palette, names) if label < len(palette) else f"#{label}"
            ys, xs = np.nonzero(target_ids == label)
            raise LabelMapError(f"the doodle's label {colour} (around x={int(xs.mean())}, y={int(ys.mean())}) "
                                "does not appear in the style map: paint it somewhere on the style map")


def fit_map_to_image(rgb_map: np.ndarray, shape: tuple[int, int], what: str) -> np.ndarray:
    if rgb_map.shape[:2] == tuple(shape):
        return rgb_map
    warnings.warn(f"{what} is {rgb_map.shape[1]}x{rgb_map.shape[0]} but its image is {shape[1]}x{shape[0]}: "
                  "resized it (nearest neighbour)", LabelMapWarning, stacklevel=2)
    return resize_nearest(rgb_map, shape[1], shape[0])


def sibling_style_map(style_path: str | Path) -> Path | None:
    """The reference tool's convention: X_sem.png beside X.jpg is X's label map."""
    style_path = Path(style_path)
    candidate = style_path.with_name(style_path.stem + "_sem.png")
    return candidate if candidate.exists() else None


def load_maps(style_rgb: np.ndarray, style_map_path, target_map_path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Read both maps; returns (style ids, target ids, palette)."""
    check_min_side(style_rgb, "the style painting", MIN_STYLE_SIDE)
    style_map = fit_map_to_image(load_rgb(style_map_path, "style map"), style_rgb.shape[:2], "the style map")
    style = style_label_map(style_map)
    target_ids = target_label_ids(load_rgb(target_map_path, "target map"), style.palette)
    check_shared_labels(style.ids, target_ids, style.palette)
    return style.ids, target_ids, style.palette
