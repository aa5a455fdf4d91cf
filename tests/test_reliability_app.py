"""The app never loses work: Open Recent asks first, recovery files survive until the artist has the work
back (with its project's path) or discards it, a failed autosave says so, a damaged project changes nothing."""
import io
import json
import zipfile

import numpy as np
import pytest
from PySide6.QtWidgets import QFileDialog, QMessageBox

from doodlepaint.model.autosave import Recovery
from doodlepaint.model.project import load_project, save_project
from doodlepaint.ui.main_window import MainWindow


def restart(qtbot, tmp_path, tiny_document) -> MainWindow:
    """A new window on the same recovery folder, as after a crash."""
    window = MainWindow(Recovery(tmp_path / "recovery"), tiny_document)
    qtbot.addWidget(window)
    return window


def rewrite(path, change):
    """Rewrite a project's zip with `change(entries)` applied to its {name: bytes}."""
    with zipfile.ZipFile(path) as archive:
        entries = {n: archive.read(n) for n in archive.namelist()}
    change(entries)
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in entries.items():
            archive.writestr(name, data)


def npy(array) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


@pytest.mark.parametrize("answer, opened", [(QMessageBox.StandardButton.Cancel, False),
                                            (QMessageBox.StandardButton.Discard, True)])
def test_open_recent_asks_before_replacing_unsaved_work(window, tmp_path, monkeypatch, answer, opened):
    path = tmp_path / "other.doodlepaint"
    save_project(window.doc, path)
    window.files._remember(path)
    window.doc.names[0] = "unsaved"
    window.set_dirty(True)
    asked = []
    monkeypatch.setattr(QMessageBox, "question", lambda *args, **kwargs: asked.append(args[1]) or answer)
    window.menus.recent_menu.aboutToShow.emit()
    window.menus.recent_menu.actions()[0].trigger()
    assert asked == ["Unsaved changes"]
    assert (window.doc.names[0] == "unsaved") is not opened and window.dirty is not opened


@pytest.mark.parametrize("damage", ["truncated", "newer"])
def test_an_unreadable_recovery_file_is_kept_aside_and_its_place_named(window, qtbot, tmp_path, tiny_document,
                                                                      damage):
    window.set_dirty(True)
    window.files.autosave()
    recovery_file = window.files.recovery.path
    if damage == "truncated":
        recovery_file.write_bytes(recovery_file.read_bytes()[:200])
    else:
        rewrite(recovery_file, lambda e: e.update({"project.json": json.dumps(
            {**json.loads(e["project.json"]), "version": 99}).encode()}))
    saved = recovery_file.read_bytes()
    restarted = restart(qtbot, tmp_path, tiny_document)
    assert not restarted.files.offer_recovery() and restarted.doc is tiny_document
    kept = list(recovery_file.parent.glob("recovery-unreadable-*.doodlepaint"))
    assert len(kept) == 1 and kept[0].read_bytes() == saved and not recovery_file.exists()
    kind, title, text = window.messages[-1]
    assert title == "Cannot recover" and str(kept[0]) in text
    assert ("newer" in text) == (damage == "newer")
    assert not restart(qtbot, tmp_path, tiny_document).files.offer_recovery()      # not tripped over again


def test_recovered_work_goes_back_to_its_project_file(window, qtbot, tmp_path, tiny_document, monkeypatch):
    path = tmp_path / "beach.doodlepaint"
    assert window.files.save_project(path)
    window.doc.names[0] = "unsaved sky"
    window.set_dirty(True)
    window.files.autosave()
    asked = []
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: asked.append(a[2]) or QMessageBox.StandardButton.Yes)
    restarted = restart(qtbot, tmp_path, tiny_document)
    assert restarted.files.offer_recovery()
    assert str(path) in asked[0]                                      # the prompt names the project
    assert restarted.project_path == path and restarted.dirty
    assert "beach" in restarted.windowTitle() and "Untitled" not in restarted.windowTitle()
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: pytest.fail("Save asked for a new name"))
    assert restarted.files.save()
    assert load_project(path).names[0] == "unsaved sky"
    restarted.close()


def test_a_failed_autosave_is_reported_once_then_again_after_it_recovers(window, tmp_path):
    blocker = tmp_path / "recovery"
    blocker.mkdir(exist_ok=True)
    blocker.rmdir()
    blocker.write_text("a file where the recovery folder should be")
    window.set_dirty(True)
    window.files.autosave()
    window.files.autosave()
    warnings = [m for m in window.messages if m[1] == "Autosave failed"]
    assert len(warnings) == 1 and str(window.files.recovery.path) in warnings[0][2]
    assert "Autosave failed" in window.statusBar().currentMessage()
    blocker.unlink()
    window.files.autosave()
    assert window.files.recovery.pending() and not window.files.autosave_failing


@pytest.mark.parametrize("name, array", [
    ("style", np.zeros((16, 16, 1), np.uint8)),             # one channel: once a segfault in the app
    ("style", np.zeros((16, 16, 3), np.float32)),
    ("style_ids", np.zeros((12, 16), np.int64)),
    ("target_ids", np.full((16, 16), 5, np.int64)),
    ("palette", np.array([[0, 0, 300], [1, 2, 3]], np.int64)),
    ("content", np.zeros((4, 4, 3), np.uint8)),
    ("result", np.zeros((8, 8), np.uint8)),
])
def test_a_damaged_project_changes_nothing_in_the_open_window(window, tmp_path, name, array):
    path = tmp_path / "damaged.doodlepaint"
    save_project(window.doc, path)
    rewrite(path, lambda entries: entries.update({f"{name}.npy": npy(array)}))
    before, names = window.doc, list(window.doc.names)
    window.set_dirty(True)
    window.files.open_project(str(path))
    assert window.doc is before and window.doc.names == names and window.dirty
    kind, title, text = window.messages[-1]
    assert title == "Cannot open the project" and "damaged" in text and name in text
