"""Rendering in the main window: Render, Cancel and Live, the background job, and what the Result view says.

A collaborator of MainWindow. It owns the render thread (RenderController), Live mode (LivePreview: an
instant picture per edit, refined after a pause), the warm-up thread, and the Result view's state line;
it reads the document and the device choice from the window, follows what the document announces, shows
frames and progress there, and sets the document's result. The menus follow its `live_changed` and its
controller's `busy_changed`.
"""
from __future__ import annotations

import contextlib

from PySide6.QtCore import QObject, QSize, Signal
from PySide6.QtWidgets import QMessageBox

from doodlepaint.client.backend import LocalBackend
from doodlepaint.engine import PRESETS, DoodleError, pick_device
from doodlepaint.engine.methods import method_info
from doodlepaint.engine.transfer import output_size
from doodlepaint.ui.live import LivePreview, ResultState, instant_request
from doodlepaint.ui.qimages import qimage_from_rgb
from doodlepaint.ui.remote_dialog import REMOTE, remote_server
from doodlepaint.ui.render import PREVIEW_INTERVAL, RenderController, WarmUp

STALE_KINDS = ("done", "instant", "refining")     # pictures an edit makes out of date


class RemainingTime:
    """The time left from the plan's share of work done and the rate measured since the first optimiser round:
    loading, the instant picture and the first patch banks are left out of the rate, so the estimate does not
    start at several times the truth and fall."""

    def __init__(self):
        self.first: tuple[float, float] | None = None      # (elapsed, fraction) at the first round

    def update(self, progress) -> float | None:
        """Seconds left, or None while too little has been measured to say."""
        if self.first is None:
            self.first = (progress.elapsed, progress.fraction)
            return None
        elapsed, fraction = self.first
        measured = progress.fraction - fraction
        if measured < 0.1 * (1 - fraction):
            return None
        return (1 - progress.fraction) * (progress.elapsed - elapsed) / measured


def time_left(seconds: float | None) -> str:
    if seconds is None:
        return "estimating the time left"
    if seconds < 1:
        return "almost done"
    if seconds < 90:
        return f"about {max(1, 5 * round(seconds / 5)) if seconds >= 10 else round(seconds)} s left"
    return f"about {round(seconds / 60)} min left"


class RenderSession(QObject):
    live_changed = Signal(bool)

    def __init__(self, window, encoder=None):
        super().__init__(window)
        self.window = window
        self.controller = RenderController(encoder, window)
        self.controller.progressed.connect(self.show_progress)
        self.controller.finished.connect(self.render_finished)
        self.controller.failed.connect(self.render_failed)
        self.controller.busy_changed.connect(self.set_busy)
        self.live = LivePreview(self.live_request, window)
        self.live.start.connect(self.start_job)
        self.render_size = QSize()
        self.stage = "render"
        self.warm_thread: WarmUp | None = None
        self.result_state = ResultState("empty", "")
        # edits counted, so a finished render knows whether the document still looks like its request
        self.edits = self.job_edits = self.result_edits = 0
        self.job_frame_shown = False
        self.remaining = RemainingTime()
        events = window.open_document.events
        events.replaced.connect(self.document_replaced)
        for change in (events.painting, events.doodle, events.params):
            change.connect(self.document_edited)
        events.labels.connect(lambda change: change.recolours and self.document_edited())

    def document_replaced(self, recovered: bool) -> None:
        """A new document (or autosaved work recovered): the running job and a pending refinement belong to
        the old one; the Result view says where the new one's saved render comes from."""
        self.controller.cancel()
        self.live.edited()
        self.result_edits = self.edits - 1 if recovered else self.edits   # a recovered render may predate its edits
        if self.window.doc.result is None:
            self.set_result_state("empty", "Not rendered yet")
        elif recovered:
            self.set_result_state("stale", "Recovered: the last render before doodlepaint stopped; it may not "
                                           "show your latest changes")
        else:
            self.set_result_state("done", "The render saved with this project")

    def document_edited(self) -> None:
        """An edit dims the picture it outdates (unless Live repaints it at once) and schedules Live."""
        self.edits += 1
        if self.result_state.kind in STALE_KINDS and not self.live.enabled:
            self.set_result_state("stale", "Stale: the doodle, the painting or a setting changed since this "
                                           "render. Render again (or turn on Live) to update it.")
        self.schedule_live_render()

    def shutdown(self) -> None:
        """Stop every thread before the window closes (tests fail on a leaked thread)."""
        self.live.stop()
        if self.warm_thread is not None:
            self.warm_thread.requestInterruption()
            self.warm_thread.wait()
        self.controller.shutdown()

    def set_live(self, live: bool) -> None:
        self.live.set_enabled(live)
        self.live_changed.emit(live)

    def schedule_live_render(self) -> None:
        self.live.edited()

    def start_render(self) -> None:
        self.live.render_now()

    def live_request(self):
        return self.window.doc.request()

    def warm_up(self) -> None:
        """Load the networks and encode the painting in the background while the window opens."""
        window = self.window
        with contextlib.suppress(DoodleError):
            device = pick_device(window.device_choice)
            self.warm_thread = WarmUp(instant_request(window.doc.request()), device, window)
            self.warm_thread.start()

    def backend(self):
        """Where renders and exports run: the chosen device here, or the remote server."""
        choice = self.window.device_choice
        if choice == REMOTE:
            return remote_server(self.window.settings)
        return LocalBackend(pick_device(choice), self.controller.encoder, PREVIEW_INTERVAL)

    def start_job(self, request, stage: str) -> None:
        window = self.window
        with window.guard("Cannot render"):
            backend = self.backend()
            width, height = output_size(request)
            self.render_size = QSize(width, height)
            self.stage = stage
            self.job_edits, self.job_frame_shown = self.edits, False
            self.remaining = RemainingTime()
            if self.warm_thread is not None:
                # the warm-up only fills caches the render fills too: two renders on the same cores slow both
                self.warm_thread.requestInterruption()
            self.controller.start(request, backend)
            window.progress_label.setText("Starting…")
            one_pass = method_info(request.params.method).one_pass
            words = {"instant": "Painting the instant preview…" if request.params.method == PRESETS["Instant"].method else
                     "Painting in one pass…", "refining": "Refining the instant preview…",
                     "render": "Painting in one pass…" if one_pass else "Rendering…"}
            self.set_result_state("refining" if stage == "refining" else "rendering", words[stage])

    def set_result_state(self, kind: str, text: str) -> None:
        """Say what the Result view shows; a stale or unfinished picture is dimmed."""
        window = self.window
        self.result_state = ResultState(kind, text)
        colours = {"stale": "#b36b00", "failed": "#b00020", "done": "#2e7d32", "instant": "#2e6fb3"}
        window.result_state_label.setText(text)
        window.result_state_label.setStyleSheet(f"color: {colours.get(kind, '#808080')};")
        window.result_view.setEnabled(kind not in ("stale",))

    def cancel_render(self) -> None:
        if self.controller.busy:
            self.controller.cancel()
            self.window.progress_label.setText("Cancelled")
            self.show_kept_result("Cancelled")

    def show_kept_result(self, why: str) -> None:
        """After a cancel or a failure the view goes back to the last finished picture, the one Export saves:
        a half-done frame is never left on screen to be mistaken for it."""
        window = self.window
        window.show_result()
        if window.doc.result is None:
            self.set_result_state("empty", f"{why}: nothing rendered yet")
        elif self.result_edits == self.edits:
            self.set_result_state("done", f"{why}: showing the last finished render, which Export saves")
        else:
            self.set_result_state("stale", f"{why}: showing the last finished render (Export saves it), made "
                                           "before your latest changes")

    def set_busy(self, busy: bool) -> None:
        window = self.window
        window.progress_bar.setVisible(busy)
        if busy:
            window.progress_bar.setValue(0)

    def show_progress(self, progress) -> None:
        window = self.window
        if progress.phases == 0:             # a remote render waiting in its server's queue
            window.progress_label.setText(progress.message)
            return
        window.progress_bar.setValue(round(1000 * progress.fraction))
        eta = time_left(self.remaining.update(progress)) if progress.stage != "instant" else ""
        if progress.stage == "instant":
            then = "" if progress.done else " · refining…"
            window.progress_label.setText(f"Instant preview in {progress.elapsed:.1f} s{then}")
            if not progress.done and self.stage == "render":
                self.set_result_state("instant", "Instant preview: the render is painting over it…")
        else:
            doing = "Refining" if self.stage == "refining" else "Phase"
            window.progress_label.setText(f"{doing} {progress.phase}/{progress.phases} · step {progress.step}/"
                                        f"{progress.steps} · {eta}")
        if progress.message:
            window.statusBar().showMessage(progress.message, 10000)
        if progress.frame is not None and self.worth_showing(progress):
            window.result_view.set_images(qimage_from_rgb(progress.frame), None, self.render_size)
            self.job_frame_shown = True

    def worth_showing(self, progress) -> bool:
        """Keep the best picture on screen until a better one exists: the instant picture and frames at the
        render's full size replace it; a coarse phase's blocky frame shows only while there is no picture."""
        full_size = progress.frame.shape[1] == self.render_size.width()
        nothing_shown = not self.job_frame_shown and self.window.doc.result is None
        return progress.stage == "instant" or full_size or nothing_shown

    def render_finished(self, progress) -> None:
        window = self.window
        self.result_edits = self.job_edits
        window.doc.set_result(progress.frame)
        if self.stage == "instant":
            window.progress_label.setText(f"Instant preview in {progress.elapsed:.1f} s")
            refine = method_info(window.doc.params.method).refinable
            self.set_result_state("instant", "Instant preview" + (": refined when you pause" if refine else ""))
            self.live.instant_finished(progress.frame)
        else:
            what = "Refined" if self.stage == "refining" else "Done"
            window.progress_label.setText(f"{what} in {progress.elapsed:.1f} s")
            if self.result_edits == self.edits:
                self.set_result_state("done", f"{what} in {progress.elapsed:.1f} s")
            else:
                self.set_result_state("stale", f"{what} in {progress.elapsed:.1f} s, but the document changed "
                                               "meanwhile: render again to update it")

    def render_failed(self, message: str) -> None:
        window = self.window
        window.progress_label.setText("Render failed")
        self.show_kept_result("Render failed")
        self.set_result_state("failed", self.result_state.text)
        if self.live.enabled:
            window.statusBar().showMessage(f"Render failed: {message}", 15000)
        else:
            QMessageBox.warning(window, "Render failed", message)
