"""The questions the window asks about labels: before replacing a map, a new label's name, a colour."""
from __future__ import annotations

import numpy as np
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QColorDialog, QInputDialog, QMessageBox, QWidget

from doodlepaint.ui.files import after_dialog


def confirm_replace_map(parent: QWidget) -> bool:
    """Suggest Labels replaces the painting's label map: ask first when the painter has corrected it."""
    return confirm_replace(parent, "Replace the label map?",
                           "Suggest Labels replaces the painting's label map, including your corrections to it. "
                           "Edit → Undo brings them back.")


def confirm_replace(parent: QWidget, title: str, text: str) -> bool:
    """Yes to replace a map the painter has edited; Cancel, the default, keeps it."""
    buttons = QMessageBox.StandardButton
    return QMessageBox.question(parent, title, text, buttons.Yes | buttons.Cancel, buttons.Cancel) == buttons.Yes


def ask_label_count(parent: QWidget, current: int) -> int | None:
    count, ok = after_dialog(QInputDialog.getInt(parent, "Suggest labels", "Split the painting into this many "
                                                 "colour regions:", current, 2, 32), parent)
    return count if ok else None


def ask_label_name(parent: QWidget, suggestion: str) -> str | None:
    """A new label's name; None when the painter cancels."""
    name, ok = after_dialog(QInputDialog.getText(parent, "Add label", "Name of the new label (what it marks: sky, "
                                                 "sea, …):", text=suggestion), parent)
    name = name.strip()
    return name if ok and name else None


def ask_label_colour(parent: QWidget, name: str, rgb: np.ndarray) -> np.ndarray | None:
    """A new colour for a label; None when the painter cancels."""
    colour = after_dialog(QColorDialog.getColor(QColor(*(int(v) for v in rgb)), parent, f"Colour of “{name}”"),
                          parent)
    if not colour.isValid():
        return None
    return np.array([colour.red(), colour.green(), colour.blue()], np.uint8)
