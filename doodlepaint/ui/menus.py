"""The main window's menus and toolbars: every action, its shortcut and tip, wired to the window's handlers.

A collaborator of MainWindow: it builds the menu bar and the two toolbars once, one builder each, and keeps
the actions and widgets the window updates later (the tool actions, the map toggle, the brush size). Cancel
and Live follow the rendering's busy and live state by themselves.
"""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QCheckBox, QLabel, QSizePolicy, QSlider, QSpinBox, QWidget

from doodlepaint.ui.painting import TOOLS


class WindowMenus:
    def __init__(self, window):
        self.window = window
        self._build_file_menu()
        self._build_edit_menu()
        self._build_tools_menu()
        self._build_view_menu()
        self._build_render_menu()
        self._build_help_menu()
        self._build_tools_toolbar()
        self._build_render_toolbar()
        window.rendering.live_changed.connect(self._show_live)
        window.rendering.controller.busy_changed.connect(self.cancel_action.setEnabled)

    def _build_file_menu(self) -> None:
        window, files, a = self.window, self.window.files, self._action
        key = QKeySequence.StandardKey
        menu = window.menuBar().addMenu("&File")
        menu.addAction(a("&Open Project…", files.ask_open_project, key.Open))
        self.recent_menu = menu.addMenu("Open &Recent")
        self.recent_menu.aboutToShow.connect(lambda: files.fill_recent_menu(self.recent_menu))
        menu.addAction(a("Open &Sample Scene", files.open_sample))
        menu.addAction(a("&Save Project", files.save, key.Save))
        menu.addAction(a("Save Project &As…", files.save_as, key.SaveAs))
        menu.addSeparator()
        menu.addAction(a("Open &Painting…", lambda: files.ask_open("Open a style painting", files.open_style),
                         "Ctrl+Shift+O", "Open the painting whose style you want"))
        menu.addAction(a("Open Painting's &Label Map…", lambda: files.ask_open("Open a label map",
                                                                               files.open_style_map)))
        menu.addAction(a("Save Painting's Label &Map…", lambda: files.ask_save_png(window.doc.style_ids)))
        menu.addSeparator()
        menu.addAction(a("Open &Doodle…", lambda: files.ask_open("Open a doodle", files.open_doodle)))
        menu.addAction(a("Save Doo&dle…", lambda: files.ask_save_png(window.doc.target_ids)))
        menu.addAction(a("&New Doodle", files.new_doodle,
                         tip="Clear the doodle to the label in bold (the right button's label)"))
        menu.addAction(a("Open P&hoto Under Doodle…", lambda: files.ask_open("Open a photo", files.open_photo),
                         tip="A photo under the doodle keeps its shapes in the result"))
        menu.addAction(a("Remove Photo", files.remove_photo))
        menu.addSeparator()
        menu.addAction(a("&Export PNG…", files.ask_export, "Ctrl+E", "Save the finished render as a PNG"))
        menu.addAction(a("Export at &Size…", files.ask_export_at_size, "Ctrl+Shift+E",
                         "Paint the final picture bigger than the preview, starting from it, and save it"))
        menu.addSeparator()
        menu.addAction(a("&Quit", window.close, key.Quit))

    def _build_edit_menu(self) -> None:
        window, a = self.window, self._action
        key = QKeySequence.StandardKey
        menu = window.menuBar().addMenu("&Edit")
        undo = self.undo_action = window.undo_group.createUndoAction(window, "&Undo")
        undo.setShortcut(key.Undo)
        redo = self.redo_action = window.undo_group.createRedoAction(window, "&Redo")
        redo.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")])   # Linux/Mac and Windows habits
        menu.addActions([undo, redo])
        menu.addSeparator()
        menu.addAction(a("&Suggest Labels…", window.labels.ask_suggest_labels))
        menu.addAction(a("&Add Label", window.labels.add_label))

    def _build_tools_menu(self) -> None:
        window, a = self.window, self._action
        tool_group = QActionGroup(window)
        self.tool_actions = {}
        tool_keys = {"brush": ("&Brush", "B"), "eraser": ("&Eraser", "E"), "fill": ("&Fill", "G"),
                     "eyedropper": ("Eye&dropper", "I")}
        tool_tips = {"brush": "Paint the selected label (the right button paints the label in bold)",
                     "eraser": "Erase your strokes: brings back the map as it was opened, suggested or cleared",
                     "fill": "Fill a connected region with the selected label",
                     "eyedropper": "Pick the label under the pointer"}
        tools_menu = window.menuBar().addMenu("&Tools")
        for tool in TOOLS:
            text, shortcut = tool_keys[tool]
            action = a(text, lambda _=False, t=tool: window.set_tool(t), shortcut, tool_tips[tool], checkable=True)
            tool_group.addAction(action)
            tools_menu.addAction(action)
            self.tool_actions[tool] = action
        self.tool_actions["brush"].setChecked(True)
        tools_menu.addSeparator()
        tools_menu.addAction(a("Smaller Brush", lambda: window.step_brush_size(-1), "["))
        tools_menu.addAction(a("Bigger Brush", lambda: window.step_brush_size(1), "]"))

    def _build_view_menu(self) -> None:
        window, a = self.window, self._action
        key = QKeySequence.StandardKey
        menu = window.menuBar().addMenu("&View")
        menu.addAction(a("Zoom &In", lambda: window.active_view.zoom_by(1.25), key.ZoomIn))
        menu.addAction(a("Zoom &Out", lambda: window.active_view.zoom_by(0.8), key.ZoomOut))
        menu.addAction(a("&Fit All", window.fit_views, "Ctrl+0"))
        menu.addAction(a("&Actual Size", lambda: window.active_view.actual_size(), "Ctrl+1"))
        self.show_map_action = a("Show Label &Map", window.set_map_visible, "M",
                                 "Show or hide the label map over the painting and the photo", checkable=True)
        menu.addAction(self.show_map_action)
        self.focus_action = a("Focus on the &Doodle", window.set_focus_mode, "F",
                              "The doodle fills the window; the painting, the result and the settings step aside",
                              checkable=True)
        self.compare_action = a("&Compare With Result", window.set_comparing, "C",
                                "Show the result in the doodle's place, at the same zoom, and back (A/B)",
                                checkable=True)
        menu.addActions([self.focus_action, self.compare_action])
        menu.addSeparator()
        menu.addActions([window.labels_dock.toggleViewAction(), window.settings_dock.toggleViewAction()])

    def _build_render_menu(self) -> None:
        window, rendering, a = self.window, self.window.rendering, self._action
        menu = window.menuBar().addMenu("&Render")
        self.render_action = a("&Render", rendering.start_render, "Ctrl+R", "Paint the doodle in the painting's style")
        self.cancel_action = a("&Cancel", rendering.cancel_render, "Esc", "Stop the render")
        self.cancel_action.setEnabled(False)
        self.live_action = a("&Live", rendering.set_live, "Ctrl+L",
                             "Re-render automatically after every stroke or setting change", checkable=True)
        menu.addActions([self.render_action, self.cancel_action, self.live_action])
        menu.addSeparator()
        menu.addAction(a("Remote &Server…", window.ask_remote_server, tip="Render on another machine's GPU"))

    def _build_help_menu(self) -> None:
        window, a = self.window, self._action
        menu = window.menuBar().addMenu("&Help")
        menu.addAction(a("&How It Works", window.show_help, QKeySequence.StandardKey.HelpContents))
        menu.addAction(a("&About doodlepaint", window.show_about))

    def _build_tools_toolbar(self) -> None:
        window = self.window
        toolbar = window.addToolBar("Tools")
        toolbar.setObjectName("tools_toolbar")
        toolbar.setMovable(False)
        toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        toolbar.addActions(list(self.tool_actions.values()))
        toolbar.addSeparator()
        self.size_spin = QSpinBox(minimum=1, maximum=300, suffix=" px", value=window.tools.size)
        self.size_spin.setToolTip("Brush size ([ and ])")
        self.size_spin.valueChanged.connect(window.set_brush_size)
        toolbar.addWidget(QLabel(" Size "))
        toolbar.addWidget(self.size_spin)
        toolbar.addSeparator()
        self.opacity_slider = QSlider(Qt.Orientation.Horizontal, minimum=0, maximum=100,
                                      value=round(100 * window.style_view.overlay_opacity))   # where the views start
        self.opacity_slider.setFixedWidth(120)
        self.opacity_slider.setToolTip("How opaque the label map is over the painting and the photo")
        self.opacity_slider.valueChanged.connect(window.set_overlay_opacity)
        toolbar.addWidget(QLabel(" Map opacity "))
        toolbar.addWidget(self.opacity_slider)
        toolbar.addAction(self.show_map_action)
        toolbar.widgetForAction(self.show_map_action).setStyleSheet(
            "QToolButton:checked { background: #3e80c8; color: white; border-radius: 3px; }")
        toolbar.addSeparator()
        toolbar.addAction(self.undo_action)
        toolbar.addAction(self.redo_action)

    def _build_render_toolbar(self) -> None:
        """Render has a toolbar of its own: a narrow window folds the tools into the ">>" menu, never Render."""
        window = self.window
        toolbar = window.addToolBar("Render")
        toolbar.setObjectName("render_toolbar")
        toolbar.setMovable(False)
        toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        spacer = QWidget()                                      # keeps Render at the right edge
        spacer.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        toolbar.addWidget(spacer)
        self.live_box = QCheckBox("Live")
        self.live_box.setToolTip(self.live_action.statusTip())
        self.live_box.toggled.connect(window.rendering.set_live)
        toolbar.addWidget(self.live_box)
        toolbar.addAction(self.render_action)
        toolbar.addAction(self.cancel_action)
        toolbar.widgetForAction(self.render_action).setStyleSheet(
            "QToolButton { background: #3e80c8; color: white; font-weight: bold; padding: 3px 14px; "
            "border-radius: 3px; } QToolButton:hover { background: #4a90dc; }")
        toolbar.setMinimumWidth(toolbar.sizeHint().width())     # the tools toolbar gives way, not this one

    def _show_live(self, live: bool) -> None:
        """The Live action and the Live box say the same, however Live was turned on or off."""
        self.live_action.setChecked(live)
        self.live_box.blockSignals(True)
        self.live_box.setChecked(live)
        self.live_box.blockSignals(False)

    def _action(self, text: str, slot, shortcut=None, tip: str = "", checkable=False) -> QAction:
        action = QAction(text, self.window)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        if tip:
            action.setStatusTip(tip)
            action.setToolTip(f"{tip} ({action.shortcut().toString()})" if shortcut else tip)
        action.setCheckable(checkable)
        action.triggered.connect(slot)
        self.window.addAction(action)
        return action
