"""Suggest Labels as one undo step: the painting's map and the labels swap with what they were, and the maps it
does not replace are renumbered both ways.

The painting's map is swapped whole: its strokes are on the same undo stack, so undo always finds it as the
suggestion left it. The doodle and its eraser's original may have been painted on (or the doodle replaced)
since, so they are renumbered instead (model.suggest.Relabelling). The doodle's own undo steps hold the label
numbers of their moment; when the suggestion adds or drops labels they would paint the wrong ones, so they
are cleared then.
"""
from __future__ import annotations

import numpy as np
from PySide6.QtGui import QUndoCommand


class SuggestLabelsCommand(QUndoCommand):
    def __init__(self, window, count: int):
        """Suggests `count` regions on the window's document at once; pushing the command then keeps it."""
        super().__init__("Suggest labels")
        self.window = window
        doc, doodle_painter = window.doc, window.doodle_painter
        self.before = (doc.palette, list(doc.names), doc.style_ids.copy(), window.style_painter.original)
        self.doodle_before = doc.target_ids.copy()
        self.doodle_original_before = doodle_painter.original
        self.label_before = window.tools.label
        self.right_button_before = doc.right_button_label
        self.relabelling = doc.suggest_style_labels(count)        # the doodle and the right button's label too
        window.style_painter.keep_original()
        self.after = (doc.palette, list(doc.names), doc.style_ids.copy(), window.style_painter.original)
        self.right_button_after = doc.right_button_label
        self._renumber_rest(forward=True, label=self.label_before, doodle=False)   # the document renumbered it
        self.applied = True

    @property
    def changed_anything(self) -> bool:
        return not self.relabelling.identity or not np.array_equal(self.before[2], self.after[2])

    def summary(self, count: int) -> str:
        """What the status bar says: how many regions, which labels went, and what the doodle's pixels of
        those became."""
        regions, old_names, new_names = len(self.after[0]), self.before[1], self.after[1]
        found = (f"Suggested {regions} regions, one label each" if regions == count else
                 f"The painting has only {regions} colours: suggested {regions} regions, one label each")
        merged = self.relabelling.merged()
        if not merged:
            return f"{found}: correct it with the brush, and name the labels."
        gone = ", ".join(f"“{old_names[old]}”" for old, _ in merged)
        moved = ", ".join(f"“{old_names[old]}” is now “{new_names[new]}”" for old, new in merged
                          if np.any(self.doodle_before == old))
        return (f"{found}; no region was left for {gone}, so {'they are' if len(merged) > 1 else 'it is'} removed"
                + (f" (on the doodle, {moved})." if moved else "."))

    def redo(self):
        if self.applied:                  # QUndoStack.push calls redo once; the suggestion is already made
            self.applied = False
            return
        self._renumber_rest(forward=True, label=self.window.tools.label)
        self._put(self.after, self.right_button_after)

    def undo(self):
        self._renumber_rest(forward=False, label=self.window.tools.label)
        self._put(self.before, self.right_button_before)

    def _put(self, state: tuple, right_button_label: int) -> None:
        """The labels and the painting's map, announced once the rest is in the same numbers."""
        palette, names, style_ids, self.window.style_painter.original = state
        self.window.doc.put_labels(palette, names, style_ids, right_button_label)

    def _renumber_rest(self, forward: bool, label: int, doodle: bool = True) -> None:
        """The doodle, its eraser's original and the selected label (`label`, in the other numbers) in the new
        numbers, or back in the old ones (where a value is as the suggestion left it, as it was before); the
        doodle's undo steps go if the numbers changed."""
        window, relabelling = self.window, self.relabelling
        painter, tools, doc = window.doodle_painter, window.tools, window.doc

        def renumber(ids: np.ndarray, before: np.ndarray | None) -> np.ndarray:
            return relabelling.apply(ids) if forward else relabelling.revert(ids, before)

        if doodle:
            doc.target_ids[...] = renumber(doc.target_ids, self.doodle_before)
        if painter.original is not None:
            painter.original = renumber(painter.original, self.doodle_original_before)
        tools.label = int(renumber(np.array([label]), np.array([self.label_before]))[0])
        if not relabelling.identity:
            window.doodle_undo.clear()
