"""A real doodlepaint server on a free localhost port, in a thread of the test process."""
from __future__ import annotations

import contextlib
import socket
import threading
import time

import torch
import uvicorn

from doodlepaint.server.app import ServerConfig, create_app


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def running_server(encoder, **options):
    """Yields the server's URL; `options` are ServerConfig's fields."""
    options.setdefault("preview_interval", 0.0)
    with running_app(create_app(ServerConfig(torch.device("cpu"), encoder, **options))) as url:
        yield url


@contextlib.contextmanager
def running_app(app):
    """Any ASGI app (a fake server too) on a free localhost port; yields its URL."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, name=f"doodlepaint-server-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the test server did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(30)
        assert not thread.is_alive(), "the test server did not stop"
