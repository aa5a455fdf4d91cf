"""The label palette: one swatch per label with an editable name; the selected one is the brush's label."""
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
    eraser_requested = Signal(int)
    suggest_requested = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.list = QListWidget()
        self.list.setIconSize(QSize(SWATCH, SWATCH))
        self.list.setEditTriggers(QListWidget.EditTrigger.DoubleClicked | QListWidget.EditTrigger.EditKeyPressed)
        self.list.setToolTip("Click a label to paint with it. Double-click to rename it. The label in bold "
                             "is what the eraser and the right mouse button paint.")
        self.list.currentRowChanged.connect(lambda row: row >= 0 and self.label_selected.emit(row))
        self.list.itemChanged.connect(lambda item: self.name_edited.emit(self.list.row(item), item.text()))
        self.add = QPushButton("Add label")
        self.remove = QPushButton("Remove")
        self.eraser = QPushButton("Use for eraser")
        self.suggest = QPushButton("Suggest labels…")
        self.add.setToolTip("Add a new label with its own colour.")
        self.remove.setToolTip("Remove the selected label; its pixels become another label.")
        self.eraser.setToolTip("The eraser and the right mouse button paint the selected label.")
        self.suggest.setToolTip("Split the painting into colour regions as a starting label map you then correct.")
        self.add.clicked.connect(self.add_requested)
        self.remove.clicked.connect(lambda: self.remove_requested.emit(self.list.currentRow()))
        self.eraser.clicked.connect(lambda: self.eraser_requested.emit(self.list.currentRow()))
        self.suggest.clicked.connect(self.suggest_requested)
        buttons = QGridLayout()
        buttons.addWidget(self.add, 0, 0)
        buttons.addWidget(self.remove, 0, 1)
        buttons.addWidget(self.eraser, 1, 0)
        buttons.addWidget(self.suggest, 1, 1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.list, 1)
        layout.addLayout(buttons)

    def set_labels(self, palette: np.ndarray, names: list[str], current: int, eraser: int) -> None:
        self.list.blockSignals(True)
        self.list.clear()
        for index, (rgb, name) in enumerate(zip(palette, names)):
            item = QListWidgetItem(swatch_icon(rgb), name)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsEditable)
            if index == eraser:
                font = QFont(item.font())
                font.setBold(True)
                item.setFont(font)
            self.list.addItem(item)
        self.list.setCurrentRow(current)
        self.list.blockSignals(False)
        self.remove.setEnabled(len(names) > 1)
