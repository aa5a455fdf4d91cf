"""Rendering off the GUI thread: a JobRunner runs one worker QThread per job, at most one at a time, for
Render and Live (RenderController) and for Export at Size alike.

Every job has an id; progress from any other job than the newest is dropped on the GUI side, so a
cancelled render can never overwrite a newer one. Cancel is cooperative (requestInterruption, checked
by the engine between steps); a new job while one runs cancels it and starts when it has stopped.
Frames cross threads as uint8 numpy copies; QImages are made by the receiver on the GUI thread.
"""
from __future__ import annotations

import logging

from PySide6.QtCore import QObject, QThread, Signal

from doodlepaint.engine import DoodleError, Progress, TransferRequest, run_transfer

log = logging.getLogger(__name__)

PREVIEW_INTERVAL = 0.25   # seconds between preview frames


class RenderWorker(QThread):
    progressed = Signal(int, object)     # job id, Progress
    failed = Signal(int, str)            # job id, message

    def __init__(self, job: int, request: TransferRequest, backend, parent=None):
        super().__init__(parent)
        self.job, self.request, self.backend = job, request, backend   # backend: LocalBackend or RemoteServer

    def run(self):
        try:
            for progress in self.backend.run_transfer(self.request, self.isInterruptionRequested):
                self.progressed.emit(self.job, progress)      # its frame is already a copy of its own
        except DoodleError as error:
            self.failed.emit(self.job, str(error))
        except Exception as error:  # noqa: BLE001 - any engine failure must reach the user, not kill the thread
            log.exception("render job %s failed", self.job)
            self.failed.emit(self.job, f"the render failed unexpectedly: {type(error).__name__}: {error}")


class JobRunner(QObject):
    """Runs one job at a time (a TransferRequest on a backend) on a RenderWorker thread and passes on only the
    newest job's progress."""

    progressed = Signal(object)    # Progress of the current job (frame may be None)
    finished = Signal(object)      # the final Progress, with the finished image
    failed = Signal(str)
    busy_changed = Signal(bool)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.job = 0
        self.worker: RenderWorker | None = None
        self.pending: tuple[int, TransferRequest, object] | None = None

    @property
    def busy(self) -> bool:
        return self.worker is not None or self.pending is not None

    def start(self, request: TransferRequest, backend) -> int:
        """Render `request` on `backend` (client.LocalBackend or RemoteServer); a running job is cancelled
        first. Returns the new job's id."""
        self.job += 1
        self.pending = (self.job, request, backend)
        if self.worker is not None:
            self.worker.requestInterruption()
        else:
            self._launch()
        return self.job

    def cancel(self) -> None:
        self.pending = None
        self.job += 1                      # whatever still arrives from the running job is stale
        if self.worker is not None:
            self.worker.requestInterruption()

    def shutdown(self) -> None:
        """Cancel and wait for the thread: call before the window closes."""
        self.cancel()
        if self.worker is not None:
            self.worker.wait()
            self._on_worker_finished()

    def _launch(self) -> None:
        job, request, backend = self.pending
        self.pending = None
        self.worker = RenderWorker(job, request, backend)
        self.worker.progressed.connect(self.on_progress)
        self.worker.failed.connect(self.on_failure)
        self.worker.finished.connect(self._on_worker_finished)
        self.busy_changed.emit(True)
        self.worker.start()

    def on_progress(self, job: int, progress: Progress) -> None:
        if job != self.job:
            return                         # a stale frame from a cancelled or replaced job
        self.progressed.emit(progress)
        if progress.done:
            self.finished.emit(progress)

    def on_failure(self, job: int, message: str) -> None:
        if job == self.job:
            self.failed.emit(message)

    def _on_worker_finished(self) -> None:
        worker = self.worker
        if worker is None or worker.isRunning():
            return
        self.worker = None
        worker.deleteLater()
        if self.pending is not None:
            self._launch()
        else:
            self.busy_changed.emit(False)


class RenderController(JobRunner):
    """The window's renders (Render and Live), which share one encoder (a stand-in one in tests)."""

    def __init__(self, encoder=None, parent=None):
        super().__init__(parent)
        self.encoder = encoder


class WarmUp(QThread):
    """Loads the encoder and the instant decoder and builds the painting's patch bank while the window
    opens, by rendering the instant picture once and dropping it: the first Render then only paints."""

    def __init__(self, request: TransferRequest, device, parent=None):
        super().__init__(parent)
        self.request, self.device = request, device

    def run(self):
        try:
            for _ in run_transfer(self.request, self.isInterruptionRequested, self.device):
                pass
        except DoodleError as error:   # the render that follows will say it to the painter
            log.info("warm-up stopped: %s", error)
        except Exception:  # noqa: BLE001 - a failed warm-up only means the first render does the loading
            log.exception("warm-up failed")
