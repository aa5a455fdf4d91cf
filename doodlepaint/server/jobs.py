"""Jobs on one device: one runs, the rest wait in a bounded queue; what a painting costs is cached.

The queue lives on the server's event loop; the running job's engine generator runs in a worker thread
and hands each progress event back to the loop, which fans it out to the job's WebSocket listeners.
"""
from __future__ import annotations

import asyncio
import collections
import io
import logging
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch
from PIL import Image

from doodlepaint import wire
from doodlepaint.engine import DoodleError, Progress, TransferRequest, run_transfer
from doodlepaint.engine.export import encode_png, render_metadata
from doodlepaint.engine.labels import LabelMap, fit_map_to_image, style_label_map

log = logging.getLogger(__name__)
LISTENER_BACKLOG = 8        # events a slow listener may fall behind by before its oldest previews are dropped
FRAME_PNG_LEVEL = 1         # previews favour speed over size; the final PNG is compressed as usual


class LruCache:
    """A least-recently-used map bounded by the summed `cost` of its values."""

    def __init__(self, budget: int, cost: Callable[[object], int] = lambda value: 1):
        self.budget, self.cost = budget, cost
        self.items: collections.OrderedDict = collections.OrderedDict()
        self.used = 0
        self.lock = threading.Lock()      # encoders and label maps are filled from worker threads

    def get(self, key):
        with self.lock:
            if key not in self.items:
                return None
            self.items.move_to_end(key)
            return self.items[key]

    def put(self, key, value) -> None:
        with self.lock:
            if key in self.items:
                self.used -= self.cost(self.items.pop(key))
            self.items[key] = value
            self.used += self.cost(value)
            while self.used > self.budget and len(self.items) > 1:
                self.used -= self.cost(self.items.popitem(last=False)[1])

    def __contains__(self, key) -> bool:
        with self.lock:
            return key in self.items


class StyleLabels:
    """The painting's label map, derived once per (painting, map) pair as the CLI derives it."""

    def __init__(self, entries: int = 8):
        self.cache = LruCache(entries)

    def get(self, style_key: tuple[str, str], style: np.ndarray, style_map: np.ndarray) -> LabelMap:
        labels = self.cache.get(style_key)
        if labels is None:
            labels = style_label_map(fit_map_to_image(style_map, style.shape[:2], "the style map"))
            self.cache.put(style_key, labels)
        return labels


@dataclass(eq=False)
class Job:
    """A render on the server. Mutable, and touched only on the event loop (the worker thread posts to it)."""

    request: TransferRequest | None
    inputs: dict
    frames: str = "png"
    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    state: str = "queued"              # queued, running, done, failed, cancelled
    place: int = -1                    # jobs ahead of this one (the running job included); -1 not yet placed
    stop: threading.Event = field(default_factory=threading.Event)
    last: dict | None = None           # the latest progress event, for a listener that joins late
    final: tuple[dict, bytes] | None = None
    result_png: bytes | None = None
    error: str = ""
    listeners: set = field(default_factory=set)

    def status(self) -> dict:
        status = {"type": self.state, "id": self.id, "place": self.place}
        if self.state == "failed":
            status["message"] = self.error
        return status

    def snapshot(self) -> list[tuple[dict, bytes | None]]:
        """What a listener joining now needs to catch up."""
        if self.state == "done" and self.final is not None:
            return [self.final]
        if self.state == "running" and self.last is not None:
            return [(self.last, None)]
        return [(self.status(), None)]

    def publish(self, event: dict, frame: bytes | None = None) -> None:
        for listener in list(self.listeners):
            if listener.full():           # a slow client loses old previews, never the outcome
                listener.get_nowait()
            listener.put_nowait((event, frame))


def progress_event(progress: Progress, frame_format: str) -> tuple[dict, bytes | None]:
    """A Progress as its JSON event (wire.progress_event) and its frame as bytes: PNG, or raw RGB rows
    (width x height x 3)."""
    if progress.frame is None:
        return wire.progress_event(progress), None
    height, width = progress.frame.shape[:2]
    if frame_format == "raw":
        frame = progress.frame.tobytes()
    else:
        encoded = io.BytesIO()
        Image.fromarray(progress.frame).save(encoded, format="PNG", compress_level=FRAME_PNG_LEVEL)
        frame = encoded.getvalue()
    return wire.progress_event(progress, wire.FrameInfo(width=width, height=height, format=frame_format)), frame


class JobQueue:
    """One job at a time on `device`; at most `limit` more waiting, each told its place."""

    def __init__(self, device: torch.device, encoder, limit: int, finished_kept: int = 32,
                 preview_interval: float = 0.25):
        self.device, self.encoder, self.limit = device, encoder, limit
        self.preview_interval = preview_interval
        self.waiting: collections.deque[Job] = collections.deque()
        self.running: Job | None = None
        self.jobs: dict[str, Job] = {}
        self.finished: collections.deque[str] = collections.deque()
        self.finished_kept = finished_kept
        self.wake = asyncio.Event()

    def submit(self, job: Job) -> Job:
        if len(self.waiting) >= self.limit:
            raise QueueFull(f"the server's queue is full ({self.limit} jobs waiting): try again in a moment")
        self.waiting.append(job)
        self.jobs[job.id] = job
        self._update_places()
        self.wake.set()
        return job

    def cancel(self, job: Job) -> None:
        """A waiting job leaves the queue at once, freeing its place; a running one stops at its next step."""
        if job in self.waiting:
            self.waiting.remove(job)
            self._finish(job, "cancelled")
            self._update_places()
        elif job is self.running:
            job.stop.set()

    def _update_places(self) -> None:
        ahead = 1 if self.running is not None else 0
        for place, job in enumerate(self.waiting, start=ahead):
            if job.place != place:
                job.place = place
                job.publish(job.status())

    def _finish(self, job: Job, state: str, error: str = "") -> None:
        job.state, job.error, job.request, job.place = state, error, None, 0
        job.publish(job.final[0] if state == "done" else job.status(), job.final[1] if state == "done" else None)
        self.finished.append(job.id)
        while len(self.finished) > self.finished_kept:
            self.jobs.pop(self.finished.popleft(), None)

    async def run_forever(self) -> None:
        while True:
            while not self.waiting:
                self.wake.clear()
                await self.wake.wait()
            job = self.running = self.waiting.popleft()
            job.state, job.place = "running", 0
            job.publish(job.status())
            self._update_places()
            try:
                state = await asyncio.to_thread(self._render, job, asyncio.get_running_loop())
                self._finish(job, state)
            except DoodleError as error:
                self._finish(job, "failed", str(error))
            except Exception as error:  # noqa: BLE001 - a failed render must reach its client, not stop the queue
                log.exception("job %s failed", job.id)
                self._finish(job, "failed", f"the render failed unexpectedly: {type(error).__name__}: {error}")
            finally:
                self.running = None
                self._update_places()

    def _render(self, job: Job, loop: asyncio.AbstractEventLoop) -> str:
        """In a worker thread: run the engine, post every progress event to the loop."""
        request = job.request
        for progress in run_transfer(request, job.stop.is_set, self.device, self.preview_interval,
                                     encoder=self.encoder):
            event, frame = progress_event(progress, job.frames)
            if progress.done:
                metadata = render_metadata(request.params, inputs=job.inputs, device=str(self.device))
                job.result_png = encode_png(progress.frame, metadata)
                job.final = (event, frame)
                return "done"
            loop.call_soon_threadsafe(_post, job, event, frame)
        return "cancelled"


def _post(job: Job, event: dict, frame: bytes | None) -> None:
    if job.state == "running":
        job.last = {**event, "frame": None}       # a listener joining late gets the step, not the frame
        job.publish(event, frame)


class QueueFull(DoodleError):
    """The queue holds `limit` waiting jobs already."""
