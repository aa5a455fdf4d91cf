"""Label maps: flat colours painted over an image, turned into integer label ids.

Paint programs anti-alias brush edges and JPEG adds noise, so a map has a few dominant colours and
many in-between ones. The dominant colours become the palette; every other pixel snaps to the nearest
of them. The style map defines the palette; a target doodle must use only its colours.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from doodlepaint.engine.errors import LabelMapError
from doodlepaint.engine.images import check_min_side, load_rgb, resize_nearest

MIN_SHARE = 0.002       # a colour covering less of the map than this is an in-between colour
MIN_PIXELS = 16
MERGE_DISTANCE = 24.0   # dominant colours closer than this (RGB distance) are one label (JPEG noise)
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


def dominant_colours(rgb: np.ndarray) -> np.ndarray:
    """The map's real label colours, most frequent first.

    A colour must be frequent, and it must fill areas: an anti-aliased straight edge can make one
    in-between colour frequent, but only as a line one pixel wide, with no interior of its own.
    """
    candidates = _frequent_colours(rgb)
    if len(candidates) > 1 and min(rgb.shape[:2]) >= 3:
        interior = _interior_counts(snap_to(rgb, candidates), len(candidates))
        filled = candidates[interior >= MIN_PIXELS]
        candidates = filled if len(filled) else candidates[:1]
    if len(candidates) > MAX_LABELS:
        raise LabelMapError(f"the label map has {len(candidates)} distinct colours; at most {MAX_LABELS} labels "
                            "are supported — paint it with a few flat colours")
    return candidates


def _frequent_colours(rgb: np.ndarray) -> np.ndarray:
    colours, _, counts = _unique_colours(rgb)
    order = np.argsort(-counts, kind="stable")
    needed = max(MIN_PIXELS, MIN_SHARE * counts.sum())
    kept: list[np.ndarray] = []
    for index in order:
        if counts[index] < needed:
            break
        colour = colours[index].astype(np.float64)
        if all(np.linalg.norm(colour - k) >= MERGE_DISTANCE for k in kept):
            kept.append(colour)
    if not kept:  # a map of noise: fall back to the single most common colour
        kept.append(colours[order[0]].astype(np.float64))
    return np.round(np.stack(kept)).astype(np.uint8)


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


def target_label_ids(rgb: np.ndarray, palette: np.ndarray) -> np.ndarray:
    """Snap a doodle to the style palette; a colour the style map lacks is an error saying where it is."""
    own = dominant_colours(rgb)
    used, distance = nearest_labels(own, palette)
    for colour, far in zip(own, distance):
        if far > MATCH_DISTANCE:
            ys, xs = np.nonzero(np.all(rgb == colour, axis=-1))
            raise LabelMapError(
                f"the doodle uses colour {hex_colour(colour)} (around x={int(xs.mean())}, y={int(ys.mean())}, "
                f"{len(xs)} pixels) which is not a label of the style map; style labels are "
                f"{', '.join(hex_colour(p) for p in palette)}")
    allowed = np.unique(used)
    return allowed[snap_to(rgb, palette[allowed])]


def check_shared_labels(style_ids: np.ndarray, target_ids: np.ndarray, palette: np.ndarray) -> None:
    """Every label in the doodle must have pixels in the style map, else there is nothing to copy."""
    present = np.bincount(style_ids.reshape(-1), minlength=len(palette)) > 0
    for label in np.unique(target_ids):
        if label >= len(palette) or not present[label]:
            colour = hex_colour(palette[label]) if label < len(palette) else f"#{label}"
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
