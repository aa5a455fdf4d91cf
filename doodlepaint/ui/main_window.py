"""The main window: three views (painting + labels, doodle, result), the label palette, render settings.

The Document is the single source of truth. Widgets and the window's collaborators change it through its
methods; it announces each change (model/open_document.py), and the views here follow those announcements.
"""
from __future__ import annotations

import contextlib
from pathlib import Path

import numpy as np
from PySide6.QtCore import QSettings, QSignalBlocker, Qt
from PySide6.QtGui import QPainter, QUndoGroup, QUndoStack
from PySide6.QtWidgets import (QApplication, QDockWidget, QLabel, QMainWindow, QMessageBox, QProgressBar, QScrollArea,
                               QSizePolicy, QSplitter, QTextBrowser, QVBoxLayout, QWidget, QDialog, QDialogButtonBox)

from doodlepaint.engine import DoodleError, device_name, pick_device
from doodlepaint.model.autosave import Recovery
from doodlepaint.model.document import Document, LabelChange
from doodlepaint.model.open_document import OpenDocument
from doodlepaint.ui.canvas import CanvasView
from doodlepaint.ui.document_files import DocumentFiles, sample_document
from doodlepaint.ui.export_size import ExportAtSize
from doodlepaint.ui.help_text import HOW_IT_WORKS
from doodlepaint.ui.label_editing import LabelEditing
from doodlepaint.ui.menus import WindowMenus
from doodlepaint.ui.painting import PaintController, ToolState
from doodlepaint.ui.palette_panel import PalettePanel
from doodlepaint.ui.params_panel import ParamsPanel
from doodlepaint.ui.qimages import qimage_from_rgb
from doodlepaint.ui.remote_dialog import (REMOTE, RemoteConnection, RemoteServerDialog, connected_message,
                                          remote_label, remote_server)
from doodlepaint.ui.rendering import RenderSession

DOCK_WIDTH = 300        # leaves the three views room in an 800 px window


def available_devices(settings: QSettings) -> list[tuple[str, str]]:
    devices = [("auto", f"Automatic ({device_name(pick_device('auto'))})"), ("cpu", "CPU")]
    for choice in ("cuda", "mps"):
        with contextlib.suppress(DoodleError):
            devices.append((choice, device_name(pick_device(choice))))
    return [*devices, (REMOTE, remote_label(settings))]


def _scrolling(widget: QWidget) -> QScrollArea:
    """A panel taller than a small screen scrolls instead of running under the status bar."""
    area = QScrollArea()
    area.setWidget(widget)
    area.setWidgetResizable(True)
    area.setFrameShape(QScrollArea.Shape.NoFrame)
    # a narrow dock scrolls sideways rather than cutting the spin boxes off out of reach
    area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
    return area


class OneLineCaption(QLabel):
    """A caption that never asks for more width than it is given, so a long one cannot push the panes
    around: it is cut with "…" to its width, and its tooltip holds it whole."""

    def __init__(self):
        super().__init__()
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)

    def setText(self, text: str) -> None:
        super().setText(text)
        self.setToolTip(text)

    def paintEvent(self, event):
        painter = QPainter(self)
        shown = self.fontMetrics().elidedText(self.text(), Qt.TextElideMode.ElideRight, self.width())
        painter.drawText(self.rect(), Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, shown)


def _panel(title: str, hint: str, view: CanvasView) -> QWidget:
    panel = QWidget()
    layout = QVBoxLayout(panel)
    layout.setContentsMargins(4, 4, 4, 4)
    layout.setSpacing(2)
    header = QLabel(f"<b>{title}</b>&nbsp;&nbsp;<span style='color:#9a9a9a'>{hint}</span>")
    layout.addWidget(header)
    layout.addWidget(view, 1)
    return panel


class MainWindow(QMainWindow):
    def __init__(self, recovery: Recovery, document: Document | None = None, encoder=None):
        super().__init__()
        self.open_document = OpenDocument(document or sample_document())
        self.project_path: Path | None = None
        self.tools = ToolState()
        self.labels = LabelEditing(self)
        self.settings = QSettings()
        self.device_choice = str(self.settings.value("device", "auto"))
        self.remote = RemoteConnection(self)
        self.remote_ticket = 0              # the connection check a choice of the remote device waits for
        self.rendering = RenderSession(self, encoder)
        self.export_at_size = ExportAtSize(self)
        self.export_at_size.saved.connect(lambda path: self.statusBar().showMessage(f"Exported {path}", 8000))
        self.export_at_size.failed.connect(lambda message: QMessageBox.warning(self, "Cannot export", message))
        self.undo_group = QUndoGroup(self)
        self.style_undo, self.doodle_undo = QUndoStack(self.undo_group), QUndoStack(self.undo_group)

        self.style_view = CanvasView("Open a painting (File → Open Painting…) or drop one here")
        self.doodle_view = CanvasView("Paint a doodle here")
        self.result_view = CanvasView("Press Render to paint your doodle in the painting's style")
        self.active_view = self.style_view
        for view in (self.style_view, self.doodle_view):
            view.paintable = True
        self.style_painter = PaintController(self.style_view, lambda: self.doc.style_ids,
                                             lambda: self.doc.right_button_label, self.tools, self.style_undo)
        self.doodle_painter = PaintController(self.doodle_view, lambda: self.doc.target_ids,
                                              lambda: self.doc.right_button_label, self.tools, self.doodle_undo)
        self.style_painter.painted.connect(
            lambda *rectangle: self._show_overlay_region(self.style_view, self.doc.style_ids, *rectangle))
        self.doodle_painter.painted.connect(
            lambda *rectangle: self._show_overlay_region(self.doodle_view, self.doc.target_ids, *rectangle))
        for view, stack in ((self.style_view, self.style_undo), (self.doodle_view, self.doodle_undo),
                            (self.result_view, None)):
            view.activated.connect(lambda v=view, s=stack: self.activate(v, s))
        for view in (self.style_view, self.doodle_view):
            view.pressed.connect(self._show_map_to_paint)
        self.doodle_view.pressed.connect(lambda *_: self.set_comparing(False))   # paint on what you see
        # the doodle and its render are one picture at two resolutions: zoom and pan them together
        self.doodle_view.view_changed.connect(lambda: self.result_view.follow(self.doodle_view))
        self.result_view.view_changed.connect(lambda: self.doodle_view.follow(self.result_view))
        for painter in (self.style_painter, self.doodle_painter):
            painter.edited.connect(lambda p=painter: self.doc.map_painted(p.get_ids()))
            painter.picked.connect(self.labels.select_label)

        self.palette_panel = PalettePanel()
        self.params_panel = ParamsPanel(available_devices(self.settings))
        self.params_panel.set_device(self.device_choice)
        self._connect_panels()


        self.files = DocumentFiles(self, recovery)
        self._build_layout()
        self.menus = WindowMenus(self)
        self.set_map_visible(True)
        self._build_status()
        self.setAcceptDrops(True)
        screen = QApplication.primaryScreen().availableGeometry()   # never larger than the screen it opens on
        self.resize(min(1500, screen.width()), min(950, screen.height()))
        self.resizeDocks([self.labels_dock, self.settings_dock], [2, 3], Qt.Orientation.Vertical)
        # as wide as the settings need where the window has room (a narrow window scrolls them instead)
        self.resizeDocks([self.settings_dock], [self.params_panel.sizeHint().width() + 24], Qt.Orientation.Horizontal)
        self.restoreGeometry(self.settings.value("geometry", b""))
        self.restoreState(self.settings.value("window_state", b""))
        self._follow_document()
        self.set_document(self.doc, None)

    @property
    def doc(self) -> Document:
        return self.open_document.document

    # Layout -------------------------------------------------------------------------------------
    def _build_layout(self) -> None:
        maps = QSplitter(Qt.Orientation.Vertical)
        self.style_panel = _panel("Painting", "its label map on top: paint to correct it", self.style_view)
        maps.addWidget(self.style_panel)
        maps.addWidget(_panel("Doodle", "paint with the labels", self.doodle_view))
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(maps)
        result_panel = self.result_panel = _panel("Result", "", self.result_view)
        self.result_state_label = OneLineCaption()
        self.result_state_label.setObjectName("result_state")
        result_panel.layout().insertWidget(1, self.result_state_label)
        splitter.addWidget(result_panel)
        for part in (maps, splitter):
            part.setChildrenCollapsible(False)
        splitter.setSizes([420, 580])
        self.setCentralWidget(splitter)
        self.labels_dock = self._dock("Labels", self.palette_panel, "labels_dock")
        self.settings_dock = self._dock("Render settings", _scrolling(self.params_panel), "settings_dock")

    def _dock(self, title: str, widget: QWidget, name: str) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(name)
        dock.setWidget(widget)
        dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable |
                         QDockWidget.DockWidgetFeature.DockWidgetFloatable)
        dock.setMinimumWidth(DOCK_WIDTH)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
        return dock

    def _build_status(self) -> None:
        self.progress_label = QLabel("Ready")
        self.progress_bar = QProgressBar()
        self.progress_bar.setRange(0, 1000)
        self.progress_bar.setFixedWidth(240)
        self.progress_bar.setTextVisible(False)
        self.progress_bar.hide()
        self.statusBar().addPermanentWidget(self.progress_label)
        self.statusBar().addPermanentWidget(self.progress_bar)

    def _connect_panels(self) -> None:
        panel = self.palette_panel
        panel.label_selected.connect(self.labels.select_label)
        panel.name_edited.connect(self.labels.rename_label)
        panel.add_requested.connect(self.labels.add_label)
        panel.remove_requested.connect(self.labels.remove_label)
        panel.right_button_requested.connect(self.labels.set_right_button_label)
        panel.colour_requested.connect(self.labels.ask_label_colour)
        panel.suggest_requested.connect(self.labels.ask_suggest_labels)
        self.params_panel.params_changed.connect(lambda params: self.doc.set_params(params))
        self.params_panel.device_changed.connect(self.set_device)

    # Document -> views --------------------------------------------------------------------------
    def set_document(self, document: Document, path: Path | None, recovered: bool = False) -> None:
        """Open `document` (from `path`, or recovered from autosaved work: then unsaved)."""
        self.project_path = path
        self.open_document.replace(document, recovered)

    def _follow_document(self) -> None:
        """The views show the open document as it changes; every change but a new render is unsaved work."""
        events = self.open_document.events
        events.replaced.connect(self._document_replaced)
        events.painting.connect(self._show_painting)
        events.doodle.connect(self._show_doodle)
        events.labels.connect(self._labels_changed)
        events.params.connect(self._show_params)
        events.result.connect(self.show_result)
        for change in (events.painting, events.doodle, events.labels, events.params):
            change.connect(lambda: self.set_dirty(True))
        self.tools.events.label.connect(self.show_labels)

    def _document_replaced(self, recovered: bool) -> None:
        self.tools.label = min(self.tools.label, len(self.doc.palette) - 1)
        self._forget_history()
        self._show_painting(True)
        self._show_doodle(True)
        self.show_result()
        self.show_labels()
        self._show_params()
        self.set_dirty(recovered)
        self.fit_views()

    def _labels_changed(self, change: LabelChange) -> None:
        if change.renumbers:
            self._forget_history()
        self.tools.label = min(self.tools.label, len(self.doc.palette) - 1)
        self.show_labels()
        if change.recolours:
            self._show_painting(False)
            self._show_doodle(False)

    def _forget_history(self) -> None:
        """Maps were replaced or renumbered: old undo steps no longer apply."""
        self.style_undo.clear()
        self.doodle_undo.clear()
        self.style_painter.keep_original()
        self.doodle_painter.keep_original()

    def _overlay(self, ids: np.ndarray):
        return qimage_from_rgb(self.doc.colours(ids))

    def _show_painting(self, picture: bool) -> None:
        """`picture`: the painting itself changed, not only its label map."""
        if picture:
            self.style_view.set_images(qimage_from_rgb(self.doc.style), self._overlay(self.doc.style_ids))
        else:
            self.style_view.set_overlay(self._overlay(self.doc.style_ids))

    def _show_doodle(self, picture: bool) -> None:
        """`picture`: the photo under the doodle or the doodle's size changed, not only its labels."""
        if picture:
            content = None if self.doc.content is None else qimage_from_rgb(self.doc.content)
            self.doodle_view.set_images(content, self._overlay(self.doc.target_ids))
        else:
            self.doodle_view.set_overlay(self._overlay(self.doc.target_ids))

    def _show_overlay_region(self, view: CanvasView, ids: np.ndarray, top: int, left: int, bottom: int,
                             right: int) -> None:
        """A brush dab mid-stroke: the map is announced once the stroke is finished."""
        view.update_overlay_region(self._overlay(ids[top:bottom, left:right]), left, top)

    def show_result(self) -> None:
        """The finished render (also after a cancel or a failure left a frame of an unfinished one on view)."""
        result = None if self.doc.result is None else qimage_from_rgb(self.doc.result)
        self.result_view.set_images(result)
        if self.menus.compare_action.isChecked():
            self.set_comparing(True)                 # the comparison shows the new picture

    def show_labels(self) -> None:
        self.palette_panel.set_labels(self.doc.palette, self.doc.names, self.tools.label,
                                      self.doc.right_button_label)

    def _show_params(self) -> None:
        self.params_panel.set_params(self.doc.params)

    def set_dirty(self, dirty: bool) -> None:
        self.dirty = dirty
        name = self.project_path.stem if self.project_path else "Untitled"
        self.setWindowTitle(f"doodlepaint — {name}[*]")
        self.setWindowModified(dirty)

    def activate(self, view: CanvasView, stack: QUndoStack | None) -> None:
        self.active_view = view
        if stack is not None:
            self.undo_group.setActiveStack(stack)

    # Tools and labels ----------------------------------------------------------------------------
    def set_tool(self, tool: str) -> None:
        self.tools.tool = tool
        self.menus.tool_actions[tool].setChecked(True)
        for view in (self.style_view, self.doodle_view):
            view.brush_size = self.tools.size if tool in ("brush", "eraser") else 0
            view.setCursor(Qt.CursorShape.CrossCursor if tool in ("fill", "eyedropper") else
                           Qt.CursorShape.ArrowCursor)
            view.update()

    def step_brush_size(self, steps: int) -> None:
        """[ and ]: a fifth of the size per step, so that small and big brushes change at the same pace."""
        self.set_brush_size(self.tools.size + steps * max(1, self.tools.size // 5))

    def set_brush_size(self, size: int) -> None:
        self.tools.size = max(1, min(300, int(size)))
        self.menus.size_spin.blockSignals(True)
        self.menus.size_spin.setValue(self.tools.size)
        self.menus.size_spin.blockSignals(False)
        self.set_tool(self.tools.tool)

    def set_overlay_opacity(self, percent: int) -> None:
        for view in (self.style_view, self.doodle_view):
            view.set_overlay_opacity(percent / 100)

    def set_map_visible(self, visible: bool) -> None:
        self.menus.show_map_action.setChecked(visible)
        self.menus.show_map_action.setIconText("Map shown" if visible else "Map hidden")
        for view in (self.style_view, self.doodle_view):
            view.set_overlay_visible(visible)

    def _show_map_to_paint(self) -> None:
        """Painting on a hidden map would be painting blind: a stroke shows the map again."""
        if not self.menus.show_map_action.isChecked() and self.tools.tool != "eyedropper":
            self.set_map_visible(True)
            self.statusBar().showMessage("Showing the label map: it is what you paint on (M hides it).", 6000)

    # Parameters ---------------------------------------------------------------------------------
    def set_device(self, choice: str) -> None:
        """A choice in the Device list. The remote server becomes the device only once it answers: until then,
        and if it does not, renders stay where they were."""
        self.remote.abandon(self.remote_ticket)
        if choice == REMOTE and self.device_choice != REMOTE:
            self._connect_chosen_remote()
            return
        self._use_device(choice)

    def _use_device(self, choice: str) -> None:
        self.device_choice = choice
        self.settings.setValue("device", choice)
        self.rendering.schedule_live_render()

    def _show_device(self, choice: str) -> None:
        with QSignalBlocker(self.params_panel.device):
            self.params_panel.set_device(choice)

    def _connect_chosen_remote(self) -> None:
        try:
            server = remote_server(self.settings)
        except DoodleError:                    # no address yet: ask for one
            self.ask_remote_server()
            return
        self.statusBar().showMessage(f"Connecting to {server.url}…")

        def failed(message: str) -> None:
            self._show_device(self.device_choice)
            self.statusBar().showMessage(f"Not connected: {message}", 20000)
        self.remote_ticket = self.remote.check(server, lambda health: self.remote_connected(server, health), failed)

    def remote_connected(self, server, health) -> None:
        """A server answered (chosen in the Device list, or connected in Render → Remote Server…): it renders."""
        self.params_panel.set_device_label(REMOTE, remote_label(self.settings))
        self._show_device(REMOTE)
        self._use_device(REMOTE)
        self.statusBar().showMessage(connected_message(server, health), 10000)

    def ask_remote_server(self) -> RemoteServerDialog:
        self.remote.abandon(self.remote_ticket)      # the dialog's own check replaces one the Device list started
        self._show_device(self.device_choice)
        dialog = RemoteServerDialog(self.settings, self.remote, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.connected.connect(self.remote_connected)
        dialog.open()
        return dialog

    # Rendering ----------------------------------------------------------------------------------
    # Files --------------------------------------------------------------------------------------
    @contextlib.contextmanager
    def guard(self, what: str):
        """Show a file or engine error as a message; the app carries on."""
        try:
            yield
        except (DoodleError, OSError, ValueError) as error:
            QMessageBox.warning(self, what, str(error))

    # Drag and drop ------------------------------------------------------------------------------
    def dragEnterEvent(self, event):
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event):
        paths = [url.toLocalFile() for url in event.mimeData().urls() if url.isLocalFile()]
        if not paths:
            return
        event.acceptProposedAction()
        target = self.childAt(event.position().toPoint())
        self.files.open_dropped(paths[0], target)

    # Views --------------------------------------------------------------------------------------
    def set_focus_mode(self, focus: bool) -> None:
        """The doodle fills the window: the painting, the result and the render settings step aside (the
        labels stay, to paint with)."""
        self.menus.focus_action.setChecked(focus)
        for part in (self.style_panel, self.result_panel, self.settings_dock):
            part.setVisible(not focus)
        self.doodle_view.fit()

    def set_comparing(self, comparing: bool) -> None:
        """A/B: the doodle view shows the result in the doodle's place, at the same zoom, and back."""
        comparing = comparing and self.result_view.base is not None
        self.menus.compare_action.setChecked(comparing)
        self.doodle_view.compare = self.result_view.base
        self.doodle_view.set_comparing(comparing)

    def fit_views(self) -> None:
        for view in (self.style_view, self.doodle_view, self.result_view):
            view.fit()

    def show_help(self) -> None:
        dialog = QDialog(self)
        dialog.setWindowTitle("How doodlepaint works")
        browser = QTextBrowser()
        browser.setHtml(HOW_IT_WORKS)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(dialog.reject)
        layout = QVBoxLayout(dialog)
        layout.addWidget(browser)
        layout.addWidget(buttons)
        dialog.resize(620, 640)
        dialog.exec()

    def show_about(self) -> None:
        from doodlepaint import __version__
        QMessageBox.about(self, "About doodlepaint",
                          f"<b>doodlepaint {__version__}</b><br>Paint a doodle of labels and get back a painting "
                          "in the style of a masterpiece (semantic style transfer).")

    # Safety -------------------------------------------------------------------------------------
    def closeEvent(self, event):
        if not self.files.maybe_save():
            event.ignore()
            return
        self.files.autosave_timer.stop()
        if self.rendering.controller.busy or self.export_at_size.busy:
            # the render stops at its next check point, a fraction of a second away; say so meanwhile
            self.statusBar().showMessage("Quitting: stopping the render first…")
            self.statusBar().repaint()
        self.rendering.shutdown()
        self.export_at_size.shutdown()
        self.remote.shutdown()
        self.settings.setValue("geometry", self.saveGeometry())
        self.settings.setValue("window_state", self.saveState())
        self.files.recovery.discard()
        event.accept()
