"""The app's remote device, driven with pytest-qt against a real server on a localhost port."""
from __future__ import annotations

from PySide6.QtWidgets import QDialog

from doubles import TinyEncoder
from server_helpers import free_port, running_app, running_server

from doodlepaint.client.remote import RemoteServer
from doodlepaint.ui.remote_dialog import REMOTE, NO_REMOTE_LABEL, RemoteServerDialog

TOKEN = "a-token-for-the-app-tests-0123456789"


def _connect(window, qtbot, url: str, token: str = "") -> RemoteServerDialog | None:
    """Render → Remote Server…, the address and token given, Connect pressed; once the check has answered,
    the dialog if it is still open (it closes, and is deleted, when it connects), else None."""
    dialog = window.ask_remote_server()
    closed = []
    dialog.finished.connect(closed.append)
    dialog.address.setText(url)
    dialog.token.setText(token)
    dialog.connect_button.click()
    qtbot.waitUntil(lambda: bool(closed) or dialog.connect_button.isEnabled(), timeout=20_000)
    assert closed in ([], [QDialog.DialogCode.Accepted])
    return None if closed else dialog


def _use_remote(window, qtbot, url: str, token: str = "") -> None:
    assert _connect(window, qtbot, url, token) is None
    assert window.device_choice == REMOTE and window.settings.value("device") == REMOTE


def _device_label(window) -> str:
    return window.params_panel.device.currentText()


def _refused(window, dialog, message: str) -> None:
    """The dialog says `message` and stays open; the address, the token and the device are as they were."""
    assert message in dialog.status.text() and dialog.isVisible()
    assert window.device_choice == "cpu" and _device_label(window) == "CPU"
    assert not window.settings.value("remote/url") and not window.settings.value("remote/token")
    dialog.reject()


def test_the_dialog_refuses_an_address_that_is_not_one(window):
    dialog = window.ask_remote_server()
    dialog.address.setText("studio-pc")
    dialog.connect_button.click()
    assert "not a server address" in dialog.status.text() and not window.settings.value("remote/url")
    dialog.reject()


def test_a_check_that_fails_unexpectedly_still_answers_and_changes_nothing(window, qtbot, monkeypatch):
    """The dialog waits for the check's answer with Connect disabled: a bug in the check must not leave it
    waiting for ever."""
    def broken(self):
        raise RuntimeError("a bug")
    monkeypatch.setattr(RemoteServer, "check_connection", broken)
    dialog = _connect(window, qtbot, f"http://127.0.0.1:{free_port()}")
    _refused(window, dialog, "RuntimeError: a bug")
    assert dialog.connect_button.isEnabled()


def test_connecting_says_which_device_the_server_renders_on_and_lists_its_address(window, qtbot):
    assert window.params_panel.device.itemText(window.params_panel.device.findData(REMOTE)) == NO_REMOTE_LABEL
    with running_server(TinyEncoder(), token=TOKEN) as url:
        assert _connect(window, qtbot, url, TOKEN) is None              # connected: the dialog closed
    assert window.statusBar().currentMessage() == f"Connected to {url} (CPU)"
    assert window.device_choice == REMOTE and _device_label(window) == f"Remote: {url.removeprefix('http://')}"
    assert window.settings.value("remote/url") == url and window.settings.value("remote/token") == TOKEN


def test_a_wrong_token_is_said_and_changes_nothing(window, qtbot):
    with running_server(TinyEncoder(), token=TOKEN) as url:
        dialog = _connect(window, qtbot, url, "not-the-token")
        _refused(window, dialog, "refused the token")
        dialog = _connect(window, qtbot, url)
        _refused(window, dialog, "needs a token")


def test_a_refused_connection_is_said_and_changes_nothing(window, qtbot):
    url = f"http://127.0.0.1:{free_port()}"
    dialog = _connect(window, qtbot, url)
    _refused(window, dialog, "connection refused")
    assert "cannot reach the doodlepaint server at 127.0.0.1" in dialog.status.text()


def test_another_web_server_is_not_taken_for_a_doodlepaint_server(window, qtbot):
    from fastapi import FastAPI

    with running_app(FastAPI()) as url:
        dialog = _connect(window, qtbot, url)
        _refused(window, dialog, "answers, but not as a doodlepaint server (GET /health: 404 Not Found)")


def test_choosing_the_remote_device_connects_first_and_falls_back_if_it_cannot(window, qtbot):
    with running_server(TinyEncoder()) as url:
        _use_remote(window, qtbot, url)
        window.params_panel.set_device("cpu")
        assert window.device_choice == "cpu"
        window.params_panel.set_device(REMOTE)                      # the Device list: connects again
        assert window.device_choice == "cpu" and "Connecting to" in window.statusBar().currentMessage()
        qtbot.waitUntil(lambda: window.device_choice == REMOTE, timeout=20_000)
        assert window.statusBar().currentMessage() == f"Connected to {url} (CPU)"
        window.params_panel.set_device("cpu")
    window.params_panel.set_device(REMOTE)                          # the server has gone
    qtbot.waitUntil(lambda: "Not connected" in window.statusBar().currentMessage(), timeout=20_000)
    assert window.device_choice == "cpu" and _device_label(window) == "CPU"
    assert "cannot reach the doodlepaint server" in window.statusBar().currentMessage()


def test_a_remote_render_shows_frames_finishes_and_exports(window, qtbot, tmp_path):
    frames = []
    window.rendering.controller.progressed.connect(lambda p: p.frame is not None and frames.append(p))
    with running_server(TinyEncoder(), token=TOKEN) as url:
        _use_remote(window, qtbot, url, TOKEN)
        with qtbot.waitSignal(window.rendering.controller.finished, timeout=60_000):
            window.rendering.start_render()
        qtbot.waitUntil(lambda: not window.rendering.controller.busy, timeout=10_000)
    assert len(frames) >= 2 and frames[-1].done
    assert frames[0].stage == "instant"              # a remote render opens with the instant picture too
    assert window.doc.result.shape == (32, 32, 3) and window.progress_label.text().startswith("Done")
    assert "Rendering on CPU at 127.0.0.1" in window.statusBar().currentMessage()
    assert window.settings.value("remote/url") == url and window.settings.value("remote/token") == TOKEN


def test_the_queue_place_shows_and_cancel_leaves_the_painting_untouched(window, qtbot):
    from doodlepaint.client.remote import RemoteServer
    import threading

    with running_server(TinyEncoder(delay=0.02)) as url:
        _use_remote(window, qtbot, url)
        window.doc.params = window.doc.params.replace(iterations=400)
        other, stop = threading.Thread(target=lambda: list(RemoteServer(url).run_transfer(
            window.doc.request(), stop.is_set))), threading.Event()
        other.start()                            # another painter's render holds the device
        qtbot.waitUntil(lambda: RemoteServer(url).health()["running"], timeout=20_000)
        window.rendering.start_render()
        qtbot.waitUntil(lambda: "1 job(s) ahead" in window.progress_label.text(), timeout=20_000)
        stop.set()
        other.join(20)
        qtbot.waitUntil(lambda: window.progress_label.text().startswith("Phase"), timeout=20_000)
        window.menus.cancel_action.trigger()
        qtbot.waitUntil(lambda: not window.rendering.controller.busy, timeout=20_000)
        qtbot.waitUntil(lambda: not RemoteServer(url).health()["running"], timeout=20_000)
    assert window.doc.result is None and window.progress_label.text() == "Cancelled"


def test_an_unreachable_server_is_a_clear_message(window, qtbot):
    with running_server(TinyEncoder()) as url:
        _use_remote(window, qtbot, url)
    window.rendering.start_render()                                  # the server has stopped since
    qtbot.waitUntil(lambda: not window.rendering.controller.busy, timeout=30_000)
    assert window.doc.result is None
    kind, title, text = window.messages[-1]
    assert title == "Render failed" and "cannot reach the doodlepaint server at 127.0.0.1" in text


def test_a_server_that_goes_away_mid_render_is_a_clear_message(window, qtbot):
    window.doc.params = window.doc.params.replace(iterations=400)
    with running_server(TinyEncoder(delay=0.02)) as url:
        _use_remote(window, qtbot, url)
        with qtbot.waitSignal(window.rendering.controller.progressed, timeout=30_000):
            window.rendering.start_render()
    qtbot.waitUntil(lambda: not window.rendering.controller.busy, timeout=30_000)
    assert window.doc.result is None
    kind, title, text = window.messages[-1]
    assert title == "Render failed" and "went away mid-render" in text and "untouched" in text


def test_choosing_the_remote_device_without_an_address_asks_for_one(window):
    window.params_panel.set_device(REMOTE)
    dialogs = [dialog for dialog in window.findChildren(RemoteServerDialog) if dialog.isVisible()]
    assert len(dialogs) == 1 and window.device_choice == "cpu" and _device_label(window) == "CPU"
    dialogs[0].reject()
