"""The views follow the document (issue #24): whatever changes it, through the window or through the document
alone, the label list, both maps, the Result view and the settings show it, and the window knows it is unsaved."""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QInputDialog

from doodlepaint.model.document import Document
from doodlepaint.model.project import save_project


def _rgb(image: QImage) -> np.ndarray:
    image = image.convertToFormat(QImage.Format.Format_RGB888)
    array = np.frombuffer(image.constBits(), np.uint8).reshape(image.height(), image.bytesPerLine())
    return array[:, :3 * image.width()].reshape(image.height(), image.width(), 3).copy()


def _at(view, x, y) -> QPoint:
    """The widget position of image pixel (x, y)'s centre."""
    return (view.offset + QPointF(x + 0.5, y + 0.5) * view.scale).toPoint()


def _listed(window) -> list[str]:
    return [window.palette_panel.list.item(i).text() for i in range(window.palette_panel.list.count())]


def _bold(window) -> list[int]:
    panel = window.palette_panel
    return [i for i in range(panel.list.count()) if panel.list.item(i).font().bold()]


def _maps_shown(window) -> bool:
    doc = window.doc
    return (np.array_equal(_rgb(window.style_view.overlay), doc.colours(doc.style_ids)) and
            np.array_equal(_rgb(window.doodle_view.overlay), doc.colours(doc.target_ids)))


def test_label_changes_made_on_the_document_alone_reach_the_list_and_both_maps(window):
    doc = window.doc
    doc.rename_label(1, "sea")
    assert _listed(window) == ["a", "sea"] and window.dirty
    doc.set_label_colour(0, (20, 200, 30))
    assert _maps_shown(window) and (20, 200, 30) in {tuple(c) for c in _rgb(window.doodle_view.overlay)[0]}
    doc.add_label("sand")
    doc.set_right_button_label(2)
    assert _listed(window) == ["a", "sea", "sand"] and _bold(window) == [2]
    window.tools.label = 1
    assert window.palette_panel.list.currentRow() == 1
    doc.remove_label(0)
    assert _listed(window) == ["sea", "sand"] and _bold(window) == [1] and _maps_shown(window)
    assert window.tools.label == 1 and window.palette_panel.list.currentRow() == 1


def test_the_label_editing_path_updates_the_list_and_the_maps_by_itself(window, qtbot, monkeypatch):
    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: ("cliffs", True))
    window.labels.add_label()
    assert _listed(window) == ["a", "b", "cliffs"] and window.palette_panel.list.currentRow() == 2
    window.labels.rename_label(1, "  sea ")
    assert _listed(window) == ["a", "sea", "cliffs"]
    window.palette_panel.list.item(1).setText("x" * 300)        # typed in the list, and refused
    assert _listed(window) == ["a", "sea", "cliffs"] and window.messages[-1][0] == "warning"
    window.labels.set_label_colour(1, (20, 200, 30))
    assert _maps_shown(window) and tuple(window.doc.palette[1]) == (20, 200, 30)
    window.labels.select_label(0)
    window.set_brush_size(3)
    qtbot.mouseClick(window.style_view, Qt.MouseButton.LeftButton, pos=_at(window.style_view, 8, 12))
    assert window.style_undo.count() == 1 and _maps_shown(window)
    window.labels.remove_label(2)                               # unused: no question asked
    assert _listed(window) == ["a", "sea"] and _maps_shown(window)
    assert window.style_undo.count() == 0                       # the ids changed meaning: old steps no longer apply


def _another_document() -> Document:
    """Unlike the window's tiny document in every part a view shows."""
    style = np.zeros((20, 24, 3), np.uint8)
    style[:, 12:] = (10, 200, 10)
    style_ids = np.zeros((20, 24), np.int64)
    style_ids[:, 12:] = 1
    style_ids[:5] = 2
    target = np.zeros((12, 10), np.int64)
    target[6:] = 2
    palette = np.array([[250, 0, 0], [0, 250, 0], [0, 0, 250]], np.uint8)
    document = Document(style, style_ids, target, palette, ["sky", "sea", "sand"],
                        content=np.full((12, 10, 3), 77, np.uint8), result=np.full((24, 20, 3), 140, np.uint8),
                        right_button_label=2)
    document.params = document.params.replace(gamma=42.0, method="gram")
    return document


def test_opening_a_project_shows_it_in_every_view(window, tmp_path):
    opened = _another_document()
    path = tmp_path / "beach.doodlepaint"
    save_project(opened, path)
    window.doc.rename_label(0, "unsaved")
    window.files.open_project(str(path))                  # the question about unsaved changes answers Discard
    assert window.doc.names == ["sky", "sea", "sand"]
    assert not window.dirty and window.windowTitle().startswith("doodlepaint — beach")
    assert np.array_equal(_rgb(window.style_view.base), opened.style) and _maps_shown(window)
    assert np.array_equal(_rgb(window.doodle_view.base), opened.content)
    assert np.array_equal(_rgb(window.result_view.base), opened.result)
    assert _listed(window) == ["sky", "sea", "sand"] and _bold(window) == [2]
    assert window.params_panel.gamma.value() == 42 and window.params_panel.method.currentData() == "gram"
    assert window.result_state_label.text() == "The render saved with this project"
    assert window.style_undo.count() == window.doodle_undo.count() == 0


def test_a_result_set_on_the_document_shows_in_the_result_view_and_the_comparison(window):
    first, second = (np.full((32, 32, 3), value, np.uint8) for value in (60, 180))
    window.doc.set_result(first)
    assert np.array_equal(_rgb(window.result_view.base), first) and not window.dirty    # a render is no edit
    window.menus.compare_action.trigger()
    window.doc.set_result(second)
    assert np.array_equal(_rgb(window.result_view.base), second)
    assert window.doodle_view.comparing and np.array_equal(_rgb(window.doodle_view.compare), second)


def test_a_setting_changed_on_the_document_shows_in_the_panel_and_dims_the_render(window):
    window.doc.set_result(np.full((32, 32, 3), 60, np.uint8))
    window.rendering.set_result_state("done", "Done")
    window.doc.set_params(window.doc.params.replace(gamma=77.0))
    assert window.params_panel.gamma.value() == 77 and window.dirty
    assert window.rendering.result_state.kind == "stale"


def test_the_right_button_label_comes_back_with_the_project(window, qtbot, tmp_path):
    panel = window.palette_panel
    panel.list.setCurrentRow(1)
    panel.right_button.click()
    assert window.doc.right_button_label == 1 and _bold(window) == [1] and window.dirty
    path = tmp_path / "scene.doodlepaint"
    assert window.files.save_project(path)
    window.labels.set_right_button_label(0)
    window.files.open_project(str(path))                  # the question about unsaved changes answers Discard
    assert window.doc.right_button_label == 1 and _bold(window) == [1] and not window.dirty
    window.set_brush_size(1)
    qtbot.mouseClick(window.doodle_view, Qt.MouseButton.RightButton, pos=_at(window.doodle_view, 2, 2))
    assert window.doc.target_ids[2, 2] == 1


def test_live_turned_on_from_anywhere_shows_in_the_menu_and_the_toolbar(window):
    window.rendering.set_live(True)
    assert window.menus.live_action.isChecked() and window.menus.live_box.isChecked()
    window.menus.live_action.trigger()
    assert not window.menus.live_box.isChecked() and not window.rendering.live.enabled
