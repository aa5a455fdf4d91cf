"""Dialog defaults and Export at size (issue #12)."""
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from PySide6.QtWidgets import QDialog, QFileDialog, QProgressDialog, QPushButton

from doodlepaint.client.backend import LocalBackend
from doodlepaint.engine.errors import DoodleError
from doodlepaint.engine.export import read_png_metadata
from doodlepaint.engine.print_size import check_print
from doodlepaint.ui import export_size
from doodlepaint.ui.export_size import ExportSizeDialog, expectation, export_request, export_widths, fine_phases


@pytest.fixture
def dialogs(monkeypatch, tmp_path):
    """File dialogs that record where they start and answer with a path in tmp_path."""
    asked = []

    def save(parent, title, start, *args, **kwargs):
        asked.append(start)
        return str(tmp_path / Path(start).name), ""
    monkeypatch.setattr(QFileDialog, "getSaveFileName", save)
    return asked


def _render(window, qtbot):
    window.rendering.start_render()
    qtbot.waitUntil(lambda: window.doc.result is not None and not window.rendering.controller.busy, timeout=30_000)


def test_the_first_save_starts_in_the_documents_folder_not_the_samples(window, dialogs, tmp_path, monkeypatch):
    documents = tmp_path / "Documents"
    documents.mkdir()
    monkeypatch.setattr("doodlepaint.ui.files.documents_folder", lambda: str(documents))
    window.settings.setValue("last_folder", "/usr/share/doodlepaint/samples")   # a painting was opened there
    window.files.save_as()
    assert dialogs[0] == str(documents / "Untitled.doodlepaint")
    window.files.save_as()                                    # then the folder the project was saved in
    assert dialogs[1] == str(tmp_path / "Untitled.doodlepaint")


def test_export_suggests_the_projects_name(window, qtbot, dialogs, tmp_path):
    assert window.files.save_project(tmp_path / "cliffs.doodlepaint")
    _render(window, qtbot)
    window.files.ask_export()
    assert dialogs[-1] == str(tmp_path / "cliffs.png") and (tmp_path / "cliffs.png").exists()


def test_offered_sizes_and_the_phases_above_the_preview():
    assert export_widths(256) == [("2× the preview (512 px wide)", 512), ("4× the preview (1024 px wide)", 1024),
                                  ("2048 px wide", 2048), ("A4 at 300 dpi (3508 px wide)", 3508),
                                  ("4096 px wide", 4096), ("A3 at 300 dpi (4961 px wide)", 4961)]
    assert [width for _, width in export_widths(1024, landscape=False)] == [2048, 2480, 3508, 4096]
    assert [fine_phases(256, width) for width in (512, 1024, 2048, 300)] == [1, 2, 3, 1]


def test_the_dialog_says_the_memory_and_time_to_expect(tiny_document):
    tiny_document.result = np.full((16, 16, 3), 7, np.uint8)
    assert expectation(tiny_document, 4096).startswith("4096×4096 px: about ")
    small, large = (float(expectation(tiny_document, width).split("about ")[1].split(" GB")[0])
                    for width in (1024, 4096))
    assert 0 < small < large
    # 4096 x 4096 px at 5 s per million pixels: 84 s, said in seconds; a print twice as wide in minutes
    assert "84 s on a 2-core CPU" in expectation(tiny_document, 4096)
    assert "6 min on a 2-core CPU" in expectation(tiny_document, 8192)


def test_the_export_request_starts_from_the_preview(tiny_document):
    tiny_document.result = np.full((24, 32, 3), 7, np.uint8)
    job = export_request(tiny_document, 128)
    assert job.request.params.size == 128 and job.settings.working_size == 32
    assert job.working is tiny_document.result
    assert job.request.target_labels is not tiny_document.target_ids          # painting on goes unseen


def test_export_at_size_paints_a_bigger_picture_in_a_thread(window, qtbot, tmp_path, monkeypatch):
    _render(window, qtbot)
    assert window.doc.result.shape[1] == 32
    monkeypatch.setattr(export_size, "ask_export_size", lambda *args: export_size.ExportChoice(64, 1.0))
    started = []
    monkeypatch.setattr(QFileDialog, "getSaveFileName",
                        lambda *a, **k: started.append(a[2]) or (str(tmp_path / "big.png"), ""))
    window.files.ask_export_at_size()
    assert started[0].endswith("Untitled-64px.png")
    assert window.export_at_size.busy and isinstance(window.export_at_size.dialog, QProgressDialog)
    qtbot.waitUntil(lambda: (tmp_path / "big.png").exists() and not window.export_at_size.busy, timeout=30_000)
    image = np.asarray(Image.open(tmp_path / "big.png"))
    assert image.shape == (64, 64, 3)
    meta = read_png_metadata(tmp_path / "big.png")
    assert meta["params"]["size"] == 64 and meta["labels"] == ["a", "b"]
    assert meta["print"]["working_size"] == 32                      # copied from the painting, guided by the preview
    style_colours = {tuple(c) for c in window.doc.style.reshape(-1, 3)}
    assert {tuple(c) for c in image[20:44, 4:12].reshape(-1, 3)} <= style_colours
    assert window.export_at_size.dialog is None


def test_cancelling_an_export_writes_nothing(window, qtbot, tmp_path, tiny_encoder):
    _render(window, qtbot)
    tiny_encoder.delay = 0.05
    window.files.export_at_size_to(str(tmp_path / "big.png"), 64)
    window.export_at_size.dialog.findChild(QPushButton).click()       # the dialog's Cancel
    assert window.export_at_size.dialog is None
    qtbot.waitUntil(lambda: not window.export_at_size.busy, timeout=30_000)
    assert not (tmp_path / "big.png").exists() and not list(tmp_path.glob(".big.png*"))


def test_the_png_is_encoded_off_the_gui_thread_and_a_cancel_meanwhile_writes_nothing(window, qtbot, tmp_path,
                                                                                    monkeypatch):
    """A print's PNG takes seconds to encode: the window goes on meanwhile, the dialog says so, and a cancel
    before the file is in place leaves no file."""
    import threading

    release, threads, encode = threading.Event(), [], export_size.encode_png

    def slow_encode(rgb, metadata):
        threads.append(threading.current_thread())
        release.wait(30)
        return encode(rgb, metadata)
    monkeypatch.setattr(export_size, "encode_png", slow_encode)
    _render(window, qtbot)
    window.files.export_at_size_to(str(tmp_path / "big.png"), 64)
    qtbot.waitUntil(lambda: bool(threads), timeout=30_000)
    assert threads[0] is not threading.main_thread()
    assert window.export_at_size.busy and "Writing" in window.export_at_size.dialog.labelText()
    window.export_at_size.dialog.findChild(QPushButton).click()       # the dialog's Cancel
    release.set()
    qtbot.waitUntil(lambda: not window.export_at_size.busy, timeout=30_000)
    window.export_at_size.encoder.submit(lambda: None).result()       # the encoding is over
    qtbot.wait(50)                                                    # and its signal delivered
    assert not (tmp_path / "big.png").exists() and not list(tmp_path.glob(".big.png*"))
    assert window.messages == []


def test_a_stale_frame_of_an_export_is_dropped_by_the_shared_job_runner(window, qtbot, tmp_path, tiny_encoder):
    """Export at Size runs on the same JobRunner as Render: a finished frame or a failure of an older job
    writes nothing and says nothing; the current job's finished frame is what gets saved."""
    from doodlepaint.engine import Progress
    from doodlepaint.ui.render import JobRunner

    _render(window, qtbot)
    tiny_encoder.delay = 0.05
    window.files.export_at_size_to(str(tmp_path / "big.png"), 64)
    runner = window.export_at_size.runner
    assert isinstance(runner, JobRunner) and isinstance(window.rendering.controller, JobRunner)
    finished = Progress(1, 1, 1, 1, 1, 1, 0.0, 0.0, 0.0, frame=np.full((64, 64, 3), 9, np.uint8), done=True)
    runner.on_progress(runner.job - 1, finished)
    runner.on_failure(runner.job - 1, "old news")
    assert not (tmp_path / "big.png").exists() and window.export_at_size.dialog is not None
    assert window.messages == []
    runner.on_progress(runner.job, finished)
    qtbot.waitUntil(lambda: (tmp_path / "big.png").exists(), timeout=30_000)      # encoded on its own thread
    assert np.array_equal(np.asarray(Image.open(tmp_path / "big.png")), finished.frame)
    assert window.export_at_size.dialog is None
    window.export_at_size.cancel()
    qtbot.waitUntil(lambda: not window.export_at_size.busy, timeout=30_000)


class RecordingBackend(LocalBackend):
    """This machine's backend, noting the print settings each export is given."""

    def __init__(self, encoder):
        super().__init__("cpu", encoder)
        self.print_settings = []

    def for_print(self, settings, working):
        self.print_settings.append(settings)
        return super().for_print(settings, working)


def test_the_brush_scale_chosen_in_the_dialog_reaches_the_print_and_is_remembered(window, qtbot, tmp_path,
                                                                                  monkeypatch, tiny_encoder):
    window.doc.result = np.full((32, 32, 3), 7, np.uint8)
    backend = RecordingBackend(tiny_encoder)
    monkeypatch.setattr(window.rendering, "backend", lambda: backend)
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(tmp_path / "big.png"), ""))

    def choose_twice_the_brush(dialog):
        assert dialog.brush_scale.value() == 1.0 and dialog.brush_scale.isEnabled()
        dialog.sizes.setCurrentIndex(dialog.sizes.findData(64))
        dialog.brush_scale.setValue(2.0)
        assert dialog.export_button.isEnabled() and dialog.expected.text() == expectation(window.doc, 64, 2.0)
        dialog.accept()
        return QDialog.DialogCode.Accepted
    monkeypatch.setattr(ExportSizeDialog, "exec", choose_twice_the_brush)
    window.files.ask_export_at_size()
    qtbot.waitUntil(lambda: (tmp_path / "big.png").exists() and not window.export_at_size.busy, timeout=30_000)
    assert [settings.brush_scale for settings in backend.print_settings] == [2.0]
    assert read_png_metadata(tmp_path / "big.png")["print"]["brush_scale"] == 2.0
    assert ExportSizeDialog(window, window.doc, window.settings).brush_scale.value() == 2.0     # remembered


def test_a_painting_too_small_for_the_print_disables_export_with_the_engines_message(window):
    window.doc.result = np.full((32, 32, 3), 7, np.uint8)
    dialog = ExportSizeDialog(window, window.doc, window.settings)
    dialog.sizes.setCurrentIndex(dialog.sizes.findData(64))
    assert dialog.export_button.isEnabled() and "GB of memory" in dialog.expected.text()
    dialog.brush_scale.setValue(0.25)                 # the 16x16 painting becomes 4x4 pixels: no 5x5 patches
    job = export_request(window.doc, 64, 0.25)
    with pytest.raises(DoodleError) as refused:
        check_print(job.request, job.settings)
    assert dialog.expected.text() == str(refused.value) and "too small" in dialog.expected.text()
    assert not dialog.export_button.isEnabled()
    dialog.brush_scale.setValue(1.0)
    assert dialog.export_button.isEnabled()


def test_a_render_server_has_no_brush_scale(window):
    window.doc.result = np.full((16, 16, 3), 7, np.uint8)
    dialog = ExportSizeDialog(window, window.doc, window.settings, prints_here=False)
    assert not dialog.brush_scale.isEnabled() and "render server" in dialog.brush_scale.toolTip()
