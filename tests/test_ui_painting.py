import numpy as np
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QInputDialog

from doodlepaint.engine.labels import hex_colour
from doodlepaint.engine.params import PRESETS
from doodlepaint.engine.sample import load_sample


def at(view, x, y) -> QPoint:
    """The widget position of image pixel (x, y)'s centre."""
    point = view.offset + QPointF(x + 0.5, y + 0.5) * view.scale
    return point.toPoint()


def _overlay_rgb(view) -> np.ndarray:
    image = view.overlay
    return np.array([[image.pixelColor(x, y).getRgb()[:3] for x in range(image.width())]
                     for y in range(image.height())], np.uint8)


def test_the_overlay_follows_the_brush_during_a_stroke(window, qtbot):
    view, painter = window.doodle_view, window.doodle_painter
    full_redraws, dabs = [], []
    window.open_document.events.doodle.connect(lambda picture: full_redraws.append(picture))
    painter.painted.connect(lambda *rectangle: dabs.append(rectangle))
    window.labels.select_label(1)
    window.set_brush_size(3)
    untouched = view.overlay.pixelColor(2, 12)
    qtbot.mousePress(view, Qt.MouseButton.LeftButton, pos=at(view, 1, 4))
    qtbot.mouseMove(view, at(view, 6, 4))
    # before the release only the dabs' rectangles were redrawn, and the overlay shows the new label
    assert dabs and not full_redraws
    assert np.array_equal(_overlay_rgb(view), window.doc.colours(window.doc.target_ids))
    assert view.overlay.pixelColor(4, 4).getRgb()[:3] == tuple(window.doc.palette[1])
    assert view.overlay.pixelColor(2, 12) == untouched != view.overlay.pixelColor(4, 4)
    qtbot.mouseRelease(view, Qt.MouseButton.LeftButton, pos=at(view, 6, 4))
    assert full_redraws == [False]          # the map painted once, the photo under it untouched


def test_a_mouse_stroke_paints_the_map_and_one_undo_restores_it(window, qtbot):
    view, ids = window.doodle_view, window.doc.target_ids
    before = ids.copy()
    window.labels.select_label(1)
    window.set_brush_size(3)
    qtbot.mousePress(view, Qt.MouseButton.LeftButton, pos=at(view, 1, 4))
    for x in (4, 8, 12, 14):
        qtbot.mouseMove(view, at(view, x, 4))
    qtbot.mouseRelease(view, Qt.MouseButton.LeftButton, pos=at(view, 14, 4))
    assert np.all(ids[4, 1:15] == 1) and not np.array_equal(ids, before)
    assert window.doodle_undo.count() == 1 and window.dirty
    window.undo_group.setActiveStack(window.doodle_undo)
    window.undo_group.undo()
    assert np.array_equal(window.doc.target_ids, before)
    window.undo_group.redo()
    assert np.all(window.doc.target_ids[4, 1:15] == 1)


def test_the_overlay_shows_the_painted_labels(window, qtbot):
    view = window.style_view
    window.labels.select_label(0)
    qtbot.mouseClick(view, Qt.MouseButton.LeftButton, pos=at(view, 8, 12))
    assert window.doc.style_ids[12, 8] == 0
    assert view.overlay.pixelColor(8, 12).name() == hex_colour(window.doc.palette[0])


def test_fill_replaces_a_connected_region_in_one_step(window, qtbot):
    view = window.doodle_view
    window.set_tool("fill")
    window.labels.select_label(0)
    qtbot.mouseClick(view, Qt.MouseButton.LeftButton, pos=at(view, 12, 3))
    assert np.all(window.doc.target_ids == 0)
    assert window.doodle_undo.count() == 1


def test_the_right_button_paints_the_label_in_bold(window, qtbot):
    view = window.doodle_view
    window.labels.set_right_button_label(1)
    window.set_brush_size(1)
    qtbot.mouseClick(view, Qt.MouseButton.RightButton, pos=at(view, 2, 2))
    assert window.doc.target_ids[2, 2] == 1
    assert window.palette_panel.list.item(1).font().bold() and not window.palette_panel.list.item(0).font().bold()


def test_the_eraser_takes_strokes_back_to_the_map_as_opened(window, qtbot):
    view = window.doodle_view
    opened = window.doc.target_ids.copy()           # left half label 0, right half label 1
    window.set_brush_size(3)
    window.labels.select_label(1)
    qtbot.mouseClick(view, Qt.MouseButton.LeftButton, pos=at(view, 3, 3))
    window.labels.select_label(0)
    qtbot.mouseClick(view, Qt.MouseButton.LeftButton, pos=at(view, 12, 3))
    assert window.doc.target_ids[3, 3] == 1 and window.doc.target_ids[3, 12] == 0
    window.labels.set_right_button_label(1)                      # the right button's label plays no part in erasing
    window.set_tool("eraser")
    qtbot.mousePress(view, Qt.MouseButton.LeftButton, pos=at(view, 1, 3))
    qtbot.mouseMove(view, at(view, 14, 3))
    qtbot.mouseRelease(view, Qt.MouseButton.LeftButton, pos=at(view, 14, 3))
    assert np.array_equal(window.doc.target_ids, opened)
    assert window.doodle_undo.count() == 3 and window.doodle_undo.undoText() == "Erase"
    assert "brings back the map as it was" in window.menus.tool_actions["eraser"].toolTip()


def test_after_new_doodle_the_eraser_clears_to_the_blank_doodle(window, qtbot):
    view = window.doodle_view
    window.labels.set_right_button_label(0)
    window.files.new_doodle()
    window.labels.select_label(1)
    window.set_brush_size(2)
    qtbot.mouseClick(view, Qt.MouseButton.LeftButton, pos=at(view, 5, 5))
    assert window.doc.target_ids[5, 5] == 1
    window.set_tool("eraser")
    qtbot.mouseClick(view, Qt.MouseButton.LeftButton, pos=at(view, 5, 5))
    assert np.all(window.doc.target_ids == 0)


def test_ctrl_y_and_ctrl_shift_z_both_redo(window, qtbot):
    view = window.doodle_view
    before = window.doc.target_ids.copy()
    window.labels.select_label(1)
    qtbot.mouseClick(view, Qt.MouseButton.LeftButton, pos=at(view, 3, 3))
    painted = window.doc.target_ids.copy()
    for redo_key in ("Ctrl+Y", "Ctrl+Shift+Z"):
        qtbot.keyClick(view, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
        assert np.array_equal(window.doc.target_ids, before)
        sequence = QKeySequence(redo_key)[0]
        qtbot.keyClick(view, sequence.key(), sequence.keyboardModifiers())
        assert np.array_equal(window.doc.target_ids, painted), redo_key


def test_shift_click_draws_a_straight_line(window, qtbot):
    view = window.style_view
    window.labels.select_label(1)
    window.set_brush_size(1)
    qtbot.mouseClick(view, Qt.MouseButton.LeftButton, pos=at(view, 1, 1))
    qtbot.mouseClick(view, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.ShiftModifier, at(view, 6, 1))
    assert np.all(window.doc.style_ids[1, 1:7] == 1)


def test_the_eyedropper_selects_the_label_under_the_pointer(window, qtbot):
    view = window.doodle_view
    window.labels.select_label(0)
    window.set_tool("eyedropper")
    qtbot.mouseClick(view, Qt.MouseButton.LeftButton, pos=at(view, 12, 8))
    assert window.tools.label == 1 and window.palette_panel.list.currentRow() == 1


def test_brush_size_keys_and_spin_box_agree(window):
    window.set_brush_size(10)
    [action for action in window.actions() if action.shortcut().toString() == "]"][0].trigger()
    assert window.tools.size == 12 and window.menus.size_spin.value() == 12
    window.menus.size_spin.setValue(5)
    assert window.tools.size == 5


def test_the_palette_comes_from_the_style_map(window):
    scene = load_sample()
    window.files.open_sample()
    names = [window.palette_panel.list.item(i).text() for i in range(window.palette_panel.list.count())]
    assert sorted(names) == sorted(scene.names)
    assert [hex_colour(c) for c in window.doc.palette] == [scene.names[n] for n in names]


def test_palette_edits_reach_the_document(window, monkeypatch):
    panel = window.palette_panel
    panel.list.item(0).setText("sky")
    assert window.doc.names[0] == "sky"
    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: ("  cliffs ", True))
    panel.add.click()
    assert len(window.doc.palette) == 3 and panel.list.count() == 3 and window.tools.label == 2
    assert window.doc.names[2] == "cliffs" and panel.list.item(2).text() == "cliffs"
    panel.list.setCurrentRow(2)
    panel.remove.click()                                    # unused: no question asked
    assert len(window.doc.palette) == 2 and panel.list.count() == 2


def test_suggest_labels_is_one_undo_step(window):
    before = window.doc.style_ids.copy()
    window.doc.style[:, :4] = (250, 250, 250)
    window.labels.suggest_labels(3)
    assert len(window.doc.palette) == 3 and len(np.unique(window.doc.style_ids)) == 3
    window.style_undo.undo()
    assert np.array_equal(window.doc.style_ids, before)


def test_params_widgets_and_document_stay_in_sync(window):
    panel = window.params_panel
    panel.gamma.slider.setValue(120)
    assert window.doc.params.gamma == 120 and panel.gamma.spin.value() == 120
    panel.beta.spin.setValue(40)
    assert window.doc.params.beta == 40 and panel.beta.slider.value() == 80
    panel.preset.textActivated.emit("High")
    high = PRESETS["High"]
    assert window.doc.params.iterations == high.iterations and panel.iterations.value() == high.iterations
    assert window.doc.params.phases == panel.phases.value() == high.phases and window.doc.params.gamma == 120
    panel.phases.setValue(high.phases - 1)
    assert panel.preset.currentText() == "Custom"
    panel.new_seed.click()
    assert window.doc.params.seed == panel.seed.value()
    window.doc.set_params(window.doc.params.replace(patch_size=5, method="gram"))
    assert panel.patch_size.value() == 5 and panel.method.currentData() == "gram"
    assert window.doc.params.patch_size == 5                # showing them in the widgets changed nothing back


def test_zoom_and_fit(window, qtbot):
    view = window.style_view
    view.fit()
    fitted = view.scale
    view.zoom_by(0.5)
    assert view.scale == fitted / 2 and not view.fitting
    view.actual_size()
    assert view.scale == 1.0
    qtbot.mousePress(view, Qt.MouseButton.MiddleButton, pos=QPoint(10, 10))
    offset = QPointF(view.offset)
    qtbot.mouseMove(view, QPoint(40, 30))
    qtbot.mouseRelease(view, Qt.MouseButton.MiddleButton, pos=QPoint(40, 30))
    assert view.offset - offset == QPointF(30, 20)
    assert window.doodle_undo.count() == 0 and window.style_undo.count() == 0
