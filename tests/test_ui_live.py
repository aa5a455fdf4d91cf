"""Live mode with instant previews: an instant picture per edit, refined when the artist pauses, and a
Result view that always says what it shows."""
from __future__ import annotations

import numpy as np
import pytest


def _stages(window):
    seen = []
    window.rendering.live.start.connect(lambda request, stage: seen.append((stage, request.params.method, request.params.init)))
    return seen


@pytest.fixture
def live_window(window):
    window.rendering.live.instant_timer.setInterval(20)
    window.rendering.live.refine_timer.setInterval(200)
    return window


def test_a_stroke_in_live_mode_shows_the_instant_picture_then_refines_it(live_window, qtbot):
    window = live_window
    stages = _stages(window)
    frames = []
    window.rendering.controller.progressed.connect(lambda p: p.frame is not None and frames.append(p))
    window.menus.live_box.setChecked(True)
    qtbot.waitUntil(lambda: window.rendering.result_state.kind == "instant", timeout=60_000)
    assert stages[0] == ("instant", "swap", "auto")
    assert "Instant preview" in window.result_state_label.text() and window.doc.result is not None
    qtbot.waitUntil(lambda: window.rendering.result_state.kind == "done", timeout=120_000)
    assert stages[1][0] == "refining" and stages[1][1] == "patch" and stages[1][2] == "image"
    assert window.result_state_label.text().startswith("Refined")
    assert frames[0].stage == "instant"
    qtbot.waitUntil(lambda: not window.rendering.controller.busy, timeout=10_000)


def test_edits_before_the_pause_restart_the_instant_picture_not_the_refinement(live_window, qtbot):
    window = live_window
    window.rendering.live.refine_timer.setInterval(60_000)      # the artist never pauses long enough
    stages = _stages(window)
    window.menus.live_box.setChecked(True)
    qtbot.waitUntil(lambda: window.rendering.result_state.kind == "instant", timeout=60_000)
    window.doc.target_ids[:4, :4] = 1
    window.doc.map_painted(window.doc.target_ids)
    qtbot.waitUntil(lambda: len(stages) == 2 and window.rendering.result_state.kind == "instant", timeout=60_000)
    assert [stage for stage, *_ in stages] == ["instant", "instant"]
    assert window.rendering.live.refine_timer.isActive()
    window.menus.live_box.setChecked(False)
    assert not window.rendering.live.refine_timer.isActive()
    qtbot.waitUntil(lambda: not window.rendering.controller.busy, timeout=10_000)


def test_the_instant_preset_paints_in_one_pass_and_is_not_refined(live_window, qtbot):
    window = live_window
    window.params_panel._preset_chosen("Instant")
    assert window.doc.params.method == "swap" and window.params_panel.preset.currentText() == "Instant"
    stages = _stages(window)
    with qtbot.waitSignal(window.rendering.controller.finished, timeout=60_000) as finished:
        window.rendering.start_render()
    assert finished.args[0].stage == "instant" and stages == [("render", "swap", "auto")]
    assert window.rendering.result_state.kind == "done"
    window.params_panel._preset_chosen("Normal")
    assert window.doc.params.method == "patch" and window.params_panel.preset.currentText() == "Normal"


def test_without_the_decoder_live_mode_falls_back_to_full_renders(live_window, qtbot, monkeypatch):
    import doodlepaint.engine.swap as swap
    from doodlepaint.engine.errors import DoodleError

    def missing(layer, device="cpu"):
        raise DoodleError("the instant-preview decoder for relu3_1 is not installed")

    monkeypatch.setattr(swap, "get_decoder", missing)
    window = live_window
    window.rendering.live._instant_checked = False
    stages = _stages(window)
    with qtbot.waitSignal(window.rendering.controller.finished, timeout=60_000):
        window.menus.live_box.setChecked(True)
    assert stages == [("render", "patch", "auto")] and window.rendering.result_state.kind == "done"
    assert "not installed" in window.rendering.live.instant_error
    qtbot.waitUntil(lambda: not window.rendering.controller.busy, timeout=10_000)


def test_the_result_view_says_when_it_is_stale(window, qtbot):
    assert window.rendering.result_state.kind == "empty" and window.result_state_label.text() == "Not rendered yet"
    with qtbot.waitSignal(window.rendering.controller.finished, timeout=60_000):
        window.rendering.start_render()
    assert window.rendering.result_state.kind == "done" and window.result_view.isEnabled()
    window.params_panel.gamma.spin.setValue(120)                 # a setting changed after the render
    assert window.rendering.result_state.kind == "stale" and "Stale" in window.result_state_label.text()
    assert not window.result_view.isEnabled()                    # dimmed, not passed off as current
    qtbot.waitUntil(lambda: not window.rendering.controller.busy, timeout=10_000)


def test_a_render_says_it_is_rendering_until_its_first_frame(window, qtbot):
    window.rendering.controller.encoder.delay = 0.05
    window.doc.params = window.doc.params.replace(iterations=50)
    window.rendering.start_render()
    assert window.rendering.result_state.kind == "rendering"
    window.rendering.cancel_render()
    qtbot.waitUntil(lambda: not window.rendering.controller.busy, timeout=30_000)


def test_the_render_request_is_a_snapshot_the_brush_cannot_change(window):
    request = window.doc.request()
    window.doc.target_ids[:] = 1
    assert not np.array_equal(request.target_labels, window.doc.target_ids)


def test_a_new_document_drops_the_old_ones_pending_refinement(live_window, qtbot, tiny_document):
    window = live_window
    window.rendering.live.refine_timer.setInterval(60_000)
    window.menus.live_box.setChecked(True)
    qtbot.waitUntil(lambda: window.rendering.result_state.kind == "instant", timeout=60_000)
    assert window.rendering.live.refine_timer.isActive()
    window.set_document(tiny_document, None)
    assert window.rendering.live._instant_frame is None
    qtbot.waitUntil(lambda: window.rendering.result_state.kind == "instant", timeout=60_000)   # Live paints the new one
    qtbot.waitUntil(lambda: not window.rendering.controller.busy, timeout=10_000)
