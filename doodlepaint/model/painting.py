"""Painting on label maps (H x W arrays of label ids): hard-edged strokes, flood fill, undoable edits.

Coordinates are image pixels as floats; the pixel (row i, column j) covers [j, j+1) x [i, i+1).
A stroke segment paints every pixel whose centre lies within the brush radius of the segment, so a
fast pointer still gives a continuous stroke, and edges stay hard so labels stay pure.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def _centre(point: tuple[float, float]) -> tuple[float, float]:
    """Snap a pointer position to the centre of the pixel under it."""
    return np.floor(point[0]) + 0.5, np.floor(point[1]) + 0.5


def paint_segment(ids: np.ndarray, start: tuple[float, float], end: tuple[float, float],
                  size: float, label: int | np.ndarray) -> tuple[int, int, int, int] | None:
    """Paint a round brush of diameter `size` pixels from `start` to `end` (x, y), in place.

    `label` is a label id, or a map of ids the shape of `ids` whose pixels the brush copies back (the
    eraser restores a map as it was).

    Returns the rectangle (top, left, bottom, right) that holds every changed pixel, or None when the
    segment lies off the map, so a view can redraw just that part."""
    (x0, y0), (x1, y1) = _centre(start), _centre(end)
    radius = max(size, 1.0) / 2.0
    height, width = ids.shape
    left, right = int(max(0, np.floor(min(x0, x1) - radius))), int(min(width, np.ceil(max(x0, x1) + radius)))
    top, bottom = int(max(0, np.floor(min(y0, y1) - radius))), int(min(height, np.ceil(max(y0, y1) + radius)))
    if left >= right or top >= bottom:
        return None
    ys, xs = np.mgrid[top:bottom, left:right]
    px, py = xs + 0.5 - x0, ys + 0.5 - y0
    dx, dy = x1 - x0, y1 - y0
    length2 = dx * dx + dy * dy
    t = np.clip((px * dx + py * dy) / length2, 0.0, 1.0) if length2 > 0 else 0.0
    inside = (px - t * dx) ** 2 + (py - t * dy) ** 2 <= radius * radius
    if isinstance(label, np.ndarray):
        ids[top:bottom, left:right][inside] = label[top:bottom, left:right][inside]
    else:
        ids[top:bottom, left:right][inside] = label
    return top, left, bottom, right


def flood_fill(ids: np.ndarray, point: tuple[float, float], label: int) -> None:
    """Replace the 4-connected region of the label under `point` with `label`, in place (scanline fill)."""
    x, y = int(point[0]), int(point[1])
    height, width = ids.shape
    if not (0 <= x < width and 0 <= y < height) or ids[y, x] == label:
        return
    region = ids == ids[y, x]
    filled = np.zeros_like(region)
    seeds = [(x, y)]
    while seeds:
        x, y = seeds.pop()
        if filled[y, x] or not region[y, x]:
            continue
        row = region[y]
        outside_left = np.flatnonzero(~row[:x])
        outside_right = np.flatnonzero(~row[x:])
        left = outside_left[-1] + 1 if outside_left.size else 0
        right = x + outside_right[0] if outside_right.size else width
        filled[y, left:right] = True
        for ny in (y - 1, y + 1):
            if 0 <= ny < height:
                open_ = region[ny, left:right] & ~filled[ny, left:right]
                starts = np.flatnonzero(open_ & ~np.concatenate(([False], open_[:-1])))
                seeds.extend((left + int(s), ny) for s in starts)
    ids[filled] = label


@dataclass(eq=False)
class MapEdit:
    """One undoable change to a label map: the changed rectangle before and after."""

    ids: np.ndarray
    top: int
    left: int
    before: np.ndarray
    after: np.ndarray

    def _put(self, values: np.ndarray) -> None:
        self.ids[self.top:self.top + values.shape[0], self.left:self.left + values.shape[1]] = values

    def undo(self) -> None:
        self._put(self.before)

    def redo(self) -> None:
        self._put(self.after)


class Stroke:
    """Records the changes made to `ids` between its creation and `finish()` as one MapEdit."""

    def __init__(self, ids: np.ndarray):
        self.ids = ids
        self.snapshot = ids.copy()

    def finish(self) -> MapEdit | None:
        """The edit, or None when nothing changed."""
        rows, cols = np.nonzero(self.ids != self.snapshot)
        if rows.size == 0:
            return None
        top, bottom, left, right = rows.min(), rows.max() + 1, cols.min(), cols.max() + 1
        return MapEdit(self.ids, int(top), int(left), self.snapshot[top:bottom, left:right].copy(),
                       self.ids[top:bottom, left:right].copy())
