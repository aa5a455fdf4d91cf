import subprocess
import sys

import numpy as np
from PIL import Image
from PySide6.QtWidgets import QMessageBox

from doodlepaint.model.autosave import Recovery
from doodlepaint.ui.main_window import MainWindow


def test_project_save_and_open_round_trip(window, tmp_path):
    window.doc.target_ids[2:5, 2:5] = 0
    window.doc.names[1] = "water"
    window.params_panel.gamma.spin.setValue(99)
    path = tmp_path / "scene.doodlepaint"
    assert window.files.save_project(path)
    assert not window.dirty and window.windowTitle().startswith("doodlepaint — scene")
    saved = window.doc
    window.files.open_sample()
    assert window.doc is not saved
    window.files.open_project(str(path))
    assert np.array_equal(window.doc.target_ids, saved.target_ids) and window.doc.names == ["a", "water"]
    assert window.doc.params.gamma == 99 and window.params_panel.gamma.value() == 99
    assert window.palette_panel.list.item(1).text() == "water" and not window.dirty


def test_autosave_is_offered_back_after_a_crash(window, qtbot, tmp_path, monkeypatch, tiny_document):
    window.doc.target_ids[:] = 1
    window.doc.names[0] = "unsaved"
    window.dirty = True
    window.files.autosave()
    assert window.files.recovery.pending()
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    restarted = MainWindow(Recovery(tmp_path / "recovery"), tiny_document)      # as after a crash
    qtbot.addWidget(restarted)
    restarted.files.offer_recovery()
    assert restarted.doc.names[0] == "unsaved" and np.all(restarted.doc.target_ids == 1)
    assert restarted.dirty
    restarted.dirty = False
    restarted.close()
    assert not restarted.files.recovery.pending()                 # a clean exit removes it


def test_declining_recovery_discards_it(window, tiny_document, tmp_path, qtbot):
    window.dirty = True
    window.files.autosave()
    restarted = MainWindow(Recovery(tmp_path / "recovery"), tiny_document)       # question answers Discard
    qtbot.addWidget(restarted)
    restarted.files.offer_recovery()
    assert not restarted.files.recovery.pending() and restarted.doc is tiny_document


def test_bad_files_give_a_message_and_the_app_stays_usable(window, qtbot, tmp_path):
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"not a png")
    window.files.open_style(str(broken))
    window.files.open_doodle(str(tmp_path / "missing.png"))
    damaged = tmp_path / "damaged.doodlepaint"
    damaged.write_bytes(b"garbage")
    window.files.open_project(str(damaged))
    kinds = [(kind, title) for kind, title, _ in window.messages]
    assert kinds == [("warning", "Cannot open the painting"), ("warning", "Cannot open the doodle"),
                     ("warning", "Cannot open the project")]
    assert "damaged" in window.messages[-1][2]
    with qtbot.waitSignal(window.rendering.controller.finished, timeout=60_000):
        window.rendering.start_render()


def test_a_doodle_in_foreign_colours_is_explained(window, tmp_path):
    path = tmp_path / "doodle.png"
    Image.fromarray(np.full((16, 16, 3), (0, 255, 0), np.uint8)).save(path)
    window.files.open_doodle(str(path))
    assert "not a label of the style map" in window.messages[-1][2]


def test_opening_a_painting_loads_its_map_or_suggests_one(window, tmp_path):
    rgb = np.zeros((24, 20, 3), np.uint8)
    rgb[12:] = (250, 250, 250)
    Image.fromarray(rgb).save(tmp_path / "plain.png")
    window.files.open_style(str(tmp_path / "plain.png"))
    assert window.doc.style_ids.shape == (24, 20) and len(np.unique(window.doc.style_ids)) == 2
    sem = np.zeros((24, 20, 3), np.uint8)
    sem[:, :10] = (255, 0, 0)
    sem[:, 10:] = (0, 0, 255)
    Image.fromarray(rgb).save(tmp_path / "mapped.png")
    Image.fromarray(sem).save(tmp_path / "mapped_sem.png")
    window.files.open_style(str(tmp_path / "mapped.png"))
    assert np.array_equal(window.doc.colours(window.doc.style_ids), sem)
    assert window.messages == [] and window.dirty


def test_a_dropped_photo_goes_under_the_doodle(window, tmp_path):
    photo = np.random.default_rng(0).integers(0, 256, (20, 30, 3), dtype=np.uint8)
    Image.fromarray(photo).save(tmp_path / "photo.png")
    window.files.open_dropped(str(tmp_path / "photo.png"), window.doodle_view)
    assert window.doc.content.shape == (20, 30, 3) and window.doc.target_ids.shape == (20, 30)
    assert window.doodle_view.base is not None


def test_closing_with_unsaved_changes_asks(window, monkeypatch):
    window.set_dirty(True)
    asked = []

    def cancel(*args, **kwargs):
        asked.append(args[1])
        return QMessageBox.StandardButton.Cancel
    monkeypatch.setattr(QMessageBox, "question", cancel)
    assert not window.close() and window.isVisible() and asked == ["Unsaved changes"]


def test_quitting_during_a_render_cancels_and_waits(window, qtbot):
    from doubles import TinyEncoder
    window.rendering.controller.encoder = TinyEncoder(delay=0.02)
    window.doc.params = window.doc.params.replace(iterations=400)
    with qtbot.waitSignal(window.rendering.controller.progressed, timeout=30_000):
        window.rendering.start_render()
    worker = window.rendering.controller.worker
    assert window.close()
    assert window.rendering.controller.worker is None and not worker.isRunning()


def test_the_app_module_starts(tmp_path):
    code = ("import sys\n"
            "from PySide6.QtCore import QTimer\n"
            "from PySide6.QtWidgets import QApplication\n"
            "from doodlepaint.ui import app\n"
            "qapp = QApplication(sys.argv)\n"
            "def report():\n"
            "    print([w.windowTitle() for w in qapp.topLevelWidgets() if w.isVisible()])\n"
            "    qapp.closeAllWindows()\n"
            "QTimer.singleShot(3000, report)\n"
            "sys.exit(app.main(['doodlepaint']))\n")
    env = {"QT_QPA_PLATFORM": "offscreen", "HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path / "c"),
           "XDG_DATA_HOME": str(tmp_path / "d"), "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "doodlepaint — Untitled" in out.stdout


def _save_image(path, rgb) -> str:
    Image.fromarray(rgb).save(path)
    return str(path)


def test_a_doodle_too_small_to_save_is_refused_before_it_enters_the_document(window, tmp_path):
    """A 4x4 doodle was taken, saved 'successfully', and the project never opened again."""
    before = window.doc.target_ids.copy()
    for size in (1, 4, 7):
        tiny = window.doc.colours(np.zeros((size, size), np.int64))
        window.files.open_doodle(_save_image(tmp_path / f"tiny{size}.png", tiny))
        assert window.messages[-1][:2] == ("warning", "Cannot open the doodle") and "8 pixels" in window.messages[-1][2]
        window.files.open_dropped(str(tmp_path / f"tiny{size}.png"), window.doodle_view)
        assert window.messages[-1][:2] == ("warning", "Cannot open the doodle")
        window.files.open_photo(_save_image(tmp_path / f"photo{size}.png", np.full((size, size, 3), 99, np.uint8)))
        assert window.messages[-1][:2] == ("warning", "Cannot open the photo")
    assert np.array_equal(window.doc.target_ids, before) and window.doc.content is None
    assert not window.doodle_undo.canUndo()


def test_a_dropped_doodle_of_another_size_is_one_undo_step(window, tmp_path):
    before_new = window.doc.target_ids.copy()
    window.files.new_doodle()                       # an edit of the map in place, on its own undo step
    original = window.doc.target_ids
    painted = original.copy()
    bigger = np.zeros((24, 40), np.int64)
    bigger[:, 20:] = 1
    window.files.open_dropped(_save_image(tmp_path / "bigger.png", window.doc.colours(bigger)), window.doodle_view)
    assert np.array_equal(window.doc.target_ids, bigger) and window.messages == []
    assert window.doodle_undo.undoText() == "Open doodle"
    window.doodle_undo.undo()
    assert window.doc.target_ids is original and np.array_equal(original, painted)
    window.doodle_undo.undo()                       # the step before the drop still applies to its own map
    assert window.doc.target_ids is original and np.array_equal(original, before_new)
    window.doodle_undo.redo()
    window.doodle_undo.redo()
    assert np.array_equal(window.doc.target_ids, bigger) and window.doc.target_ids.shape == (24, 40)


def test_a_dropped_photo_can_be_undone(window, tmp_path):
    original = window.doc.target_ids
    photo = np.random.default_rng(1).integers(0, 256, (20, 30, 3), dtype=np.uint8)
    window.files.open_dropped(_save_image(tmp_path / "photo.png", photo), window.doodle_view)
    assert window.doc.content.shape == (20, 30, 3) and window.doodle_undo.undoText() == "Open photo"
    window.doodle_undo.undo()
    assert window.doc.content is None and window.doc.target_ids is original


def test_an_encrypted_project_is_a_message(window, tmp_path):
    from doodlepaint.model.project import project_bytes

    path = tmp_path / "locked.doodlepaint"
    data = bytearray(project_bytes(window.doc))
    for offset in range(len(data) - 4):             # set the "encrypted" flag on every member's headers
        if data[offset:offset + 4] in (b"PK\x03\x04", b"PK\x01\x02"):
            flag_at = offset + (6 if data[offset + 2] == 3 else 8)
            data[flag_at] |= 1
    path.write_bytes(bytes(data))
    window.files.open_project(str(path))
    kind, title, text = window.messages[-1]
    assert (kind, title) == ("warning", "Cannot open the project") and "encrypted" in text
