"""Export at size: the final picture printed bigger than the preview, with a progress dialog and cancel.

Painters preview small and print large. The preview settled the composition, so the export is the print
pipeline (engine/print_size.py) with the preview as its working render: the print is copied at full size
from the painting's own pixels, guided by the labels and the preview. The dialog offers 2x, 4x, 2048,
4096 px and A4/A3 at 300 dpi and a brush scale (remembered), says the memory and time it expects, and refuses
a print the painting is too small for with the engine's own message. It runs in a QThread like every
render, so the window stays usable, and the PNG is encoded on a thread of its own too (seconds at print
size); cancel, until the file is in place, writes nothing; the PNG is written atomically. Against a render
server the export is the server's optimisation at size, from the preview upscaled (its phases above the
preview's size only).
"""
from __future__ import annotations

import dataclasses
import math
from concurrent.futures import Future, ThreadPoolExecutor

import numpy as np
from PySide6.QtCore import QObject, QSettings, Qt, Signal
from PySide6.QtWidgets import (QComboBox, QDialog, QDialogButtonBox, QDoubleSpinBox, QFormLayout, QLabel,
                               QProgressDialog, QWidget)

from doodlepaint.engine import DoodleError, Progress, TransferRequest
from doodlepaint.engine.export import encode_png, render_metadata, write_atomically
from doodlepaint.engine.params import MAX_SIZE
from doodlepaint.engine.print_size import (PrintSettings, check_print_settings, expected_memory, expected_seconds,
                                           print_metadata)
from doodlepaint.engine.synthesis import MAX_BRUSH_SCALE, MIN_BRUSH_SCALE
from doodlepaint.model.document import Document
from doodlepaint.ui.render import JobRunner

FIXED_WIDTHS = (2048, 4096)
# A4 and A3 at 300 dpi: their long and short sides in pixels
PAPER = {"A4": (3508, 2480), "A3": (4961, 3508)}
MAX_PHASES = 6


@dataclasses.dataclass(frozen=True, eq=False)
class PrintJob:
    """An export: the request at the print's size, the print's settings, the preview it starts from."""

    request: TransferRequest
    settings: PrintSettings
    working: np.ndarray


def export_widths(preview_width: int, landscape: bool = True) -> list[tuple[str, int]]:
    """The offered sizes: 2x and 4x the preview, 2048 and 4096 px, A4 and A3 at 300 dpi (the doodle's
    orientation), each wider than the preview and within the size limit, smallest first."""
    choices = [(f"{factor}× the preview ({factor * preview_width} px wide)", factor * preview_width)
               for factor in (2, 4)]
    choices += [(f"{width} px wide", width) for width in FIXED_WIDTHS]
    choices += [(f"{paper} at 300 dpi ({sides[0 if landscape else 1]} px wide)", sides[0 if landscape else 1])
                for paper, sides in PAPER.items()]
    seen, offered = set(), []
    for text, width in sorted(choices, key=lambda choice: choice[1]):
        if preview_width < width <= MAX_SIZE and width not in seen:
            seen.add(width)
            offered.append((text, width))
    return offered


def fine_phases(preview_width: int, width: int) -> int:
    """Phases that double up from just above the preview to `width`: the coarser ones are the preview's."""
    return max(1, min(MAX_PHASES, math.ceil(math.log2(width / preview_width) - 1e-9)))


def export_request(document: Document, width: int, brush_scale: float = 1.0) -> PrintJob:
    """The document's print at `width`, from its finished preview. The maps are copies: the painter may go
    on painting while the export runs in its thread."""
    preview = document.result
    params = document.params.replace(size=width)
    request = TransferRequest(style=document.style, style_labels=document.style_ids.copy(),
                              target_labels=document.target_ids.copy(), palette=document.palette.copy(),
                              params=params, content=document.content, label_names=tuple(document.names))
    return PrintJob(request, PrintSettings(working_size=preview.shape[1], brush_scale=brush_scale), preview)


def remote_request(job: PrintJob) -> TransferRequest:
    """For a render server: its optimisation at the print's size, from the preview upscaled, only the phases
    above the preview's size."""
    width = job.request.params.size
    params = job.request.params.replace(init="image", phases=fine_phases(job.working.shape[1], width))
    return dataclasses.replace(job.request, params=params, init_image=job.working)


def expectation(document: Document, width: int, brush_scale: float = 1.0) -> str:
    """What the dialog says before the export starts: its size, memory and time."""
    job = export_request(document, width, brush_scale)
    height = round(document.target_ids.shape[0] * width / document.target_ids.shape[1])
    memory = expected_memory(job.request, job.settings) / 1024 ** 3
    seconds = expected_seconds(job.request)
    time = f"{max(1, round(seconds))} s" if seconds < 90 else f"{round(seconds / 60)} min"
    return f"{width}×{height} px: about {memory:.1f} GB of memory and {time} on a 2-core CPU (less on a GPU)"


@dataclasses.dataclass(frozen=True)
class ExportChoice:
    width: int
    brush_scale: float


class ExportSizeDialog(QDialog):
    """The print's size and brush scale, with the memory and time to expect. A print the painting is too small
    for (at that size and brush scale) is refused here with the engine's own message, before it starts."""

    def __init__(self, parent: QWidget | None, document: Document, settings: QSettings, prints_here: bool = True):
        super().__init__(parent)
        self.document, self.settings, self.prints_here = document, settings, prints_here
        self.setWindowTitle("Export at size")
        preview_width = document.result.shape[1]
        self.sizes = QComboBox()
        landscape = document.target_ids.shape[1] >= document.target_ids.shape[0]
        for text, width in export_widths(preview_width, landscape):
            self.sizes.addItem(text, width)
        self.sizes.setToolTip("The print is copied from the painting's own brush marks, guided by the preview.")
        self.brush_scale = QDoubleSpinBox()
        self.brush_scale.setRange(MIN_BRUSH_SCALE, MAX_BRUSH_SCALE)
        self.brush_scale.setSingleStep(0.25)
        self.brush_scale.setDecimals(2)
        self.brush_scale.setSuffix("×")
        self.brush_scale.setValue(settings.value("export/brush_scale", 1.0, type=float))
        self.brush_scale.setToolTip("Larger values enlarge the painting's brush marks; the painting must be large "
                                    "enough for the print at that scale." if prints_here else
                                    "A render server paints the print with its optimisation at that size: the "
                                    "brush scale applies to prints made on this machine.")
        self.brush_scale.setEnabled(prints_here)
        self.expected = QLabel()
        self.expected.setWordWrap(True)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QFormLayout(self)
        layout.addRow("Size", self.sizes)
        layout.addRow("Brush scale", self.brush_scale)
        layout.addRow("Expect", self.expected)
        layout.addRow(self.buttons)
        self.sizes.currentIndexChanged.connect(self.check)
        self.brush_scale.valueChanged.connect(self.check)
        self.check()

    @property
    def export_button(self):
        return self.buttons.button(QDialogButtonBox.StandardButton.Ok)

    def choice(self) -> ExportChoice | None:
        width = self.sizes.currentData()
        return None if width is None else ExportChoice(width, self.brush_scale.value())

    def check(self) -> None:
        """The expectation for the chosen print, or why it cannot be made; Export only for one that can."""
        choice = self.choice()
        problem = "the preview is as large as the largest print" if choice is None else None
        if choice is not None and self.prints_here:
            job = export_request(self.document, choice.width, choice.brush_scale)
            try:
                check_print_settings(job.request, job.settings)
            except DoodleError as error:
                problem = str(error)
        self.expected.setStyleSheet("color: #d04040" if problem else "")
        self.expected.setText(problem or expectation(self.document, choice.width, choice.brush_scale))
        self.export_button.setEnabled(problem is None)

    def accept(self) -> None:
        self.settings.setValue("export/brush_scale", self.brush_scale.value())
        super().accept()


def ask_export_size(parent: QWidget, document: Document, settings: QSettings,
                    prints_here: bool = True) -> ExportChoice | None:
    """The print's size and brush scale, or None if the painter cancels. `prints_here`: the print pipeline runs
    on this machine (a render server's optimisation has no brush scale)."""
    dialog = ExportSizeDialog(parent, document, settings, prints_here)
    accepted = dialog.exec() == QDialog.DialogCode.Accepted
    dialog.deleteLater()
    return dialog.choice() if accepted else None


class ExportAtSize(QObject):
    """One export at a time; the progress dialog's Cancel stops it and writes nothing."""

    saved = Signal(str)          # the path written
    failed = Signal(str)         # a message for the painter
    encoded = Signal(object)     # the Future of the PNG's bytes, from the encoding thread

    def __init__(self, parent: QWidget):
        super().__init__(parent)
        self.runner = JobRunner(self)
        self.runner.progressed.connect(self._on_progress)
        self.runner.failed.connect(self._on_failure)
        self.encoder = ThreadPoolExecutor(max_workers=1, thread_name_prefix="export-png")
        self.encoding: Future | None = None
        self.encoded.connect(self._write)
        self.dialog: QProgressDialog | None = None
        self.path = ""
        self.request: TransferRequest | None = None
        self.job: PrintJob | None = None
        self.printing = False          # the print pipeline here, not a server's optimisation

    @property
    def busy(self) -> bool:
        return self.runner.busy or self.encoding is not None

    def start(self, job: PrintJob, backend, path: str) -> None:
        """Paint `job` on `backend` (client.LocalBackend or RemoteServer) and save it to `path`: here the print
        pipeline from the preview; a server, which has no print pipeline, runs its optimisation at size."""
        if self.busy:
            raise ValueError("an export is already running: wait for it or cancel it")
        self.job, self.request, self.path = job, job.request, path
        request = job.request
        self.dialog = QProgressDialog(f"Painting {path} at {request.params.size} px…", "Cancel", 0, 1000,
                                      self.parent())
        self.dialog.setWindowTitle("Export at size")
        self.dialog.setWindowModality(Qt.WindowModality.NonModal)     # the painter may go on meanwhile
        self.dialog.setMinimumDuration(0)
        self.dialog.setAutoClose(False)
        self.dialog.setAutoReset(False)
        self.dialog.canceled.connect(self.cancel)
        self.dialog.show()
        print_backend = getattr(backend, "for_print", None)
        self.printing = print_backend is not None
        if self.printing:
            self.runner.start(request, print_backend(job.settings, job.working))
        else:
            self.request = remote_request(job)
            self.runner.start(self.request, backend)

    def cancel(self) -> None:
        self.runner.cancel()                     # whatever still arrives is stale: nothing is written
        self.encoding = None
        self._close_dialog()

    def shutdown(self) -> None:
        """Cancel and wait for the threads: call before the window closes."""
        self.cancel()
        self.runner.shutdown()
        self.encoder.shutdown(wait=True)

    def _on_progress(self, progress: Progress) -> None:
        if self.dialog is not None:
            self.dialog.setValue(round(1000 * progress.fraction))
            left = f", about {progress.eta:.0f} s left" if progress.eta_known and not progress.done else ""
            stage = "copying the painting's marks" if progress.stage == "print" else \
                f"phase {progress.phase}/{progress.phases}"
            self.dialog.setLabelText(f"Painting {self.path} at {self.request.params.size} px: {stage}{left}")
        if progress.done:
            self._save(progress.frame)

    def _save(self, frame: np.ndarray) -> None:
        """Encode the PNG off the GUI thread; _write puts it in place unless the export was cancelled since."""
        if self.dialog is not None:
            self.dialog.setLabelText(f"Writing {self.path}…")
        extra = print_metadata(self.job.request, self.job.settings) if self.printing else {}
        metadata = render_metadata(self.request.params, labels=list(self.request.label_names), **extra)
        self.encoding = self.encoder.submit(encode_png, frame, metadata)
        self.encoding.add_done_callback(self.encoded.emit)

    def _write(self, future: Future) -> None:
        if future is not self.encoding:
            return                               # cancelled while it was encoded: nothing is written
        self.encoding = None
        self._close_dialog()
        try:
            write_atomically(self.path, future.result())
        except (OSError, ValueError) as error:
            self.failed.emit(f"cannot write {self.path}: {getattr(error, 'strerror', None) or error}")
        else:
            self.saved.emit(self.path)

    def _on_failure(self, message: str) -> None:
        self._close_dialog()
        self.failed.emit(message)

    def _close_dialog(self) -> None:
        if self.dialog is not None:
            dialog, self.dialog = self.dialog, None
            dialog.canceled.disconnect(self.cancel)
            dialog.close()
            dialog.deleteLater()
