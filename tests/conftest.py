"""Headless Qt, private settings and state folders per test, and no QThread left running after a test."""
import os
import sys

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from doodlepaint.model.document import Document  # noqa: E402
from doubles import TinyDecoder, TinyEncoder  # noqa: E402


@pytest.fixture
def tiny_document():
    """A 16x16 painting split into two labels, and a doodle using both."""
    style = np.zeros((16, 16, 3), np.uint8)
    style[:8] = (200, 60, 40)
    style[8:] = (40, 80, 200)
    style_ids = np.zeros((16, 16), np.int64)
    style_ids[8:] = 1
    target = np.zeros((16, 16), np.int64)
    target[:, 8:] = 1
    palette = np.array([[255, 0, 0], [0, 0, 255]], np.uint8)
    return Document(style, style_ids, target, palette, ["a", "b"])


@pytest.fixture
def tiny_encoder():
    return TinyEncoder()


@pytest.fixture
def tiny_decoder(monkeypatch):
    """Instant pictures from TinyDecoder, so tests never need the shipped weights to match TinyEncoder."""
    import doodlepaint.engine.swap as swap
    monkeypatch.setattr(swap, "get_decoder", lambda layer, device="cpu": TinyDecoder())
    return TinyDecoder()


@pytest.fixture(autouse=True)
def no_dangling_threads(monkeypatch):
    """Fail a test that leaves a QThread running. An engine test, which loads no Qt, is left alone: the
    engine's tests run where PySide6 is not installed."""
    if "PySide6.QtCore" not in sys.modules:
        yield
        return
    from PySide6.QtCore import QThread

    started = []
    original = QThread.start

    def start(self, *args):
        started.append(self)
        original(self, *args)

    monkeypatch.setattr(QThread, "start", start)
    yield
    running = [thread for thread in started if _alive(thread)]
    for thread in running:
        thread.requestInterruption()
        thread.wait(10_000)
    assert not running, f"{len(running)} QThread(s) left running"


def _alive(thread) -> bool:
    try:
        return thread.isRunning()
    except RuntimeError:        # already deleted by Qt, so finished
        return False


@pytest.fixture
def qt_state(tmp_path, monkeypatch, qapp):
    """Settings and app data in a temporary folder; message boxes that record instead of blocking."""
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QMessageBox

    qapp.setApplicationName("doodlepaint-test")
    qapp.setOrganizationName("doodlepaint-test")
    for scope in (QSettings.Scope.UserScope, QSettings.Scope.SystemScope):
        QSettings.setPath(QSettings.Format.NativeFormat, scope, str(tmp_path / "settings"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    messages = []

    def record(kind, answer=None):
        def show(parent, title, text, *args, **kwargs):
            messages.append((kind, title, text))
            return answer
        return show

    monkeypatch.setattr(QMessageBox, "warning", record("warning", QMessageBox.StandardButton.Ok))
    monkeypatch.setattr(QMessageBox, "information", record("information", QMessageBox.StandardButton.Ok))
    monkeypatch.setattr(QMessageBox, "critical", record("critical", QMessageBox.StandardButton.Ok))
    monkeypatch.setattr(QMessageBox, "question", record("question", QMessageBox.StandardButton.Discard))
    return messages


@pytest.fixture
def window(qtbot, qt_state, tiny_document, tiny_encoder, tiny_decoder, tmp_path):
    """The main window on the tiny document, rendering with the tiny encoder."""
    from doodlepaint.model.autosave import Recovery
    from doodlepaint.ui.main_window import MainWindow

    tiny_document.params = tiny_document.params.replace(size=32, phases=1, iterations=4, match_every=1)
    main = MainWindow(Recovery(tmp_path / "recovery"), tiny_document, encoder=tiny_encoder)
    main.params_panel.set_device("cpu")
    main.device_choice = "cpu"
    qtbot.addWidget(main)
    main.resize(1200, 800)
    main.show()
    qtbot.waitExposed(main)
    main.messages = qt_state
    yield main
    main.rendering.controller.shutdown()
    main.dirty = False
    main.close()
