"""The app's remote device: renders on a `doodlepaint serve` machine, as a generator of Progress like the engine's.

No Qt here (httpx for HTTP, websockets for the event stream), so benches and tests drive it directly;
the render thread runs it exactly where it would run the local engine.
"""
from __future__ import annotations

import dataclasses
import hashlib
import io
import urllib.parse
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import httpx
import numpy as np
import websockets
from PIL import Image
from websockets.sync.client import connect

from pydantic import ValidationError

from doodlepaint import wire
from doodlepaint.engine import DoodleError, Progress, TransferRequest
from doodlepaint.engine.transfer import output_size
from doodlepaint.wire import is_loopback

POLL_SECONDS = 0.05          # how often a waiting render checks for cancel
CHECK_SECONDS = 5.0          # a connection check waits less than a render's requests: the painter is waiting
TOKEN_PROBE = "/jobs/connection-check"   # no such job: the right token gets 404, a wrong one 401
UPLOAD_PNG_LEVEL = 1         # the doodle is re-sent on every stroke: fast beats small
MESSAGE_SLACK = 64 * 1024    # bytes a stream message may hold beyond the largest frame the job can send


def _png(rgb: np.ndarray) -> bytes:
    encoded = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(rgb)).save(encoded, format="PNG", compress_level=UPLOAD_PNG_LEVEL)
    return encoded.getvalue()


def largest_message(width: int, height: int) -> int:
    """The most bytes one stream message of a width x height render can need: a raw frame, or a PNG of it
    (level 1 deflate of incompressible rows adds a filter byte per row and a few bytes per block)."""
    raw = width * height * 3
    return raw + height + raw // 1000 + MESSAGE_SLACK


def decode_frame(frame: dict, data: bytes, largest: tuple[int, int], server: str = "the server") -> np.ndarray:
    """A frame as RGB, refused unless it fits the render asked for (`largest`: its width and height) and is
    the size its event says; a PNG's size is read from its header before any pixel is decoded."""
    width, height = frame["width"], frame["height"]
    if width > largest[0] or height > largest[1]:
        raise DoodleError(f"{server} sent a {width}x{height} frame for a {largest[0]}x{largest[1]} render: refused")
    if frame["format"] == "raw":
        if len(data) != width * height * 3:
            raise DoodleError(f"{server} sent {len(data)} bytes for a {width}x{height} raw frame: refused")
        return np.frombuffer(data, np.uint8).reshape(height, width, 3).copy()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)      # the size check says it better
            image = Image.open(io.BytesIO(data), formats=("PNG",))
        with image:
            if image.size != (width, height):
                raise DoodleError(f"{server} sent a {image.width}x{image.height} picture as a {width}x{height} "
                                  "frame: refused")
            return np.asarray(image.convert("RGB"), dtype=np.uint8).copy()
    except DoodleError:
        raise
    except (OSError, ValueError, SyntaxError, EOFError, Image.DecompressionBombError) as error:
        raise DoodleError(f"{server} sent a frame that is not a readable PNG ({error})") from error


def _refused(error: BaseException) -> bool:
    """Whether nothing listens at the address (the machine answered, the port is closed): the OS error sits a
    few causes down httpx's exception."""
    while error is not None:
        if isinstance(error, ConnectionRefusedError):
            return True
        error = error.__cause__ or error.__context__
    return False


def waiting(message: str) -> Progress:
    """A render still in the server's queue: no phases yet, only a message for the status bar."""
    return Progress(phase=0, phases=0, step=0, steps=0, total_step=0, total_steps=0, loss=0.0, elapsed=0.0,
                    eta=0.0, message=message)


@dataclass(frozen=True)
class RemoteServer:
    url: str                        # http://host:port or https://... behind a reverse proxy
    token: str | None = None
    timeout: float = 10.0           # seconds an HTTP request or a silent event stream may take
    frames: str = ""                # previews as "png" (small) or "raw" RGB (no encoding: sooner on a loaded CPU,
                                    # BENCHMARKS.md); unset: raw from this machine's own server, PNG over a network

    def __post_init__(self):
        parts = urllib.parse.urlsplit(self.url)
        try:
            parts.port                  # parsed on reading: "host:8765http:" is no port
            valid = parts.scheme in ("http", "https") and bool(parts.hostname) and not parts.query
        except ValueError:
            valid = False
        if not valid:
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
            reason = "connection refused" if _refused(error) else error
            raise DoodleError(f"cannot reach the doodlepaint server at {self.name}: is `doodlepaint serve` running "
                              f"there? ({reason})") from error

    def health(self) -> dict:
        with self._client() as http:
            return self._check(self._call(lambda: http.get("/health")))

    def check_connection(self) -> wire.Health:
        """Whether a doodlepaint server answers at this address and takes this token: its /health, then, if it
        needs a token, a request that needs one (every route but /health checks the token before anything
        else). Raises DoodleError saying which: nothing answers, no answer in time, not a doodlepaint server,
        a token needed or refused."""
        quick = dataclasses.replace(self, timeout=min(self.timeout, CHECK_SECONDS))
        with quick._client() as http:
            health = quick._read_health(quick._call(lambda: http.get("/health")))
            if health.token_required and not self.token:
                raise DoodleError(f"the server at {self.name} needs a token: give the one in its --token-file")
            if health.token_required and quick._call(lambda: http.get(TOKEN_PROBE)).status_code == 401:
                raise DoodleError(f"the server at {self.name} refused the token: check it against the server's "
                                  "--token-file")
        return health

    def _read_health(self, response: httpx.Response) -> wire.Health:
        host = urllib.parse.urlsplit(self.url).hostname
        if response.status_code == 400 and "invalid host" in response.text.lower():
            raise DoodleError(f"the server at {self.name} does not answer to the name {host}: start it with "
                              f"--allow-host {host}")
        try:
            if response.is_success:
                return wire.Health.model_validate(response.json())
        except (ValueError, ValidationError):
            pass
        raise DoodleError(f"{self.url} answers, but not as a doodlepaint server (GET /health: "
                          f"{response.status_code} {response.reason_phrase})")

    def _spec(self, request: TransferRequest) -> tuple[dict, dict[str, bytes]]:
        images = {"style": _png(request.style), "style_map": _png(request.palette[request.style_labels]),
                  "target_map": _png(request.palette[request.target_labels])}
        if request.content is not None:
            images["content"] = _png(request.content)
        if request.init_image is not None:
            images["init_image"] = _png(request.init_image)
        digests = {role: hashlib.sha256(data).hexdigest() for role, data in images.items()}
        spec = wire.job_spec(request.params, digests, self.frames)
        return spec, {digests[role]: data for role, data in images.items()}

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
        largest = output_size(request)
        with self._client() as http:
            job = self._submit(http, spec, uploads)
            yield {"type": "submitted", **job}, None
            finished = False
            try:
                ws_url = urllib.parse.urlsplit(self.url)._replace(
                    scheme="wss" if self.url.startswith("https") else "ws", path=f"/jobs/{job['id']}/events")
                with connect(urllib.parse.urlunsplit(ws_url), additional_headers=self._headers(),
                             open_timeout=self.timeout, max_size=largest_message(*largest)) as stream:
                    while not should_stop():
                        try:
                            message = stream.recv(timeout=POLL_SECONDS)
                        except TimeoutError:
                            continue
                        event = self._read_event(message)
                        frame = None
                        if event.get("frame") is not None:
                            frame = decode_frame(event["frame"], stream.recv(timeout=self.timeout), largest,
                                                 f"the server at {self.name}")
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
            except websockets.ConnectionClosed as error:
                if error.sent is not None and error.sent.code == 1009:     # this side's max_size refused it
                    raise DoodleError(f"the server at {self.name} sent a message over "
                                      f"{largest_message(*largest)} bytes, more than a {largest[0]}x{largest[1]} "
                                      "render needs: refused") from error
                raise DoodleError(f"the server at {self.name} went away mid-render ({error}); the painting is "
                                  "untouched") from error
            except (websockets.InvalidHandshake, OSError, TimeoutError) as error:
                raise DoodleError(f"the server at {self.name} went away mid-render ({error}); the painting is "
                                  "untouched") from error
            finally:
                if not finished:          # stopped, or the stream broke: free the job's place if the server lives
                    try:
                        http.delete(f"/jobs/{job['id']}", timeout=min(self.timeout, 2.0))
                    except httpx.HTTPError:
                        pass

    def _read_event(self, message: str | bytes) -> dict:
        if not isinstance(message, str):
            raise DoodleError(f"the server at {self.name} sent a frame where an event belongs: refused")
        try:
            return wire.read_event(message)
        except ValidationError as error:
            raise DoodleError(f"the server at {self.name} sent an event doodlepaint does not know "
                              f"({wire.first_error(error, 'event')}): refused") from error

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
                yield wire.progress_from_event(event, frame, f"Rendering on {where}")
