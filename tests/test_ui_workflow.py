"""What a first-time painter stumbled on (issue #12): each test would have caught one of them."""
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QImage
from PySide6.QtWidgets import (QAbstractItemView, QColorDialog, QInputDialog, QLineEdit, QMessageBox,
                               QToolBar)

from test_ui_painting import at


def _hand_correct_the_painting_map(window, qtbot):
    window.labels.select_label(1)
    window.set_brush_size(2)
    qtbot.mouseClick(window.style_view, Qt.MouseButton.LeftButton, pos=at(window.style_view, 3, 3))
    assert window.style_undo.count() == 1


def test_suggest_labels_asks_before_replacing_a_corrected_map(window, qtbot, monkeypatch):
    _hand_correct_the_painting_map(window, qtbot)
    corrected = window.doc.style_ids.copy()
    asked = []
    monkeypatch.setattr(QInputDialog, "getInt", lambda *a, **k: asked.append("count") or (3, True))
    window.labels.ask_suggest_labels()                         # the recorded question answers no (Discard)
    assert [m[1] for m in window.messages] == ["Replace the label map?"]
    assert not asked and np.array_equal(window.doc.style_ids, corrected)


def test_suggest_labels_is_one_undoable_step_on_the_painting_map(window, qtbot, monkeypatch):
    window.doc.style[:, :4] = (250, 250, 250)
    qtbot.mouseClick(window.doodle_view, Qt.MouseButton.LeftButton, pos=at(window.doodle_view, 3, 3))
    doodle = window.doc.target_ids.copy()
    _hand_correct_the_painting_map(window, qtbot)
    qtbot.mouseClick(window.doodle_view, Qt.MouseButton.LeftButton, pos=at(window.doodle_view, 12, 12))
    assert window.undo_group.activeStack() is window.doodle_undo    # the last stroke was on the doodle
    corrected = window.doc.style_ids.copy()
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    monkeypatch.setattr(QInputDialog, "getInt", lambda *a, **k: (3, True))
    window.labels.ask_suggest_labels()
    assert not np.array_equal(window.doc.style_ids, corrected)
    assert window.style_undo.count() == 2 and window.style_undo.undoText() == "Suggest labels"
    window.menus.undo_action.trigger()                        # Edit → Undo, as Ctrl+Z would
    assert np.array_equal(window.doc.style_ids, corrected)
    assert np.array_equal(window.doc.target_ids[:, :8], doodle[:, :8])   # the doodle's strokes are untouched


def test_hiding_the_map_never_hides_the_doodle_being_painted(window, qtbot):
    view = window.doodle_view
    window.menus.show_map_action.trigger()                    # M: hide the map
    assert not window.menus.show_map_action.isChecked()
    assert view.overlay_shown()                         # no photo under the doodle: the map is the doodle
    image = QImage(view.size(), QImage.Format.Format_RGB32)
    view.render(image)
    centre = image.pixelColor(at(view, 12, 8))
    assert centre.getRgb()[:3] == tuple(window.doc.palette[1])   # not white


def test_a_stroke_on_a_hidden_map_shows_the_map(window, qtbot):
    window.menus.show_map_action.trigger()
    assert not window.style_view.overlay_shown()        # over the painting the map hides
    window.labels.select_label(0)
    qtbot.mouseClick(window.style_view, Qt.MouseButton.LeftButton, pos=at(window.style_view, 8, 12))
    assert window.menus.show_map_action.isChecked() and window.style_view.overlay_shown()


def test_the_map_toggle_says_its_state_in_words(window):
    button = window.findChild(QToolBar, "tools_toolbar").widgetForAction(window.menus.show_map_action)
    shown = button.text()
    window.menus.show_map_action.trigger()
    assert (shown, button.text()) == ("Map shown", "Map hidden") and not button.isChecked()


def test_double_click_renames_a_label_that_was_not_selected(window, qtbot):
    panel = window.palette_panel
    panel.list.setCurrentRow(0)
    rect = panel.list.visualItemRect(panel.list.item(1))
    qtbot.mouseClick(panel.list.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.mouseDClick(panel.list.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert window.tools.label == 1
    assert panel.list.state() == QAbstractItemView.State.EditingState
    editor = panel.list.findChild(QLineEdit)
    editor.setText("sea")
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.doc.names[1] == "sea")      # the delegate commits in a queued call


def test_add_label_asks_for_its_name_and_cancel_adds_nothing(window, monkeypatch):
    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: ("", False))
    window.palette_panel.add.click()
    assert len(window.doc.palette) == 2


def test_a_label_gets_a_new_colour_on_both_maps(window, monkeypatch):
    monkeypatch.setattr(QColorDialog, "getColor", lambda *a, **k: QColor(20, 200, 30))
    window.palette_panel.list.setCurrentRow(1)
    window.palette_panel.colour.click()
    assert tuple(window.doc.palette[1]) == (20, 200, 30) and window.dirty
    for view, ids in ((window.style_view, window.doc.style_ids), (window.doodle_view, window.doc.target_ids)):
        y, x = np.argwhere(ids == 1)[0]
        assert view.overlay.pixelColor(int(x), int(y)).getRgb()[:3] == (20, 200, 30)


def test_a_colour_too_close_to_another_label_is_refused(window):
    before = window.doc.palette.copy()
    window.labels.set_label_colour(1, (250, 5, 5))              # label 0 is pure red
    assert np.array_equal(window.doc.palette, before)
    assert window.messages[-1][1] == "Cannot change the label's colour" and "“a”" in window.messages[-1][2]


def test_a_doodle_in_a_foreign_colour_names_the_labels(window, tmp_path):
    doodle = np.zeros((16, 16, 3), np.uint8)
    doodle[:] = (0, 255, 0)
    window.doc.names[:] = ["sky", "sea"]
    path = tmp_path / "green.png"
    Image.fromarray(doodle).save(path)
    window.files.open_doodle(str(path))
    message = window.messages[-1][2]
    assert "“sky” (#ff0000)" in message and "“sea” (#0000ff)" in message


def test_a_doodle_label_missing_from_the_painting_is_named(window, qtbot):
    window.doc.names[:] = ["sky", "sea"]
    window.doc.style_ids[:] = 0
    window.rendering.start_render()
    qtbot.waitUntil(lambda: not window.rendering.controller.busy, timeout=20_000)
    assert "“sea” (#0000ff)" in window.messages[-1][2]


def test_how_it_works_places_the_views_where_the_window_has_them():
    from doodlepaint.ui.help_text import HOW_IT_WORKS
    assert "middle view" not in HOW_IT_WORKS and "<i>Result</i> view on the right" in HOW_IT_WORKS
    assert "paint the eraser label" not in HOW_IT_WORKS


def _inside_window(window, widget) -> bool:
    rect = widget.rect().translated(widget.mapTo(window, widget.rect().topLeft()))
    return widget.isVisible() and window.rect().contains(rect)


@pytest.mark.parametrize("size", [(800, 600), (1024, 700), (1920, 1080)])
def test_render_cancel_and_the_device_stay_reachable(window, qtbot, size):
    window.resize(*size)
    qtbot.waitUntil(lambda: (window.width(), window.height()) == size)
    render_bar = window.findChild(QToolBar, "render_toolbar")
    for action in (window.menus.render_action, window.menus.cancel_action):
        assert _inside_window(window, render_bar.widgetForAction(action)), action.text()
    assert _inside_window(window, window.menus.live_box)
    device = window.params_panel.device
    scroll = window.settings_dock.widget()
    scroll.ensureWidgetVisible(device)
    top = device.mapTo(window, device.rect().topLeft()).y()
    assert _inside_window(window, device) and top + device.height() <= window.statusBar().y()


def test_the_readme_describes_the_window_as_it_is():
    readme = (Path(__file__).parent.parent / "README.md").read_text()
    using = readme[readme.index("## Using the app"):readme.index("## The command line")]
    assert "side by side" not in using
    for words in ("Export at Size", "Suggest labels", "Ctrl+Y", "Colour…"):
        assert words in using


def _save_doodle(path, window, ids):
    Image.fromarray(window.doc.colours(ids)).save(path)


def test_opening_a_doodle_of_the_same_size_is_one_undo_step(window, qtbot, tmp_path):
    qtbot.mouseClick(window.doodle_view, Qt.MouseButton.LeftButton, pos=at(window.doodle_view, 3, 3))
    painted = window.doc.target_ids.copy()
    _save_doodle(tmp_path / "flat.png", window, np.ones((16, 16), np.int64))
    window.files.open_doodle(str(tmp_path / "flat.png"))
    assert np.all(window.doc.target_ids == 1) and window.doodle_undo.undoText() == "Open doodle"
    window.menus.undo_action.trigger()
    assert np.array_equal(window.doc.target_ids, painted)


def test_a_doodle_of_another_size_keeps_the_strokes_undoable(window, qtbot, tmp_path):
    before = window.doc.target_ids.copy()
    qtbot.mouseClick(window.doodle_view, Qt.MouseButton.LeftButton, pos=at(window.doodle_view, 3, 3))
    painted = window.doc.target_ids.copy()
    assert not np.array_equal(painted, before)
    _save_doodle(tmp_path / "big.png", window, np.ones((32, 32), np.int64))
    window.files.open_doodle(str(tmp_path / "big.png"))         # no question: it is one undo step
    assert window.doc.target_ids.shape == (32, 32) and window.messages == []
    window.doodle_undo.undo()
    assert np.array_equal(window.doc.target_ids, painted)
    window.doodle_undo.undo()                                    # and the stroke before it
    assert np.array_equal(window.doc.target_ids, before)


def test_opening_a_label_map_over_a_corrected_one_asks_first(window, qtbot, tmp_path):
    _hand_correct_the_painting_map(window, qtbot)
    corrected = window.doc.style_ids.copy()
    _save_doodle(tmp_path / "map.png", window, np.zeros((16, 16), np.int64))
    window.files.open_style_map(str(tmp_path / "map.png"))
    assert window.messages[-1][1] == "Replace the label map?"
    assert np.array_equal(window.doc.style_ids, corrected)
