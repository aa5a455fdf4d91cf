"""Export at size: the final picture rendered bigger than the preview, with a progress dialog and cancel.

Painters preview small and print large. A big render from scratch repeats the coarse phases that the
preview already settled, so the export starts from the preview, upscaled (the engine's init "image"),
and runs only the phases above the preview's size: 2x the preview is one phase, 4x two.
It runs in a QThread like every render, so the window stays usable; the PNG is written atomically.
"""
from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QComboBox, QDialog, QDialogButtonBox, QFormLayout, QProgressDialog, QWidget

from doodlepaint.engine import DoodleError, Progress, TransferRequest
from doodlepaint.engine.export import save_render
from doodlepaint.model.document import Document
from doodlepaint.ui.render import RenderWorker

FIXED_WIDTHS = (1024, 2048)
MAX_PHASES = 6


def export_widths(preview_width: int) -> list[tuple[str, int]]:
    """The offered sizes: 2x and 4x the preview, then the usual print widths larger than the preview."""
    choices = [(f"{factor}× the preview ({factor * preview_width} px wide)", factor * preview_width)
               for factor in (2, 4)]
    choices += [(f"{width} px wide", width) for width in FIXED_WIDTHS
                if width > preview_width and width not in {w for _, w in choices}]
    return sorted(choices, key=lambda choice: choice[1])


def fine_phases(preview_width: int, width: int) -> int:
    """Phases that double up from just above the preview to `width`: the coarser ones are the preview's."""
    return max(1, min(MAX_PHASES, math.ceil(math.log2(width / preview_width) - 1e-9)))


def export_request(document: Document, width: int) -> TransferRequest:
    """The document's render at `width`, starting from its finished preview. The maps are copies: the
    painter may go on painting while the export runs in its thread."""
    preview = document.result
    params = document.params.replace(size=width, init="image", phases=fine_phases(preview.shape[1], width))
    return TransferRequest(style=document.style, style_labels=document.style_ids.copy(),
                           target_labels=document.target_ids.copy(), palette=document.palette.copy(),
                           params=params, content=document.content, init_image=preview,
                           label_names=tuple(document.names))


def ask_export_width(parent: QWidget, preview_width: int) -> int | None:
    dialog = QDialog(parent)
    dialog.setWindowTitle("Export at size")
    sizes = QComboBox()
    for text, width in export_widths(preview_width):
        sizes.addItem(text, width)
    sizes.setToolTip("The export starts from the preview and paints only the finer detail: bigger takes longer.")
    buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
    buttons.accepted.connect(dialog.accept)
    buttons.rejected.connect(dialog.reject)
    layout = QFormLayout(dialog)
    layout.addRow("Size", sizes)
    layout.addRow(buttons)
    return sizes.currentData() if dialog.exec() == QDialog.DialogCode.Accepted else None


class ExportAtSize(QObject):
    """One export at a time; the progress dialog's Cancel stops it and writes nothing."""

    saved = Signal(str)          # the path written
    failed = Signal(str)         # a message for the painter

    def __init__(self, parent: QWidget):
        super().__init__(parent)
        self.worker: RenderWorker | None = None
        self.dialog: QProgressDialog | None = None
        self.path = ""
        self.request: TransferRequest | None = None
        self.jobs = 0

    @property
    def busy(self) -> bool:
        return self.worker is not None

    def start(self, request: TransferRequest, backend, path: str) -> None:
        """Paint `request` on `backend` (client.LocalBackend or RemoteServer) and save it to `path`."""
        if self.busy:
            raise ValueError("an export is already running: wait for it or cancel it")
        self.jobs += 1
        self.request, self.path = request, path
        self.dialog = QProgressDialog(f"Painting {path} at {request.params.size} px…", "Cancel", 0, 1000,
                                      self.parent())
        self.dialog.setWindowTitle("Export at size")
        self.dialog.setWindowModality(Qt.WindowModality.NonModal)     # the painter may go on meanwhile
        self.dialog.setMinimumDuration(0)
        self.dialog.setAutoClose(False)
        self.dialog.setAutoReset(False)
        self.dialog.canceled.connect(self.cancel)
        self.dialog.show()
        self.worker = RenderWorker(self.jobs, request, backend)
        self.worker.progressed.connect(self._on_progress)
        self.worker.failed.connect(self._on_failure)
        self.worker.finished.connect(self._on_worker_finished)
        self.worker.start()

    def cancel(self) -> None:
        if self.worker is not None:
            self.jobs += 1                       # whatever still arrives is stale: nothing is written
            self.worker.requestInterruption()
        self._close_dialog()

    def shutdown(self) -> None:
        """Cancel and wait for the thread: call before the window closes."""
        self.cancel()
        if self.worker is not None:
            self.worker.wait()
            self._on_worker_finished()

    def _on_progress(self, job: int, progress: Progress) -> None:
        if job != self.jobs:
            return
        if self.dialog is not None:
            self.dialog.setValue(round(1000 * progress.fraction))
            left = f", about {progress.eta:.0f} s left" if progress.eta_known and not progress.done else ""
            self.dialog.setLabelText(f"Painting {self.path} at {self.request.params.size} px: phase "
                                     f"{progress.phase}/{progress.phases}{left}")
        if progress.done:
            self._save(progress.frame)

    def _save(self, frame: np.ndarray) -> None:
        self._close_dialog()
        try:
            save_render(self.path, frame, self.request.params, labels=list(self.request.label_names))
        except (DoodleError, OSError, ValueError) as error:
            self.failed.emit(str(error))
        else:
            self.saved.emit(self.path)

    def _on_failure(self, job: int, message: str) -> None:
        if job == self.jobs:
            self._close_dialog()
            self.failed.emit(message)

    def _close_dialog(self) -> None:
        if self.dialog is not None:
            dialog, self.dialog = self.dialog, None
            dialog.canceled.disconnect(self.cancel)
            dialog.close()
            dialog.deleteLater()

    def _on_worker_finished(self) -> None:
        worker = self.worker
        if worker is None or worker.isRunning():
            return
        self.worker = None
        worker.deleteLater()
