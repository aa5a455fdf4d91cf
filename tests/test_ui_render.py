import numpy as np
from PIL import Image

from doodlepaint.engine import Progress
from doodlepaint.engine.export import read_png_metadata

from doubles import TinyEncoder


def _frames(window):
    frames = []
    window.rendering.controller.progressed.connect(lambda p: p.frame is not None and frames.append(p))
    return frames


def test_a_tiny_render_shows_progressive_frames_and_finishes(window, qtbot):
    window.doc.params = window.doc.params.replace(size=64, phases=2, iterations=3)
    frames = _frames(window)
    with qtbot.waitSignal(window.rendering.controller.finished, timeout=60_000) as finished:
        window.rendering.start_render()
    qtbot.waitUntil(lambda: not window.rendering.controller.busy, timeout=10_000)
    assert len(frames) >= 3 and frames[-1].done
    assert frames[0].stage == "instant" and frames[0].frame.shape == (64, 64, 3)   # the instant picture first
    assert frames[1].phase == 1 and frames[1].frame.shape[1] < frames[-1].frame.shape[1]   # then coarse to fine
    assert window.doc.result.shape == (64, 64, 3) and finished.args[0].done
    assert window.result_view.base.width() == 64
    assert window.progress_label.text().startswith("Done")
    assert not window.menus.cancel_action.isEnabled() and not window.progress_bar.isVisible()


def test_cancel_stops_a_render_and_a_new_one_starts(window, qtbot):
    window.rendering.controller.encoder = TinyEncoder(delay=0.02)
    window.doc.params = window.doc.params.replace(iterations=400)
    with qtbot.waitSignal(window.rendering.controller.progressed, timeout=30_000):
        window.rendering.start_render()
    assert window.menus.cancel_action.isEnabled()
    window.menus.cancel_action.trigger()
    qtbot.waitUntil(lambda: not window.rendering.controller.busy, timeout=10_000)
    assert window.doc.result is None and window.progress_label.text() == "Cancelled"
    window.rendering.controller.encoder = TinyEncoder()
    window.doc.params = window.doc.params.replace(iterations=2)
    with qtbot.waitSignal(window.rendering.controller.finished, timeout=60_000):
        window.rendering.start_render()
    assert window.doc.result is not None


def test_a_new_render_replaces_a_running_one(window, qtbot):
    window.rendering.controller.encoder = TinyEncoder(delay=0.02)
    window.doc.params = window.doc.params.replace(iterations=400)
    first = window.rendering.controller.start(window.doc.request(), window.rendering.backend())
    qtbot.waitSignal(window.rendering.controller.progressed, timeout=30_000).wait()
    window.rendering.controller.encoder = TinyEncoder()
    window.doc.params = window.doc.params.replace(iterations=2)
    with qtbot.waitSignal(window.rendering.controller.finished, timeout=60_000):
        second = window.rendering.start_render() or window.rendering.controller.job
    assert second > first and window.doc.result is not None


def test_frames_of_a_stale_job_are_dropped(window, qtbot):
    seen = []
    window.rendering.controller.progressed.connect(seen.append)
    stale = Progress(1, 1, 1, 1, 1, 1, 0.0, 0.0, 0.0, frame=np.zeros((8, 8, 3), np.uint8), done=True)
    window.rendering.controller.on_progress(window.rendering.controller.job - 1, stale)
    window.rendering.controller.on_failure(window.rendering.controller.job - 1, "old news")
    assert seen == [] and window.doc.result is None and window.messages == []
    window.rendering.controller.on_progress(window.rendering.controller.job, stale)
    assert seen == [stale] and window.doc.result is stale.frame


def test_an_engine_notice_shows_in_the_status_bar(window):
    notice = "out of GPU memory matching 1024x768 in chunks of 4096; retried with chunks of 1024"
    window.rendering.controller.on_progress(window.rendering.controller.job, Progress(1, 1, 1, 1, 1, 1, 0.0, 0.0, 0.0, message=notice))
    assert window.statusBar().currentMessage() == notice


def test_progress_shows_the_share_of_work_and_an_eta_once_it_means_something(window):
    early = Progress(1, 3, 2, 64, 2, 160, 0.0, 0.5, 300.0, fraction=0.02)
    window.rendering.controller.on_progress(window.rendering.controller.job, early)
    assert "estimating" in window.progress_label.text() and window.progress_bar.value() == 20
    later = Progress(3, 3, 8, 32, 136, 160, 0.0, 30.0, 42.4, fraction=0.5)
    window.rendering.controller.on_progress(window.rendering.controller.job, later)
    assert window.progress_label.text() == "Phase 3/3 · step 8/32 · about 30 s left"     # 0.48 in 29.5 s
    assert window.progress_bar.value() == 500


def test_the_time_left_leaves_the_set_up_out_and_does_not_swing(window):
    """20 s of loading and patch banks, then 1 % of the work a second: the estimate is the truth from the
    first tenth on, where the engine's own (elapsed over fraction) starts at several times it."""
    estimates = []
    for second in range(0, 60, 2):
        fraction = 0.01 * second
        progress = Progress(2, 3, 1, 32, 1, 160, 0.0, 20.0 + second, 0.0, fraction=fraction)
        window.rendering.controller.on_progress(window.rendering.controller.job, progress)
        estimates.append(window.progress_label.text().split(" · ")[-1])
    truth = [f"about {5 * round((100 - s) / 5)} s left" if s > 10 else f"about {round((100 - s) / 60)} min left"
             for s in range(0, 60, 2)]
    shown = [text for text in estimates if "estimating" not in text]
    assert shown == [t for t, e in zip(truth, estimates) if "estimating" not in e] and len(shown) >= 20


def test_live_mode_renders_after_a_setting_changes(window, qtbot):
    window.menus.live_box.setChecked(True)
    assert window.menus.live_action.isChecked()
    with qtbot.waitSignal(window.rendering.controller.finished, timeout=60_000):
        window.params_panel.gamma.spin.setValue(80)
    assert window.doc.result is not None
    qtbot.waitUntil(lambda: not window.rendering.controller.busy, timeout=10_000)


def test_an_engine_error_is_a_message_and_the_app_carries_on(window, qtbot):
    window.doc.target_ids[:] = window.doc.add_label()        # a label the painting does not have
    with qtbot.waitSignal(window.rendering.controller.failed, timeout=30_000):
        window.rendering.start_render()
    qtbot.waitUntil(lambda: bool(window.messages), timeout=5_000)
    assert window.messages[-1][0] == "warning" and "does not appear in the style map" in window.messages[-1][2]
    window.doc.target_ids[:] = 0
    with qtbot.waitSignal(window.rendering.controller.finished, timeout=60_000):
        window.rendering.start_render()


def test_export_writes_a_png_with_the_parameters(window, qtbot, tmp_path):
    window.doc.params = window.doc.params.replace(gamma=77.0, seed=5)
    with qtbot.waitSignal(window.rendering.controller.finished, timeout=60_000):
        window.rendering.start_render()
    path = tmp_path / "art.png"
    window.files.export_png(str(path))
    image = Image.open(path)
    assert image.size == (32, 32)
    metadata = read_png_metadata(path)
    assert metadata["params"]["gamma"] == 77.0 and metadata["params"]["seed"] == 5
    assert metadata["labels"] == window.doc.names
    assert np.array_equal(np.asarray(image.convert("RGB")), window.doc.result)


def test_export_without_a_render_explains(window):
    window.files.ask_export()
    assert window.messages[-1][0] == "information"
