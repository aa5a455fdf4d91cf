"""Tools on a label-map canvas: brush, eraser, fill, eyedropper and shift-click lines, one undo step each."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from psygnal import evented
from PySide6.QtCore import QObject, QPointF, Qt, Signal
from PySide6.QtGui import QUndoCommand, QUndoStack

from doodlepaint.model.painting import MapEdit, Stroke, flood_fill, paint_segment

TOOLS = ("brush", "eraser", "fill", "eyedropper")


@evented
@dataclass
class ToolState:
    """Shared by both canvases: what a click does and with which label (the right button paints the
    document's right_button_label). Setting a field to a new value announces it on `events`."""

    tool: str = "brush"
    size: int = 12
    label: int = 0


class EditCommand(QUndoCommand):
    """A change already made to a map; undo and redo swap its rectangle."""

    def __init__(self, edit: MapEdit, text: str, on_change: Callable[[], None]):
        super().__init__(text)
        self.edit, self.on_change, self.applied = edit, on_change, True

    def redo(self):
        if self.applied:                      # QUndoStack.push calls redo once; the edit is already there
            self.applied = False
            return
        self.edit.redo()
        self.on_change()

    def undo(self):
        self.edit.undo()
        self.on_change()


class PaintController(QObject):
    """Turns a canvas's pointer events into edits of one label map, pushed on that map's undo stack.

    The eraser takes strokes back: it restores the map as it was when it was last opened, suggested or
    cleared (`keep_original`), the way an eraser on a layer shows what lies beneath.
    """

    painted = Signal(int, int, int, int)   # a brush dab changed pixels in (top, left, bottom, right) only
    edited = Signal()           # a stroke, fill, undo or redo is finished: pixels anywhere may have changed
    picked = Signal(int)        # the eyedropper chose a label

    def __init__(self, canvas, get_ids: Callable[[], np.ndarray], get_right_button_label: Callable[[], int],
                 tools: ToolState, stack: QUndoStack):
        super().__init__(canvas)
        self.get_ids, self.get_right_button_label = get_ids, get_right_button_label
        self.tools, self.stack = tools, stack
        self.stroke: Stroke | None = None
        self.label: int | np.ndarray = 0
        self.last: tuple[float, float] | None = None
        self.original: np.ndarray | None = None
        canvas.pressed.connect(self.press)
        canvas.dragged.connect(self.drag)
        canvas.released.connect(self.release)

    def keep_original(self) -> None:
        """The map as it is now is what the eraser brings back."""
        self.original = self.get_ids().copy()

    def _erased_map(self) -> np.ndarray:
        if self.original is None or self.original.shape != self.get_ids().shape:
            self.keep_original()        # a map replaced without telling: erasing then changes nothing
        return self.original

    def _inside(self, point: tuple[float, float]) -> bool:
        height, width = self.get_ids().shape
        return 0 <= point[0] < width and 0 <= point[1] < height

    def press(self, position: QPointF, button, modifiers) -> None:
        point = (position.x(), position.y())
        ids = self.get_ids()
        tool = self.tools.tool
        if tool == "eyedropper":
            if self._inside(point):
                self.picked.emit(int(ids[int(point[1]), int(point[0])]))
            return
        if tool == "eraser":
            self.label = self._erased_map()
        else:
            self.label = self.get_right_button_label() if button == Qt.MouseButton.RightButton else self.tools.label
        self.stroke = Stroke(ids)
        if tool == "fill":
            flood_fill(ids, point, self.label)
            self._finish("Fill")
            return
        line = bool(modifiers & Qt.KeyboardModifier.ShiftModifier) and self.last is not None
        self._paint(self.last if line else point, point)

    def drag(self, position: QPointF) -> None:
        if self.stroke is not None:
            self._paint(self.last, (position.x(), position.y()))

    def _paint(self, start: tuple[float, float], end: tuple[float, float]) -> None:
        rectangle = paint_segment(self.get_ids(), start, end, self.tools.size, self.label)
        self.last = end
        if rectangle is not None:
            self.painted.emit(*rectangle)

    def release(self, position: QPointF) -> None:
        if self.stroke is not None:
            self._finish("Erase" if self.tools.tool == "eraser" else "Paint")

    def _finish(self, text: str) -> None:
        edit = self.stroke.finish()
        self.stroke = None
        if edit is not None:
            self.stack.push(EditCommand(edit, text, self.history_changed))
            self.history_changed()

    def record(self, edit: MapEdit, text: str) -> None:
        """An edit of the map made elsewhere (a new or opened doodle, suggested labels): one undo step, and
        the map as it now is is what the eraser brings back."""
        self.stack.push(EditCommand(edit, text, self.history_changed))
        self.keep_original()
        self.history_changed()

    def history_changed(self) -> None:
        self.edited.emit()
