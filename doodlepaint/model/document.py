"""The document an artist edits: a style painting with its label map, a doodle, an optional photo, params.

Label maps are int64 arrays of ids into one palette shared by both maps. Painting changes the arrays
in place (undo records refer to them); replacing an image or removing a label replaces or renumbers
them, after which old undo records no longer apply.

A Document announces its changes on `events` (psygnal, Qt-free), each once and never for a change that
changes nothing, so the views that show it follow by themselves. Its methods announce; a map painted in
place is announced with `map_painted`; a field written directly goes unannounced.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass, field

import numpy as np
from psygnal import Signal, SignalGroup

from doodlepaint.engine.images import check_min_side, resize_nearest
from doodlepaint.engine.labels import (MATCH_DISTANCE, MAX_LABELS, MIN_STYLE_SIDE, fit_map_to_image, hex_colour,
                                       nearest_labels, style_label_map, target_label_ids)
from doodlepaint.engine.params import TransferParams, TransferRequest
from doodlepaint.engine.sample import SampleScene
from doodlepaint.model.suggest import Relabelling, carry_labels, relabel_regions, suggest_labels

# What every document keeps to, so that a saved project always opens again (model/project.py checks the same
# on loading): a doodle (and the photo under it, which sets its size) of at least MIN_DOODLE_SIDE pixels a
# side, as the engine needs, and label names of at most MAX_NAME_LENGTH characters.
MIN_DOODLE_SIDE = 8
MAX_NAME_LENGTH = 200

# Distinct, saturated colours for new labels (label colours only mark regions; they are never painted).
NEW_LABEL_COLOURS = ("#e6194b", "#3cb44b", "#ffe119", "#4363d8", "#f58231", "#911eb4", "#46f0f0",
                     "#f032e6", "#bcf60c", "#fabebe", "#008080", "#e6beff", "#9a6324", "#fffac8",
                     "#800000", "#aaffc3", "#808000", "#ffd8b1", "#000075", "#808080")


def rgb_from_hex(text: str) -> np.ndarray:
    text = text.lstrip("#")
    return np.array([int(text[i:i + 2], 16) for i in (0, 2, 4)], np.uint8)


class LabelChange(enum.Enum):
    """What happened to the labels, as DocumentEvents.labels says it."""

    ADDED = "added"
    RENAMED = "renamed"
    RECOLOURED = "recoloured"
    REMOVED = "removed"                # its pixels became another label; the later ids shifted down
    REPLACED = "replaced"              # a painting's own label map brought its palette and names
    RIGHT_BUTTON = "right button"      # another label is what the right mouse button paints
    SUGGESTED = "suggested"            # the painting's map segmented anew, labels added or dropped, the doodle
                                       # renumbered with them (Suggest Labels, its undo and redo)

    @property
    def renumbers(self) -> bool:
        """The maps' ids changed meaning: undo steps recorded before no longer apply."""
        return self in (LabelChange.REMOVED, LabelChange.REPLACED)

    @property
    def recolours(self) -> bool:
        """The maps look different, and a render of them paints something else."""
        return self.renumbers or self is LabelChange.RECOLOURED


class DocumentEvents(SignalGroup):
    """What a Document announces: each change once, after it is made whole."""

    painting = Signal(bool)           # the painting's label map changed; True: the picture too (another painting)
    doodle = Signal(bool)             # the doodle's label map changed; True: the photo under it or its size too
    labels = Signal(LabelChange)      # the labels' names, colours or number, or the right button's label
    params = Signal()
    result = Signal()                 # the finished render


@dataclass(eq=False)
class Document:
    style: np.ndarray                 # (H, W, 3) uint8
    style_ids: np.ndarray             # (H, W) int64
    target_ids: np.ndarray            # (h, w) int64
    palette: np.ndarray               # (K, 3) uint8
    names: list[str]
    params: TransferParams = field(default_factory=TransferParams)
    content: np.ndarray | None = None  # (h, w, 3) uint8, under the doodle
    result: np.ndarray | None = None   # the last finished render
    right_button_label: int = 0        # what the right mouse button paints, and New Doodle clears to
    events: DocumentEvents = field(default_factory=DocumentEvents, init=False, repr=False)

    @classmethod
    def from_sample(cls, scene: SampleScene) -> "Document":
        style_map = style_label_map(scene.style_map)
        named = np.stack([rgb_from_hex(c) for c in scene.names.values()])
        nearest, _ = nearest_labels(style_map.palette, named)
        names = [list(scene.names)[i] for i in nearest]
        target = target_label_ids(scene.doodle, style_map.palette)
        return cls(scene.style, style_map.ids, target, style_map.palette, names)

    def request(self) -> TransferRequest:
        # Copies of the maps: the artist goes on painting in place while the render thread reads them.
        return TransferRequest(style=self.style, style_labels=self.style_ids.copy(),
                               target_labels=self.target_ids.copy(), palette=self.palette.copy(),
                               params=self.params, content=self.content, label_names=tuple(self.names))

    def colours(self, ids: np.ndarray) -> np.ndarray:
        """The label colours of a map as an RGB image."""
        return self.palette[ids]

    def map_painted(self, ids: np.ndarray) -> None:
        """`ids`, the painting's or the doodle's label map, was painted in place (a stroke, a fill, an undo)."""
        if ids is self.style_ids:
            self.events.painting.emit(False)
        elif ids is self.target_ids:
            self.events.doodle.emit(False)
        else:
            raise ValueError("the painted map is neither the painting's nor the doodle's")

    def set_params(self, params: TransferParams) -> None:
        if params != self.params:
            self.params = params
            self.events.params.emit()

    def set_result(self, rgb: np.ndarray | None) -> None:
        if rgb is not self.result:
            self.result = rgb
            self.events.result.emit()

    # Labels -------------------------------------------------------------------------------------
    def add_label(self, name: str | None = None) -> int:
        label = self._append_label(name)
        self.events.labels.emit(LabelChange.ADDED)
        return label

    def _append_label(self, name: str | None = None) -> int:
        if len(self.palette) >= MAX_LABELS:
            raise ValueError(f"at most {MAX_LABELS} labels are supported")
        check_name(name or "")
        used = {hex_colour(c) for c in self.palette}
        free = [c for c in NEW_LABEL_COLOURS if c not in used]
        colour = rgb_from_hex(free[0]) if free else np.random.default_rng(len(self.palette)).integers(0, 256, 3)
        self.palette = np.vstack([self.palette, np.asarray(colour, np.uint8)[None]])
        self.names.append(name or f"label {len(self.palette)}")
        return len(self.palette) - 1

    def rename_label(self, label: int, name: str) -> None:
        check_name(name)
        if name != self.names[label]:
            self.names[label] = name
            self.events.labels.emit(LabelChange.RENAMED)

    def set_label_colour(self, label: int, rgb) -> None:
        """A label's new colour must stay apart from the others, or saved maps would merge them."""
        rgb = np.asarray(rgb, np.uint8)
        if np.array_equal(rgb, self.palette[label]):
            return
        others = np.delete(self.palette, label, axis=0)
        if len(others):
            nearest, distance = nearest_labels(rgb[None], others)
            if distance[0] <= MATCH_DISTANCE:
                other = int(nearest[0]) + (int(nearest[0]) >= label)
                raise ValueError(f"{hex_colour(rgb)} is too close to the colour of “{self.names[other]}”: "
                                 "pick a colour that differs more")
        self.palette = self.palette.copy()
        self.palette[label] = rgb
        self.events.labels.emit(LabelChange.RECOLOURED)

    def remove_label(self, label: int) -> None:
        """Pixels of `label` become the first other label; later ids shift down by one. The right button's
        label shifts with them (to that other label, if it was the one removed)."""
        if len(self.palette) < 2:
            raise ValueError("a map needs at least one label")
        replacement = 1 if label == 0 else 0
        for ids in (self.style_ids, self.target_ids):
            ids[ids == label] = replacement
            ids[ids > label] -= 1
        right = replacement if self.right_button_label == label else self.right_button_label
        self.right_button_label = right - (right > label)
        self.palette = np.delete(self.palette, label, axis=0)
        del self.names[label]
        self.events.labels.emit(LabelChange.REMOVED)

    def set_right_button_label(self, label: int) -> None:
        if not 0 <= label < len(self.palette):
            raise ValueError(f"there is no label {label}: the labels are 0 to {len(self.palette) - 1}")
        if label != self.right_button_label:
            self.right_button_label = label
            self.events.labels.emit(LabelChange.RIGHT_BUTTON)

    def label_in_use(self, label: int) -> bool:
        return bool(np.any(self.style_ids == label) or np.any(self.target_ids == label))

    def suggest_style_labels(self, count: int) -> Relabelling:
        """Segment the painting into `count` colour regions (fewer only if it has fewer colours), one label
        each: a region keeps the label that marked the most similar colours before, labels are added as needed
        and those left without a region dropped (the doodle's pixels of one go to the label most like it).
        Both maps change in place, so the undo steps that hold them still do."""
        regions = suggest_labels(self.style, count)
        old_labels = len(self.palette)
        while len(self.palette) <= regions.max():
            self._append_label()
        style_ids, kept, relabelling = relabel_regions(self.style, self.style_ids, regions, old_labels,
                                                       len(self.palette))
        self.target_ids[...] = relabelling.apply(self.target_ids)
        self.put_labels(self.palette[kept], [self.names[label] for label in kept], style_ids,
                        int(relabelling.apply(np.array(self.right_button_label))))
        return relabelling

    def put_labels(self, palette: np.ndarray, names: list[str], style_ids: np.ndarray, right_button_label: int) -> None:
        """The labels, the painting's map (in place) and the right button's label as a suggestion left them or
        found them (its undo and redo, once the doodle is in the same numbers)."""
        self.palette, self.names, self.right_button_label = palette, list(names), right_button_label
        self.style_ids[...] = style_ids
        self.events.painting.emit(False)
        self.events.doodle.emit(False)
        self.events.labels.emit(LabelChange.SUGGESTED)

    # Images -------------------------------------------------------------------------------------
    def set_style(self, rgb: np.ndarray, map_rgb: np.ndarray | None = None) -> None:
        """A new painting: its own label map if given (which sets the palette), else a suggested one whose
        regions keep the labels (names, colours, the doodle's meaning) that marked the most similar colours
        in the old painting. Everything is worked out before anything is replaced, so a painting or map
        that fails changes nothing."""
        check_min_side(rgb, "the painting", MIN_STYLE_SIDE)
        if map_rgb is None:
            labels = len(self.palette)
            self.replace_painting(rgb, carry_labels(self.style, self.style_ids, rgb, suggest_labels(rgb, labels),
                                                    labels))
            return
        new = style_label_map(fit_map_to_image(map_rgb, rgb.shape[:2], "the style map"))
        nearest, distance = nearest_labels(new.palette, self.palette)
        names = [self.names[n] if d <= MATCH_DISTANCE else f"label {i + 1}"
                 for i, (n, d) in enumerate(zip(nearest, distance))]
        back, back_distance = nearest_labels(self.palette, new.palette)
        remap = np.where(back_distance <= MATCH_DISTANCE, back, 0)
        self.style, self.target_ids = rgb, remap[self.target_ids]
        self.style_ids, self.palette, self.names = new.ids, new.palette, names
        self.right_button_label = int(remap[self.right_button_label])
        self.events.painting.emit(True)
        self.events.doodle.emit(False)
        self.events.labels.emit(LabelChange.REPLACED)

    def set_style_map(self, map_rgb: np.ndarray) -> None:
        self.set_style(self.style, map_rgb)

    def replace_painting(self, rgb: np.ndarray, style_ids: np.ndarray) -> None:
        """A painting and its label map in the current labels (opened, or put back by undo)."""
        if style_ids.shape != rgb.shape[:2]:
            raise ValueError(f"a {style_ids.shape[1]}x{style_ids.shape[0]} label map does not fit a "
                             f"{rgb.shape[1]}x{rgb.shape[0]} painting")
        self.style, self.style_ids = rgb, style_ids
        self.events.painting.emit(True)

    def doodle_ids(self, rgb: np.ndarray) -> np.ndarray:
        """The label ids of a doodle painted elsewhere in the style map's colours, changing nothing; a foreign
        colour raises LabelMapError."""
        check_min_side(rgb, "the doodle", MIN_DOODLE_SIDE)
        return target_label_ids(rgb, self.palette, self.names)

    def replace_doodle(self, target_ids: np.ndarray, content: np.ndarray | None = None) -> None:
        """Another doodle's map, and the photo under it if any (opened, or put back by undo)."""
        if content is not None and content.shape[:2] != target_ids.shape:
            raise ValueError("the photo under a doodle has the doodle's size")
        self.target_ids, self.content = target_ids, content
        self.events.doodle.emit(True)

    def set_content(self, rgb: np.ndarray | None) -> None:
        """A photo under the doodle; the doodle is resized to it (nearest neighbour) if needed."""
        if rgb is None:
            if self.content is not None:
                self.replace_doodle(self.target_ids)
            return
        check_min_side(rgb, "the photo", MIN_DOODLE_SIDE)
        target_ids = self.target_ids
        if target_ids.shape != rgb.shape[:2]:
            target_ids = resize_nearest(target_ids, rgb.shape[1], rgb.shape[0])
        self.replace_doodle(target_ids, rgb)


def check_name(name: str) -> None:
    if len(name) > MAX_NAME_LENGTH:
        raise ValueError(f"a label name has at most {MAX_NAME_LENGTH} characters, not {len(name)}")
