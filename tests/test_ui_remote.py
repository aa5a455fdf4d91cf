"""The app's remote device, driven with pytest-qt against a real server on a localhost port."""
from __future__ import annotations

from doubles import TinyEncoder
from server_helpers import free_port, running_server

from doodlepaint.ui.remote_dialog import REMOTE, RemoteServerDialog

TOKEN = "a-token-for-the-app-tests-0123456789"


def _use_remote(window, url: str, token: str = "") -> None:
    dialog = RemoteServerDialog(window.settings, window)
    dialog.address.setText(url)
    dialog.token.setText(token)
    dialog.accept()
    window.params_panel.set_device(REMOTE)
    assert window.device_choice == REMOTE and window.settings.value("device") == REMOTE


def test_the_dialog_refuses_an_address_that_is_not_one(window):
    dialog = RemoteServerDialog(window.settings, window)
    dialog.address.setText("studio-pc")
    dialog.accept()
    assert "not a server address" in dialog.error.text() and not window.settings.value("remote/url")


def test_a_remote_render_shows_frames_finishes_and_exports(window, qtbot, tmp_path):
    frames = []
    window.rendering.controller.progressed.connect(lambda p: p.frame is not None and frames.append(p))
    with running_server(TinyEncoder(), token=TOKEN) as url:
        _use_remote(window, url, TOKEN)
        with qtbot.waitSignal(window.rendering.controller.finished, timeout=60_000):
            window.rendering.start_render()
        qtbot.waitUntil(lambda: not window.rendering.controller.busy, timeout=10_000)
    assert len(frames) >= 2 and frames[-1].done
    assert window.doc.result.shape == (32, 32, 3) and window.progress_label.text().startswith("Done")
    assert "Rendering on CPU at 127.0.0.1" in window.statusBar().currentMessage()
    assert window.settings.value("remote/url") == url and window.settings.value("remote/token") == TOKEN


def test_the_queue_place_shows_and_cancel_leaves_the_painting_untouched(window, qtbot):
    from doodlepaint.client.remote import RemoteServer
    import threading

    with running_server(TinyEncoder(delay=0.02)) as url:
        _use_remote(window, url)
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
    _use_remote(window, f"http://127.0.0.1:{free_port()}")
    window.rendering.start_render()
    qtbot.waitUntil(lambda: not window.rendering.controller.busy, timeout=30_000)
    assert window.doc.result is None
    kind, title, text = window.messages[-1]
    assert title == "Render failed" and "cannot reach the doodlepaint server at 127.0.0.1" in text


def test_a_server_that_goes_away_mid_render_is_a_clear_message(window, qtbot):
    window.doc.params = window.doc.params.replace(iterations=400)
    with running_server(TinyEncoder(delay=0.02)) as url:
        _use_remote(window, url)
        with qtbot.waitSignal(window.rendering.controller.progressed, timeout=30_000):
            window.rendering.start_render()
    qtbot.waitUntil(lambda: not window.rendering.controller.busy, timeout=30_000)
    assert window.doc.result is None
    kind, title, text = window.messages[-1]
    assert title == "Render failed" and "went away mid-render" in text and "untouched" in text


def test_remote_without_an_address_says_where_to_set_it(window):
    window.params_panel.set_device(REMOTE)
    window.rendering.start_render()
    assert "Render → Remote Server…" in window.messages[-1][2] and not window.rendering.controller.busy
