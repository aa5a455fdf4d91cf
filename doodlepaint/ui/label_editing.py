"""The label palette at work: choosing, naming, colouring, adding and removing labels, and suggesting a
painting's label map from its colours.

A collaborator of MainWindow: labels belong to the document (both maps share them); it changes them
through the document, whose announcements the palette and the maps follow. Suggest Labels is one undo step
on the painting.
"""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QMessageBox

from doodlepaint.ui.label_dialogs import ask_label_colour, ask_label_count, ask_label_name, confirm_replace_map
from doodlepaint.ui.label_suggestion import SuggestLabelsCommand


class LabelEditing:
    def __init__(self, window):
        self.window = window

    def select_label(self, label: int) -> None:
        self.window.tools.label = label

    def set_right_button_label(self, label: int) -> None:
        if label >= 0:
            self.window.doc.set_right_button_label(label)

    def rename_label(self, label: int, typed: str) -> None:
        window = self.window
        name = typed.strip()
        if name:
            with window.guard("Cannot rename the label"):
                window.doc.rename_label(label, name)
        if window.doc.names[label] != typed:
            window.show_labels()        # the list still shows what was typed, which the label did not take as it is

    def add_label(self) -> None:
        window = self.window
        name = ask_label_name(window, f"label {len(window.doc.palette) + 1}")
        if name is None:
            return
        with window.guard("Cannot add a label"):
            window.tools.label = window.doc.add_label(name)

    def ask_label_colour(self, label: int) -> None:
        window = self.window
        if not 0 <= label < len(window.doc.palette):
            return
        rgb = ask_label_colour(window, window.doc.names[label], window.doc.palette[label])
        if rgb is not None:
            self.set_label_colour(label, rgb)

    def set_label_colour(self, label: int, rgb) -> None:
        window = self.window
        with window.guard("Cannot change the label's colour"):
            window.doc.set_label_colour(label, rgb)

    def remove_label(self, label: int) -> None:
        window = self.window
        if label < 0 or len(window.doc.palette) < 2:
            return
        if window.doc.label_in_use(label):
            answer = QMessageBox.question(
                window, "Remove label", f"“{window.doc.names[label]}” is painted on the maps. Remove it and "
                "repaint its pixels with another label? This cannot be undone.")
            if answer != QMessageBox.StandardButton.Yes:
                return
        window.doc.remove_label(label)

    def style_map_has_edits(self) -> bool:
        """The painter corrected the painting's map: in this session, or in the project it came from."""
        return self.window.style_undo.canUndo() or self.window.project_path is not None

    def ask_suggest_labels(self) -> None:
        window = self.window
        if self.style_map_has_edits() and not confirm_replace_map(window):
            return
        count = ask_label_count(window, len(window.doc.palette))
        if count is not None:
            self.suggest_labels(count)

    def suggest_labels(self, count: int) -> None:
        window = self.window
        QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            suggestion = SuggestLabelsCommand(window, count)
        finally:
            QApplication.restoreOverrideCursor()
        if suggestion.changed_anything:
            window.style_undo.push(suggestion)
        window.activate(window.style_view, window.style_undo)     # so Edit → Undo takes the suggestion back
        window.statusBar().showMessage(suggestion.summary(count), 12000)
