"""The app's remote device: renders on a `doodlepaint serve` machine, as a generator of Progress like the engine's.

No Qt here (httpx for HTTP, websockets for the event stream), so benches and tests drive it directly;
the render thread runs it exactly where it would run the local engine.
"""
from __future__ import annotations

import hashlib
import io
import json
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import httpx
import numpy as np
import websockets
from PIL import Image
from websockets.sync.client import connect

from doodlepaint.cli import TUNABLE
from doodlepaint.engine import DoodleError, Progress, TransferParams, TransferRequest
from doodlepaint.server.serve import is_loopback

POLL_SECONDS = 0.05          # how often a waiting render checks for cancel
UPLOAD_PNG_LEVEL = 1         # the doodle is re-sent on every stroke: fast beats small


def _png(rgb: np.ndarray) -> bytes:
    encoded = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(rgb)).save(encoded, format="PNG", compress_level=UPLOAD_PNG_LEVEL)
    return encoded.getvalue()


def decode_frame(event: dict, data: bytes) -> np.ndarray:
    frame = event["frame"]
    if frame["format"] == "raw":
        return np.frombuffer(data, np.uint8).reshape(frame["height"], frame["width"], 3).copy()
    with Image.open(io.BytesIO(data)) as image:
        return np.asarray(image.convert("RGB"), dtype=np.uint8).copy()


def progress_from_event(event: dict, frame: np.ndarray | None, message: str = "") -> Progress:
    fields = {name: event[name] for name in ("phase", "phases", "step", "steps", "total_step", "total_steps", "loss",
                                             "elapsed", "eta", "done", "peak_memory", "evaluations", "fraction")}
    return Progress(**fields, frame=frame, message=event["message"] or message,
                    phase_seconds=tuple(event["phase_seconds"]))


def waiting(message: str) -> Progress:
    """A render still in the server's queue: no phases yet, only a message for the status bar."""
    return Progress(phase=0, phases=0, step=0, steps=0, total_step=0, total_steps=0, loss=0.0, elapsed=0.0,
                    eta=0.0, message=message)


@dataclass(frozen=True)
class RemoteServer:
    url: str                        # http://host:port or https://... behind a reverse proxy
    token: str | None = None
    timeout: float = 10.0           # seconds an HTTP request or a silent event stream may take
    frames: str = ""                # previews as "png" (small) or "raw" RGB (no encoding, ~10 ms sooner on a
                                    # loaded CPU); unset: raw from this machine's own server, PNG over a network

    def __post_init__(self):
        parts = urllib.parse.urlsplit(self.url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise DoodleError(f"{self.url!r} is not a server address: write it like http://studio-pc:8765")
        if not self.frames:
            object.__setattr__(self, "frames", "raw" if is_loopback(parts.hostname) else "png")

    @property
    def name(self) -> str:
        return urllib.parse.urlsplit(self.url).netloc

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    def _client(self) -> httpx.Client:
        return httpx.Client(base_url=self.url.rstrip("/"), headers=self._headers(), timeout=self.timeout)

    def _check(self, response: httpx.Response) -> dict:
        if response.is_success:
            return response.json()
        try:
            detail = response.json().get("detail", response.text)
        except ValueError:
            detail = response.text.strip()[:200] or response.reason_phrase
        if response.status_code == 401:
            raise DoodleError(f"the server at {self.name} refused the token ({detail}): check Render → Remote Server…")
        raise DoodleError(f"the server at {self.name} refused the render: {detail}")

    def _call(self, send: Callable[[], httpx.Response]) -> httpx.Response:
        try:
            return send()
        except httpx.TimeoutException as error:
            raise DoodleError(f"the server at {self.name} did not answer within {self.timeout:g} s") from error
        except httpx.TransportError as error:
            raise DoodleError(f"cannot reach the doodlepaint server at {self.name}: is `doodlepaint serve` running "
                              f"there? ({error})") from error

    def health(self) -> dict:
        with self._client() as http:
            return self._check(self._call(lambda: http.get("/health")))

    def _spec(self, request: TransferRequest) -> tuple[dict, dict[str, bytes]]:
        params = request.params
        if params.init == "instant":    # the server's job takes the CLI's options: it seeds from the label colours
            params = params.replace(init="auto")
        if params.smoothness != TransferParams.smoothness or params.init not in ("auto", "image"):
            raise DoodleError("a remote server renders with the command line's settings: smoothness and the "
                              "start image cannot be changed there")
        images = {"style": _png(request.style), "style_map": _png(request.palette[request.style_labels]),
                  "target_map": _png(request.palette[request.target_labels])}
        if request.content is not None:
            images["content"] = _png(request.content)
        if request.init_image is not None:
            images["init"] = _png(request.init_image)
        spec = {role: hashlib.sha256(data).hexdigest() for role, data in images.items()}
        spec.update({name: getattr(params, name) for name in TUNABLE}, size=params.size, frames=self.frames)
        return spec, {spec[role]: data for role, data in images.items()}

    def _submit(self, http: httpx.Client, spec: dict, uploads: dict[str, bytes]) -> dict:
        """POST the job; upload what the server lacks (first time, or evicted) and POST again."""
        response = self._call(lambda: http.post("/jobs", json=spec))
        if response.status_code == 409 and "missing" in response.json():
            for digest in response.json()["missing"]:
                self._check(self._call(lambda: http.put(f"/images/{digest}", content=uploads[digest])))
            response = self._call(lambda: http.post("/jobs", json=spec))
        return self._check(response)

    def events(self, request: TransferRequest,
               should_stop: Callable[[], bool] | None = None) -> Iterator[tuple[dict, np.ndarray | None]]:
        """The job's events as the server sends them (JSON, and the decoded frame), until done.
        Raises DoodleError if the server fails, refuses, or goes away; cancels the job if stopped."""
        should_stop = should_stop or (lambda: False)
        spec, uploads = self._spec(request)
        with self._client() as http:
            job = self._submit(http, spec, uploads)
            yield {"type": "submitted", **job}, None
            finished = False
            try:
                ws_url = urllib.parse.urlsplit(self.url)._replace(
                    scheme="wss" if self.url.startswith("https") else "ws", path=f"/jobs/{job['id']}/events")
                with connect(urllib.parse.urlunsplit(ws_url), additional_headers=self._headers(),
                             open_timeout=self.timeout, max_size=None) as stream:
                    while not should_stop():
                        try:
                            event = json.loads(stream.recv(timeout=POLL_SECONDS))
                        except TimeoutError:
                            continue
                        frame = decode_frame(event, stream.recv(timeout=self.timeout)) if "frame" in event else None
                        if event["type"] == "failed":
                            finished = True
                            raise DoodleError(f"the render failed on {self.name}: {event['message']}")
                        if event["type"] == "cancelled":
                            finished = True
                            raise DoodleError(f"the render was cancelled on {self.name}")
                        finished = bool(event.get("done"))
                        yield event, frame
                        if finished:
                            return
            except (websockets.ConnectionClosed, websockets.InvalidHandshake, OSError, TimeoutError) as error:
                raise DoodleError(f"the server at {self.name} went away mid-render ({error}); the painting is "
                                  "untouched") from error
            finally:
                if not finished:          # stopped, or the stream broke: free the job's place if the server lives
                    try:
                        http.delete(f"/jobs/{job['id']}", timeout=min(self.timeout, 2.0))
                    except httpx.HTTPError:
                        pass

    def run_transfer(self, request: TransferRequest, should_stop: Callable[[], bool] | None = None) -> Iterator[Progress]:
        """The engine's `run_transfer`, computed on the server: waiting places, then one Progress per step."""
        where = ""
        for event, frame in self.events(request, should_stop):
            if event["type"] == "submitted":
                where = f"{event['device_name']} at {self.name}"
                for note in event["warnings"]:
                    yield waiting(note)
            elif event["type"] == "queued" and event["place"] > 0:
                yield waiting(f"Waiting for {where}: {event['place']} job(s) ahead in its queue")
            elif event["type"] == "progress":
                yield progress_from_event(event, frame, f"Rendering on {where}")
