"""What a render shows and when: the instant picture first, then the optimisation refining it.

Every render in the app opens with the instant (patch-swap) picture when the decoder is installed, so the
first frame comes in a fraction of a second. In Live mode each stroke or setting change renders only the
instant picture (debounced); when the artist pauses, the optimisation refines that picture with the
shortened `refinement` schedule instead of starting again from noise. The Result view always says what it
shows: the instant picture, a refinement in progress, a finished render, or a stale one.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from PySide6.QtCore import QObject, QTimer, Signal

from doodlepaint.engine import DoodleError, TransferRequest
from doodlepaint.engine.methods import method_info
from doodlepaint.engine.params import PRESETS, refinement

LIVE_DELAY_MS = 250        # a stroke's instant picture starts this long after the last edit
REFINE_DELAY_MS = 1000     # the refinement starts when the artist has paused this long


def instant_available() -> str | None:
    """None if the instant decoder loads, else why not (the optimisation methods still work)."""
    from doodlepaint.engine import swap

    try:
        swap.get_decoder(swap.SWAP_LAYER)
    except DoodleError as error:
        return str(error)
    return None


@dataclass(frozen=True)
class ResultState:
    """What the Result view shows, in the painter's words."""

    kind: str          # "empty", "instant", "rendering", "refining", "done", "stale", "failed"
    text: str


def seeded_request(request: TransferRequest, instant_ok: bool) -> TransferRequest:
    """An optimisation that opens with the instant picture (its first frame) when it can."""
    params = request.params
    if instant_ok and method_info(params.method).refinable and params.init == "auto" and request.content is None:
        return dataclasses.replace(request, params=params.replace(init="instant"))
    return request


def instant_request(request: TransferRequest) -> TransferRequest:
    return dataclasses.replace(request, params=request.params.replace(method=PRESETS["Instant"].method))


def refine_request(request: TransferRequest, instant_frame) -> TransferRequest:
    """The user's method, shortened, starting from the instant picture already on screen."""
    params = refinement(request.params).replace(init="image")
    return dataclasses.replace(request, params=params, init_image=instant_frame)


class LivePreview(QObject):
    """Schedules Live mode's instant renders and refinements; `start` is called with the request to run."""

    start = Signal(object, str)        # TransferRequest, stage: "instant", "refining" or "render"

    def __init__(self, request_source, parent=None):
        super().__init__(parent)
        self.request_source = request_source          # () -> TransferRequest of the current document
        self.enabled = False
        self.instant_error: str | None = None
        self._instant_checked = False
        self.instant_timer = QTimer(self, singleShot=True, interval=LIVE_DELAY_MS, timeout=self._run_instant)
        self.refine_timer = QTimer(self, singleShot=True, interval=REFINE_DELAY_MS, timeout=self._run_refinement)
        self._instant_frame = None
        self._instant_request: TransferRequest | None = None

    @property
    def instant_ok(self) -> bool:
        if not self._instant_checked:
            self.instant_error, self._instant_checked = instant_available(), True
        return self.instant_error is None

    def set_enabled(self, enabled: bool) -> None:
        self.enabled = enabled
        if enabled:
            self.edited()
        else:
            self.stop()

    def edited(self) -> None:
        """The doodle, the painting or a setting changed."""
        self.refine_timer.stop()
        self._instant_frame = None
        if self.enabled:
            self.instant_timer.start()

    def stop(self) -> None:
        self.instant_timer.stop()
        self.refine_timer.stop()

    def render_now(self) -> None:
        """The Render button: the whole preset, opening with the instant picture."""
        self.stop()
        self.start.emit(seeded_request(self.request_source(), self.instant_ok), "render")

    def _run_instant(self) -> None:
        request = self.request_source()
        if not self.instant_ok:          # no decoder: Live falls back to full renders, as before
            self.start.emit(request, "render")
            return
        self._instant_request = request
        one_pass = request if method_info(request.params.method).one_pass else instant_request(request)
        self.start.emit(one_pass, "instant")

    def instant_finished(self, frame) -> None:
        """The instant picture is on screen: refine it once the artist has paused."""
        if self.enabled and self._instant_request is not None and \
                method_info(self._instant_request.params.method).refinable:
            self._instant_frame = frame
            self.refine_timer.start()

    def _run_refinement(self) -> None:
        if self._instant_frame is None or self._instant_request is None:
            return
        self.start.emit(refine_request(self._instant_request, self._instant_frame), "refining")
