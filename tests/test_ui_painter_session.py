"""A painter's session (issue 27): the Result view keeps its best picture, shows what Export saves after a
cancel, and says what it shows."""
from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtGui import QImage

from doubles import TinyEncoder


def _shown(view) -> np.ndarray:
    """The Result view's picture as an RGB array."""
    from PySide6.QtGui import QImage

    image = view.base.convertToFormat(QImage.Format.Format_RGB888)
    array = np.frombuffer(image.constBits(), np.uint8).reshape(image.height(), image.bytesPerLine())
    return array[:, :3 * image.width()].reshape(image.height(), image.width(), 3).copy()


def test_the_instant_picture_stays_until_a_full_size_frame_replaces_it(window, qtbot):
    window.doc.params = window.doc.params.replace(size=64, phases=2, iterations=3)
    shown_widths = []
    window.rendering.controller.progressed.connect(
        lambda p: shown_widths.append((p.stage, p.frame is not None and p.frame.shape[1],
                                       window.result_view.base.width())))
    with qtbot.waitSignal(window.rendering.controller.finished, timeout=60_000):
        window.rendering.start_render()
    qtbot.waitUntil(lambda: not window.rendering.controller.busy, timeout=10_000)
    assert shown_widths[0][0] == "instant"
    assert any(frame == 32 for _, frame, _ in shown_widths)        # the coarse phase made its frames...
    assert all(shown == 64 for _, _, shown in shown_widths)        # ...but the view never showed them


def test_after_a_cancel_the_view_shows_what_export_saves(window, qtbot, tmp_path):
    with qtbot.waitSignal(window.rendering.controller.finished, timeout=60_000):
        window.rendering.start_render()
    qtbot.waitUntil(lambda: not window.rendering.controller.busy, timeout=10_000)
    finished = window.doc.result.copy()
    window.rendering.controller.encoder = TinyEncoder(delay=0.02)
    window.doc.set_params(window.doc.params.replace(iterations=400, seed=3))
    frames = []
    window.rendering.controller.progressed.connect(
        lambda p: p.frame is not None and p.stage != "instant" and frames.append(p))
    window.rendering.start_render()
    qtbot.waitUntil(lambda: len(frames) >= 2, timeout=30_000)
    assert not np.array_equal(_shown(window.result_view), finished)     # a half-done frame was on screen
    window.menus.cancel_action.trigger()
    qtbot.waitUntil(lambda: not window.rendering.controller.busy, timeout=10_000)
    path = tmp_path / "after-cancel.png"
    window.files.export_png(str(path))
    from PIL import Image
    exported = np.asarray(Image.open(path).convert("RGB"))
    assert np.array_equal(_shown(window.result_view), exported) and np.array_equal(exported, finished)
    assert window.rendering.result_state.kind == "stale"                 # the settings changed since it was made
    assert "Export saves" in window.result_state_label.text() and "before your latest changes" in \
        window.result_state_label.text()


def test_a_cancel_with_nothing_finished_leaves_an_empty_view(window, qtbot):
    window.rendering.controller.encoder = TinyEncoder(delay=0.02)
    window.doc.params = window.doc.params.replace(iterations=400)
    window.rendering.start_render()
    qtbot.waitSignal(window.rendering.controller.progressed, timeout=30_000).wait()
    window.rendering.cancel_render()
    qtbot.waitUntil(lambda: not window.rendering.controller.busy, timeout=10_000)
    assert window.result_view.base is None and window.rendering.result_state.kind == "empty"


def test_the_instant_picture_of_a_render_is_not_called_rendering(window, qtbot):
    window.rendering.controller.encoder = TinyEncoder(delay=0.02)
    window.doc.params = window.doc.params.replace(iterations=400)
    instant = []
    window.rendering.controller.progressed.connect(
        lambda p: p.stage == "instant" and instant.append(window.result_state_label.text()))
    window.rendering.start_render()
    qtbot.waitUntil(lambda: bool(instant), timeout=30_000)
    window.rendering.cancel_render()
    qtbot.waitUntil(lambda: not window.rendering.controller.busy, timeout=10_000)
    assert instant[0].startswith("Instant preview") and "Rendering" not in instant[0]


def test_a_one_pass_method_does_not_say_refining(window, qtbot):
    window.doc.params = window.doc.params.replace(method="swap")
    labels = []
    window.rendering.controller.progressed.connect(lambda p: labels.append(window.progress_label.text()))
    with qtbot.waitSignal(window.rendering.controller.finished, timeout=60_000):
        window.rendering.start_render()
    qtbot.waitUntil(lambda: not window.rendering.controller.busy, timeout=10_000)
    assert labels and not any("refin" in text.lower() for text in labels)
    assert "refin" not in window.result_state_label.text().lower()


class EndlessStep(TinyEncoder):
    """An encoder pass that never ends on its own, as a print-size patch bank seems to: it only checks for a
    stop now and then, as the engine's long steps do."""

    def __init__(self):
        super().__init__()
        import threading
        self.entered = threading.Event()

    def __call__(self, rgb, layers):
        import time

        from doodlepaint.engine.stopping import check_stop
        self.entered.set()
        while True:
            check_stop()
            time.sleep(0.01)


def test_cancel_stops_a_render_inside_a_long_step(window, qtbot):
    encoder = window.rendering.controller.encoder = EndlessStep()
    window.rendering.start_render()
    qtbot.waitUntil(encoder.entered.is_set, timeout=30_000)
    window.rendering.cancel_render()
    qtbot.waitUntil(lambda: not window.rendering.controller.busy, timeout=10_000)
    assert window.messages == []                   # a stop, not a failure


def test_quit_during_a_long_step_says_what_it_waits_for_and_returns(window, qtbot):
    encoder = window.rendering.controller.encoder = EndlessStep()
    window.rendering.start_render()
    qtbot.waitUntil(encoder.entered.is_set, timeout=30_000)
    shown = []
    window.statusBar().messageChanged.connect(shown.append)
    assert window.close()
    assert not window.rendering.controller.busy and "stopping the render" in shown[0]


def test_a_stroke_after_a_render_does_not_move_the_panes(window, qtbot):
    from PySide6.QtCore import QPoint, Qt
    from PySide6.QtWidgets import QApplication

    window.resize(1000, 700)
    with qtbot.waitSignal(window.rendering.controller.finished, timeout=60_000):
        window.rendering.start_render()
    qtbot.waitUntil(lambda: not window.rendering.controller.busy, timeout=10_000)
    QApplication.processEvents()
    before = (window.doodle_view.width(), window.result_view.width())
    view = window.doodle_view
    centre = view.image_rect().center().toPoint()
    qtbot.mousePress(view, Qt.MouseButton.LeftButton, pos=centre)
    qtbot.mouseMove(view, centre + QPoint(10, 0))
    qtbot.mouseRelease(view, Qt.MouseButton.LeftButton, pos=centre + QPoint(10, 0))
    assert window.rendering.result_state.kind == "stale"
    QApplication.processEvents()
    long_caption = window.result_state_label.text()
    assert window.result_state_label.fontMetrics().horizontalAdvance(long_caption) > window.result_view.width() / 2
    assert (window.doodle_view.width(), window.result_view.width()) == before
    assert window.result_state_label.toolTip() == long_caption       # the whole caption is still there to read


def test_the_patch_size_slider_reaches_every_patch_size(window):
    slider = window.params_panel.patch_size.slider
    reached = []
    for position in range(slider.minimum(), slider.maximum() + 1):
        slider.setValue(position)
        reached.append(window.doc.params.patch_size)
    assert reached == [3, 5, 7]
    window.params_panel.set_params(window.doc.params.replace(patch_size=3))
    assert slider.value() == slider.minimum()


def test_the_map_opacity_slider_starts_where_the_views_start(window):
    assert window.menus.opacity_slider.value() == round(100 * window.style_view.overlay_opacity)
    assert window.style_view.overlay_opacity == window.doodle_view.overlay_opacity


def test_a_mistyped_app_option_is_an_error(capsys):

    from doodlepaint.ui.app import parse_options

    with pytest.raises(SystemExit) as exit_:
        parse_options(["--render-on-strat", "scene.png"])
    assert exit_.value.code == 2 and "--render-on-strat" in capsys.readouterr().err
    options = parse_options(["--render-on-start", "scene.png"])
    assert options.render_on_start and options.file == "scene.png"


def test_a_file_named_at_start_waits_in_open_recent_when_work_is_recovered(window, qtbot, tmp_path, tiny_document,
                                                                          monkeypatch):
    from PySide6.QtWidgets import QMessageBox

    from doodlepaint.model.autosave import Recovery
    from doodlepaint.ui.app import open_at_start
    from doodlepaint.ui.main_window import MainWindow

    window.doc.names[0] = "unsaved sky"
    window.set_dirty(True)
    window.files.autosave()
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    restarted = MainWindow(Recovery(tmp_path / "recovery"), tiny_document)
    qtbot.addWidget(restarted)
    painting = tmp_path / "other-painting.png"
    open_at_start(restarted, str(painting))
    assert restarted.doc.names[0] == "unsaved sky" and restarted.dirty           # the recovered work stays
    assert restarted.settings.value("recent", [], type=list)[0] == str(painting)
    assert "other-painting.png" in restarted.statusBar().currentMessage()
    assert restarted.rendering.result_state.kind in ("empty", "stale")           # never "saved with this project"


def test_save_as_starts_in_the_folder_last_exported_to(window, qtbot, tmp_path, monkeypatch):
    from PySide6.QtWidgets import QFileDialog

    exports = tmp_path / "exports"
    exports.mkdir()
    with qtbot.waitSignal(window.rendering.controller.finished, timeout=60_000):
        window.rendering.start_render()
    qtbot.waitUntil(lambda: not window.rendering.controller.busy, timeout=10_000)
    asked = []
    monkeypatch.setattr(QFileDialog, "getSaveFileName",
                        lambda parent, title, start, *a, **k: asked.append(start) or (str(exports / "a.png"), ""))
    window.files.ask_export()
    monkeypatch.setattr(QFileDialog, "getSaveFileName",
                        lambda parent, title, start, *a, **k: asked.append(start) or ("", ""))
    window.files.save_as()
    assert asked[1].startswith(str(exports))


def test_opening_a_painting_keeps_the_doodles_meaning_and_is_one_undo_step(window, tmp_path):
    from PIL import Image

    # the tiny painting: label "a" (0) is red on top, "b" (1) blue below; the new painting has blue on the left
    painting = np.zeros((24, 20, 3), np.uint8)
    painting[:, :10] = (30, 60, 210)
    painting[:, 10:] = (220, 50, 30)
    Image.fromarray(painting).save(tmp_path / "new.png")
    old_style, old_ids, names, doodle = window.doc.style, window.doc.style_ids, list(window.doc.names), \
        window.doc.target_ids.copy()
    window.files.open_style(str(tmp_path / "new.png"))
    assert window.doc.names == names and np.array_equal(window.doc.target_ids, doodle)
    assert (window.doc.style_ids[:, :10] == 1).all() and (window.doc.style_ids[:, 10:] == 0).all()   # blue is "b"
    assert window.menus.undo_action.isEnabled()
    window.menus.undo_action.trigger()
    assert window.doc.style is old_style and window.doc.style_ids is old_ids
    window.menus.redo_action.trigger()
    assert window.doc.style.shape == (24, 20, 3)


def test_suggest_labels_keeps_each_regions_label(window):
    before = window.doc.style_ids.copy()
    window.labels.suggest_labels(2)
    assert np.array_equal(window.doc.style_ids, before)            # the same two regions keep their labels


@pytest.mark.filterwarnings("ignore::DeprecationWarning")     # setActiveWindow: the stand-in for no window manager
def test_the_window_has_the_keyboard_back_after_a_file_dialog(window, qtbot, monkeypatch):
    from PySide6.QtWidgets import QApplication, QFileDialog, QWidget

    def a_dialog_that_takes_the_keyboard(*args, **kwargs):
        dialog = QWidget()
        dialog.show()
        dialog.activateWindow()
        qtbot.waitUntil(lambda: QApplication.activeWindow() is dialog, timeout=5_000)
        dialog.close()
        QApplication.setActiveWindow(None)  # no window manager hands the keyboard back to the main window
        return "", ""

    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window, timeout=5_000)
    monkeypatch.setattr(QFileDialog, "getOpenFileName", a_dialog_that_takes_the_keyboard)
    window.files.ask_open("Open a painting", window.files.open_style)
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window, timeout=5_000)


def test_moving_the_pointer_repaints_only_the_brush_cursor(window, qtbot):
    """The GUI thread shares the cores with the render: a pointer over the painting must not repaint it all."""
    from PySide6.QtCore import QEvent, QObject, QPoint
    from PySide6.QtWidgets import QApplication

    class PaintedAreas(QObject):
        def __init__(self):
            super().__init__()
            self.areas = []

        def eventFilter(self, watched, event):
            if event.type() == QEvent.Type.Paint:
                self.areas.append(event.region().boundingRect())
            return False

    view = window.style_view
    QApplication.processEvents()
    painted = PaintedAreas()
    view.installEventFilter(painted)
    centre = view.image_rect().center().toPoint()
    for step in range(5):
        qtbot.mouseMove(view, centre + QPoint(3 * step, 0))
        QApplication.processEvents()
    view.removeEventFilter(painted)
    whole = view.width() * view.height()
    assert painted.areas and all(area.width() * area.height() < whole / 4 for area in painted.areas)


def test_the_app_keeps_openmp_from_spinning_beside_the_window():
    import os
    import subprocess
    import sys

    environment = {key: value for key, value in os.environ.items() if key != "OMP_WAIT_POLICY"}
    code = "import os, sys; import doodlepaint.ui.app; print(os.environ['OMP_WAIT_POLICY'], 'torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=environment, timeout=120)
    assert out.stdout.split() == ["PASSIVE", "True"], out.stderr        # set by the module that loads torch


def test_focus_mode_gives_the_doodle_the_window_and_gives_it_back(window, qtbot):
    from PySide6.QtWidgets import QApplication

    QApplication.processEvents()
    before = window.doodle_view.width() * window.doodle_view.height()
    window.menus.focus_action.trigger()
    QApplication.processEvents()
    assert not window.style_panel.isVisible() and not window.result_panel.isVisible()
    assert window.doodle_view.width() * window.doodle_view.height() > 2 * before
    window.menus.focus_action.trigger()
    QApplication.processEvents()
    assert window.style_panel.isVisible() and window.result_panel.isVisible()


def test_compare_shows_the_result_in_the_doodles_place_and_zoom_stays_in_step(window, qtbot):
    from PySide6.QtCore import QPointF, Qt
    from PySide6.QtWidgets import QApplication

    window.doc.params = window.doc.params.replace(size=64)          # the render is 4x the 16 px doodle
    with qtbot.waitSignal(window.rendering.controller.finished, timeout=60_000):
        window.rendering.start_render()
    qtbot.waitUntil(lambda: not window.rendering.controller.busy, timeout=10_000)
    QApplication.processEvents()
    centre = window.doodle_view.image_rect().center().toPoint()
    doodle_look = window.doodle_view.grab().toImage().pixelColor(centre).getRgb()[:3]
    window.menus.compare_action.trigger()
    assert window.doodle_view.comparing and window.doodle_view.compare is window.result_view.base
    compared = window.doodle_view.grab().toImage().pixelColor(centre).getRgb()[:3]
    result = _shown(window.result_view)[28:36, 28:36].reshape(-1, 3)
    assert compared != doodle_look and np.abs(result.mean(0) - compared).max() < 40    # the result's colours there
    window.doodle_view.zoom_by(2.0, QPointF(window.doodle_view.width() / 2, window.doodle_view.height() / 2))
    doodle, result = window.doodle_view, window.result_view
    assert abs(result.scale * 64 - doodle.scale * 16) < 1e-6               # the same size on screen
    middle = lambda view: view.to_image(QPointF(view.width() / 2, view.height() / 2))  # noqa: E731
    assert abs(middle(result).x() / 64 - middle(doodle).x() / 16) < 1e-6   # the same part of the picture
    qtbot.mouseClick(window.doodle_view, Qt.MouseButton.LeftButton, pos=window.doodle_view.rect().center())
    assert not window.doodle_view.comparing and not window.menus.compare_action.isChecked()   # a stroke: the doodle


def test_suggesting_fewer_regions_than_labels_removes_the_labels_left_without_one(window):
    window.doc.add_label("cloud")
    window.labels.suggest_labels(2)
    assert window.doc.names == ["a", "b"] and window.palette_panel.list.count() == 2
    assert len(np.unique(window.doc.style_ids)) == 2
    assert "no region was left for “cloud”, so it is removed." in window.statusBar().currentMessage()


def test_suggest_labels_that_drops_a_label_is_undone_with_the_doodle_painted_since(window):
    """A label left without a region goes (its doodle pixels to the label now most like it); undo brings it
    back, pixels and all, and keeps what was painted on the doodle in between."""
    doc = window.doc
    cloud = doc.add_label("cloud")
    doc.target_ids[:3, :3] = cloud
    window.tools.label = cloud
    doc.set_right_button_label(cloud)
    window.labels.suggest_labels(2)
    assert doc.names == ["a", "b"] and window.palette_panel.list.count() == 2
    merged_into = int(doc.target_ids[0, 0])
    assert np.all(doc.target_ids[:3, :3] == merged_into) and window.tools.label == merged_into
    assert doc.right_button_label == merged_into and _doodle_shown(window)
    assert window.doodle_undo.count() == 0                  # its steps named labels by the old numbers
    doc.target_ids[15, 0] = 1                                # painted on the doodle after the suggestion

    window.activate(window.style_view, window.style_undo)
    window.menus.undo_action.trigger()
    assert doc.names == ["a", "b", "cloud"] and len(doc.palette) == 3 and window.palette_panel.list.count() == 3
    assert np.all(doc.target_ids[:3, :3] == cloud) and doc.target_ids[15, 0] == 1 and window.tools.label == cloud
    assert doc.right_button_label == cloud and _doodle_shown(window)
    window.menus.redo_action.trigger()
    assert doc.names == ["a", "b"] and np.all(doc.target_ids[:3, :3] == merged_into)
    assert doc.right_button_label == merged_into and _doodle_shown(window)


def _doodle_shown(window) -> bool:
    """The doodle view shows the doodle's labels in their colours now (without a hand refresh)."""
    image = window.doodle_view.overlay.convertToFormat(QImage.Format.Format_RGB888)
    array = np.frombuffer(image.constBits(), np.uint8).reshape(image.height(), image.bytesPerLine())
    shown = array[:, :3 * image.width()].reshape(image.height(), image.width(), 3)
    return np.array_equal(shown, window.doc.colours(window.doc.target_ids))
