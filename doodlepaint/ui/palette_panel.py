"""The label palette: one swatch per label with an editable name; the selected one is the brush's label.

The list's items are updated in place, not rebuilt: a click selects the label (and the window pushes
the palette back) between the two clicks of a double-click, which must still find its item to rename."""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QIcon, QPainter, QPixmap
from PySide6.QtWidgets import QGridLayout, QListWidget, QListWidgetItem, QPushButton, QVBoxLayout, QWidget

SWATCH = 22


def swatch_icon(rgb) -> QIcon:
    pixmap = QPixmap(SWATCH, SWATCH)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setPen(QColor(20, 20, 20))
    painter.setBrush(QColor(*(int(v) for v in rgb)))
    painter.drawRoundedRect(1, 1, SWATCH - 2, SWATCH - 2, 4, 4)
    painter.end()
    return QIcon(pixmap)


class PalettePanel(QWidget):
    label_selected = Signal(int)
    name_edited = Signal(int, str)
    add_requested = Signal()
    remove_requested = Signal(int)
    right_button_requested = Signal(int)
    colour_requested = Signal(int)
    suggest_requested = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.list = QListWidget()
        self.list.setIconSize(QSize(SWATCH, SWATCH))
        self.list.setEditTriggers(QListWidget.EditTrigger.DoubleClicked | QListWidget.EditTrigger.EditKeyPressed)
        self.list.setToolTip("Click a label to paint with it. Double-click to rename it. The label in bold "
                             "is what the right mouse button paints.")
        self.list.currentRowChanged.connect(lambda row: row >= 0 and self.label_selected.emit(row))
        self.list.itemChanged.connect(lambda item: self.name_edited.emit(self.list.row(item), item.text()))
        self.add = QPushButton("Add label")
        self.remove = QPushButton("Remove")
        self.right_button = QPushButton("Right-button label")
        self.colour = QPushButton("Colour…")
        self.suggest = QPushButton("Suggest labels…")
        self.add.setToolTip("Add a new label with its own colour.")
        self.remove.setToolTip("Remove the selected label; its pixels become another label.")
        self.right_button.setToolTip("The right mouse button paints the selected label (shown in bold).")
        self.colour.setToolTip("Change the selected label's colour on both maps.")
        self.suggest.setToolTip("Split the painting into colour regions as a starting label map you then correct.")
        self.add.clicked.connect(self.add_requested)
        self.remove.clicked.connect(lambda: self.remove_requested.emit(self.list.currentRow()))
        self.right_button.clicked.connect(lambda: self.right_button_requested.emit(self.list.currentRow()))
        self.suggest.clicked.connect(self.suggest_requested)
        self.colour.clicked.connect(lambda: self.colour_requested.emit(self.list.currentRow()))
        buttons = QGridLayout()
        buttons.addWidget(self.add, 0, 0)
        buttons.addWidget(self.remove, 0, 1)
        buttons.addWidget(self.colour, 1, 0)
        buttons.addWidget(self.right_button, 1, 1)
        buttons.addWidget(self.suggest, 2, 0, 1, 2)
        layout = QVBoxLayout(self)
        layout.addWidget(self.list, 1)
        layout.addLayout(buttons)

    def set_labels(self, palette: np.ndarray, names: list[str], current: int, right_button: int) -> None:
        self.list.blockSignals(True)
        while self.list.count() > len(names):
            self.list.takeItem(self.list.count() - 1)
        while self.list.count() < len(names):
            item = QListWidgetItem()
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsEditable)
            self.list.addItem(item)
        for index, (rgb, name) in enumerate(zip(palette, names)):
            item = self.list.item(index)
            item.setIcon(swatch_icon(rgb))
            if item.text() != name:
                item.setText(name)
            font = QFont(item.font())
            font.setBold(index == right_button)
            item.setFont(font)
        if self.list.currentRow() != current:
            self.list.setCurrentRow(current)
        self.list.blockSignals(False)
        self.remove.setEnabled(len(names) > 1)
