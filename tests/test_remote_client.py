"""The app's remote client against a hostile server: it refuses what no render it asked for could send."""
from __future__ import annotations

import io
import struct
import zlib

import pytest
from fastapi import FastAPI, WebSocket
from PIL import Image

from doodlepaint import wire
from doodlepaint.engine import DoodleError, Progress
from doodlepaint.client.remote import RemoteServer, largest_message

from doubles import TinyEncoder
from server_helpers import running_app, running_server


def _fake_server(messages) -> FastAPI:
    """Accepts any job, then streams `messages` (text events and binary frames) over its WebSocket."""
    app = FastAPI()

    @app.post("/jobs", status_code=202)
    async def submit():
        return {"id": "job", "place": 0, "device": "cpu", "device_name": "Hostile", "warnings": []}

    @app.delete("/jobs/job")
    async def cancel():
        return {"type": "cancelled", "id": "job", "place": 0}

    @app.websocket("/jobs/job/events")
    async def events(websocket: WebSocket):
        await websocket.accept()
        for message in messages:
            if isinstance(message, bytes):
                await websocket.send_bytes(message)
            else:
                await websocket.send_json(message)
        await websocket.close()

    return app


def _progress(width: int, height: int, frame_format: str = "png", done: bool = False) -> dict:
    progress = Progress(phase=1, phases=1, step=1, steps=1, total_step=1, total_steps=1, loss=0.0, elapsed=0.1,
                        eta=0.0, done=done, fraction=1.0 if done else 0.5)
    return wire.progress_event(progress, wire.FrameInfo(width=width, height=height, format=frame_format))


def _png(width: int, height: int) -> bytes:
    encoded = io.BytesIO()
    Image.new("RGB", (width, height), (10, 20, 30)).save(encoded, format="PNG")
    return encoded.getvalue()


def _png_claiming(width: int, height: int) -> bytes:
    """A few hundred bytes whose header says width x height: a decompression bomb's opening."""
    data = bytearray(_png(32, 32))
    ihdr = data[12:29]                                   # chunk type + 13 data bytes
    ihdr[4:12] = struct.pack(">II", width, height)
    data[12:29] = ihdr
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(ihdr)))
    return bytes(data)


@pytest.fixture
def request32(tiny_document):
    tiny_document.params = tiny_document.params.replace(size=32, phases=1, iterations=2)
    return tiny_document.request()


def _render(messages, request):
    with running_app(_fake_server(messages)) as url:
        return list(RemoteServer(url, frames="png", timeout=5).run_transfer(request))


def test_an_honest_frame_is_taken(request32):
    steps = _render([_progress(16, 16), _png(16, 16), _progress(32, 32, done=True), _png(32, 32)], request32)
    assert steps[-1].done and steps[-1].frame.shape == (32, 32, 3) and (steps[-1].frame == (10, 20, 30)).all()


def test_a_frame_larger_than_the_render_is_refused_before_decoding(request32):
    with pytest.raises(DoodleError, match="20000x20000 frame for a 32x32 render"):
        _render([_progress(20000, 20000), _png_claiming(20000, 20000)], request32)


def test_a_png_bigger_than_its_event_says_is_refused_from_its_header(request32):
    bomb = _png_claiming(20000, 20000)
    assert len(bomb) < 1000
    with pytest.raises(DoodleError, match="20000x20000 picture as a 32x32 frame"):
        _render([_progress(32, 32), bomb], request32)


def test_a_raw_frame_of_the_wrong_length_is_refused(request32):
    with pytest.raises(DoodleError, match="bytes for a 32x32 raw frame"):
        _render([_progress(32, 32, "raw"), b"\0" * (32 * 32 * 3 + 1)], request32)


def test_a_message_over_the_cap_is_refused(request32):
    too_big = largest_message(32, 32) + 1
    with pytest.raises(DoodleError, match="sent a message over"):
        _render([_progress(32, 32), b"\0" * too_big], request32)


def test_an_event_that_is_not_doodlepaints_is_refused(request32):
    with pytest.raises(DoodleError, match="does not know"):
        _render([{**_progress(32, 32), "phase": "1"}], request32)
    with pytest.raises(DoodleError, match="a frame where an event belongs"):
        _render([_png(32, 32)], request32)
    with pytest.raises(DoodleError, match="not a readable PNG"):
        _render([_progress(32, 32), b"GIF89a not a png"], request32)


def test_a_health_answer_that_is_not_doodlepaints_is_not_a_server():
    app = FastAPI()

    @app.get("/health")
    async def health():
        return {"status": "ok"}                     # another service's health check

    with running_app(app) as url:
        with pytest.raises(DoodleError, match="answers, but not as a doodlepaint server"):
            RemoteServer(url).check_connection()


def test_a_server_that_does_not_answer_to_the_name_says_which_to_allow():
    with running_server(TinyEncoder(), allowed_hosts=("paint.example.com",)) as url:
        with pytest.raises(DoodleError, match="does not answer to the name 127.0.0.1: start it with --allow-host "
                                              "127.0.0.1"):
            RemoteServer(url).check_connection()
